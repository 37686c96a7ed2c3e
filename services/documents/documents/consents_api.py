"""Consents and releases of information."""
from __future__ import annotations

from servicekit.errors import EXPECTED, NotFound
from servicekit.rpc import rpc

from documents import consent_templates, consents, consents_pdf, part2, schemas
from documents.storage import download


class ConsentsApi:

    @rpc(expected_exceptions=EXPECTED)
    def list_consent_templates(self):
        """[{key, title, kind: consent | release, version}]."""
        return consent_templates.listing()

    @rpc(expected_exceptions=EXPECTED)
    def request_consent(self, client_id, template_key, by, request_key=None, contact=None):
        """A consent for the client to sign, its text fixed now -> CONSENT.
        A release needs `contact` {id, name, may_receive, until, purpose?}.
        Emits ConsentRequested."""
        consent = consents.request(self.db, schemas.identifier("client_id", client_id),
                                   template_key, schemas.by(by), schemas.request_key(request_key),
                                   contact)
        return consents.consent_out(consent)

    @rpc(expected_exceptions=EXPECTED)
    def list_consents(self, client_id):
        """Outstanding first, then signed and withdrawn, newest first."""
        rows = consents.list_consents(self.db, schemas.identifier("client_id", client_id))
        return [consents.consent_out(row) for row in rows]

    @rpc(expected_exceptions=EXPECTED)
    def get_consent(self, consent_id, client_id=None):
        """CONSENT + text + signature {typed_name, method, signed_at, ip,
        user_agent, sha256, verified} | None."""
        consent = consents.get(self.db, schemas.identifier("consent_id", consent_id),
                               schemas.optional_client(client_id))
        signature = consents.signature_of(self.db, consent)
        shown = consents.consent_out(consent)
        shown.update(text=consent.text,
                     signature=consents.signature_out(self.storage, consent, signature))
        return shown

    @rpc(expected_exceptions=EXPECTED)
    def sign_consent(self, consent_id, client_id, signature, by, ip=None, user_agent=None):
        """Sign once: typed name required, drawing (PNG data URL) optional ->
        CONSENT; Conflict when signed or withdrawn. Emits ConsentSigned."""
        consent = consents.sign(self.db, self.storage,
                                schemas.identifier("consent_id", consent_id),
                                schemas.optional_client(client_id), signature, schemas.by(by),
                                ip, user_agent)
        return consents.consent_out(consent)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_consent(self, consent_id, client_id, by):
        """Withdraw (a release: the contact's access ends) -> CONSENT.
        client_id None for staff. Emits ConsentRevoked."""
        consent = consents.revoke(self.db, schemas.identifier("consent_id", consent_id),
                                  schemas.optional_client(client_id), schemas.by(by))
        return consents.consent_out(consent)

    @rpc(expected_exceptions=EXPECTED)
    def open_signed_consent(self, consent_id, client_id=None):
        """DOWNLOAD of the signed copy as a PDF (bytes: it is rendered now)."""
        consent = consents.get(self.db, schemas.identifier("consent_id", consent_id),
                               schemas.optional_client(client_id))
        signature = consents.signature_of(self.db, consent)
        if signature is None:
            raise NotFound("This consent has not been signed yet.")
        self.db.commit()            # end the read: nothing held while the PDF renders
        drawing = self.storage.get(signature.drawing_key) if signature.drawing_key else None
        verified = consents.verified(self.storage, consent, signature)
        data = consents_pdf.render(consent, signature, drawing, verified)
        return download(consents_pdf.filename(consent), "application/pdf", data=data)

    @rpc(expected_exceptions=EXPECTED)
    def part2_notice(self):
        """The 42 CFR § 2.32 notice every disclosure carries."""
        return part2.NOTICE
