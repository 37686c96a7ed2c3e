"""Consents: staff request one from a template (the text fixed then), the
patient signs it once (typed name, optionally drawn), a release is revoked
once. Events go through the outbox in the same transaction as the change.

Signing, in an order that never holds the consent's row lock across the
object store: check the signature, read the consent (its text never
changes), build the signed document and put it (and the drawing) in the
object store, then lock the row, check it is still outstanding, insert the
signature, mark the consent signed, record ConsentSigned, commit. Of two
signings at once exactly one wins; the other gets Conflict and its objects
are deleted (best effort: an orphan holds no row and nobody can reach it)."""
from __future__ import annotations

import logging

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit import clock
from servicekit.db import iso, utcnow
from servicekit.errors import Conflict, InvalidFields, NotFound, ServiceUnavailable
from servicekit.outbox import record_event

from documents import consent_templates, consents_domain, domain, library, schemas
from documents.models_consents import Consent, ConsentSignature
from documents.models_forms import FormAssignment
from documents.storage import new_key

log = logging.getLogger(__name__)
SOURCE = "documents"
NOT_FOUND = "We could not find that consent."
OUTSTANDING, SIGNED, REVOKED = "outstanding", "signed", "revoked"
ALREADY_SIGNED = "This consent is already signed."
WAS_REVOKED = "This consent was withdrawn; it can no longer be signed."
DOCUMENT_TYPE = "text/plain; charset=utf-8"


def _event_base(consent: Consent) -> dict:
    data = {"consent_id": consent.id, "client_id": consent.client_id, "kind": consent.kind}
    if consent.contact_id:
        data["contact_id"] = consent.contact_id
    return data


def request(session: Session, client_id: str, template_key, by: schemas.By,
            request_key: str | None, contact=None) -> Consent:
    template = consent_templates.get(template_key)
    # a patient may ask for a release of information for a contact they add
    # (the portal then takes them to sign it); every other consent is staff's
    if by.kind != "staff" and (template is None or template.kind != consent_templates.RELEASE):
        library.staff_only(by)
    if template is None:
        raise InvalidFields({"template_key": "Choose a consent from the list."})
    if request_key:
        earlier = _by_request_key(session, request_key, client_id)
        if earlier is not None:
            return earlier
    person = None
    if template.kind == consent_templates.RELEASE:
        person = consents_domain.contact_input(contact, clock.today())
    consent = Consent(
        id=domain.new_id("cns"), client_id=client_id, template_key=template.key,
        template_version=template.version, title=template.title, kind=template.kind,
        text=consent_templates.render(template, person), status=OUTSTANDING,
        request_key=request_key, requested_at=utcnow(), requested_by_kind=by.kind,
        requested_by_id=by.id, requested_by_name=by.name,
        contact_id=person["id"] if person else None, contact_name=person["name"] if person else None,
        contact_may_receive=person["may_receive"] if person else None,
        contact_until=person["until"] if person else None)
    session.add(consent)
    if by.kind == "staff":   # the patient who asked is on the page that signs it: no email
        record_event(session, SOURCE, "ConsentRequested", {**_event_base(consent),
                                                            "requested_by": by.id})
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        earlier = _by_request_key(session, request_key, client_id) if request_key else None
        if earlier is None:
            raise
        return earlier
    log.info("consent %s requested (%s)", consent.id, template.key)
    return consent


def _by_request_key(session: Session, request_key: str, client_id: str) -> Consent | None:
    earlier = session.scalar(select(Consent).where(Consent.request_key == request_key))
    if earlier is not None and earlier.client_id != client_id:
        raise Conflict("This consent was already requested.")
    return earlier


def get(session: Session, consent_id: str, client_id: str | None, lock: bool = False) -> Consent:
    query = select(Consent).where(Consent.id == consent_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    consent = session.scalars(query).first()
    if consent is None or (client_id is not None and consent.client_id != client_id):
        raise NotFound(NOT_FOUND)
    return consent


def list_consents(session: Session, client_id: str) -> list[Consent]:
    """Outstanding first (oldest first), then the rest, newest first."""
    rows = session.scalars(select(Consent).where(Consent.client_id == client_id)
                           .order_by(Consent.requested_at, Consent.id)).all()
    return [c for c in rows if c.status == OUTSTANDING] + \
        [c for c in reversed(rows) if c.status != OUTSTANDING]


def _refuse_unless_outstanding(consent: Consent) -> None:
    if consent.status == SIGNED:
        raise Conflict(ALREADY_SIGNED)
    if consent.status == REVOKED:
        raise Conflict(WAS_REVOKED)


def sign(session: Session, storage, consent_id: str, client_id: str | None, signature,
         by: schemas.By, ip, user_agent) -> Consent:
    checked = consents_domain.signature_input(signature)
    consent = get(session, consent_id, client_id)
    _refuse_unless_outstanding(consent)
    fixed = dict(consent_id=consent.id, client_id=consent.client_id, title=consent.title,
                 template_key=consent.template_key, template_version=consent.template_version,
                 text=consent.text)         # never changes once requested
    session.rollback()                      # no transaction open across the object store

    now = utcnow()
    ip, user_agent = consents_domain.one_line(ip, 64), consents_domain.one_line(user_agent, 500)
    drawing_sha = consents_domain.sha256(checked.drawing) if checked.drawing else None
    document = consents_domain.signed_document(
        **fixed, signer_kind=by.kind, signer_id=by.id, signer_name=by.name,
        typed_name=checked.typed_name, method=checked.method, signed_at=now, ip=ip,
        user_agent=user_agent, drawing_sha256=drawing_sha)
    digest = consents_domain.sha256(document)
    document_key, drawing_key = new_key("consents"), new_key("consents") if checked.drawing else None
    stored = []
    try:
        storage.put(document_key, document, DOCUMENT_TYPE)
        stored.append(document_key)
        if drawing_key:
            storage.put(drawing_key, checked.drawing, "image/png")
            stored.append(drawing_key)

        consent = get(session, consent_id, client_id, lock=True)   # the signings take turns here
        _refuse_unless_outstanding(consent)
        if consent.text != fixed["text"]:       # pragma: no cover - the trigger forbids it
            raise Conflict("This consent changed; open it again.")
        session.add(ConsentSignature(
            consent_id=consent.id, typed_name=checked.typed_name, method=checked.method,
            signed_at=now, signer_kind=by.kind, signer_id=by.id, signer_name=by.name, ip=ip,
            user_agent=user_agent, drawing_sha256=drawing_sha, drawing_key=drawing_key,
            document=document.decode("utf-8"), document_key=document_key, sha256=digest))
        consent.status, consent.signed_at, consent.signer_name = SIGNED, now, checked.typed_name
        terms = {}
        if consent.contact_may_receive:   # a release: the terms its signed text grants
            terms["may_receive"] = consent.contact_may_receive
        if consent.contact_until:
            terms["until"] = consent.contact_until.isoformat()
        record_event(session, SOURCE, "ConsentSigned", {**_event_base(consent),
                                                         "signed_at": iso(now), "sha256": digest,
                                                         **terms})
        session.commit()
    except Exception:
        session.rollback()
        for key in stored:
            _forget(storage, key)
        raise
    log.info("consent %s signed (%s)", consent.id, checked.method)
    return consent


def _forget(storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:
        log.warning("could not delete the object of a signature that was not saved")


def revoke(session: Session, consent_id: str, client_id: str | None, by: schemas.By) -> Consent:
    """Withdraw a consent (a release above all: the contact's access ends
    when clients handles ConsentRevoked). Once only."""
    consent = get(session, consent_id, client_id, lock=True)
    if by.kind != "staff" and consent.kind != consent_templates.RELEASE:
        session.rollback()   # a patient withdraws only a release; other consents are staff's
        library.staff_only(by)
    if consent.status == REVOKED:
        session.rollback()
        raise Conflict("This consent was already withdrawn.")
    now = utcnow()
    consent.status, consent.revoked_at = REVOKED, now
    consent.revoked_by_kind, consent.revoked_by_name = by.kind, by.name
    record_event(session, SOURCE, "ConsentRevoked", {**_event_base(consent),
                                                      "revoked_at": iso(now),
                                                      "revoked_by": by.kind})
    session.commit()
    log.info("consent %s revoked by %s", consent.id, by.kind)
    return consent


def signature_of(session: Session, consent: Consent) -> ConsentSignature | None:
    if consent.status == OUTSTANDING and consent.signed_at is None:
        return None
    return session.get(ConsentSignature, consent.id)


def verified(storage, consent: Consent, signature: ConsentSignature) -> bool:
    """The signed document rebuilt from the stored values, the copy kept
    beside the row and the object in storage all hash to the recorded
    SHA-256 (and the drawing to the hash inside it)."""
    rebuilt = consents_domain.signed_document(
        consent_id=consent.id, client_id=consent.client_id, title=consent.title,
        template_key=consent.template_key, template_version=consent.template_version,
        text=consent.text, signer_kind=signature.signer_kind, signer_id=signature.signer_id,
        signer_name=signature.signer_name, typed_name=signature.typed_name,
        method=signature.method, signed_at=signature.signed_at, ip=signature.ip,
        user_agent=signature.user_agent, drawing_sha256=signature.drawing_sha256)
    sha = signature.sha256
    if consents_domain.sha256(rebuilt) != sha or \
            consents_domain.sha256(signature.document.encode("utf-8")) != sha:
        return False
    try:
        if consents_domain.sha256(storage.get(signature.document_key)) != sha:
            return False
        if signature.drawing_key and consents_domain.sha256(
                storage.get(signature.drawing_key)) != signature.drawing_sha256:
            return False
    except ServiceUnavailable:
        log.warning("consent %s: the signed copy could not be read to verify it", consent.id)
        return False
    return True


def outstanding_counts(session: Session, client_id: str) -> tuple[int, int]:
    """(consents outstanding, forms to fill in) in one statement: staff-
    assigned forms only (a survey the patient started and left is theirs)."""
    consents = select(func.count()).select_from(Consent).where(
        Consent.client_id == client_id, Consent.status == OUTSTANDING).scalar_subquery()
    forms = select(func.count()).select_from(FormAssignment).where(
        FormAssignment.client_id == client_id, FormAssignment.status == "assigned",
        FormAssignment.self_started.is_(False)).scalar_subquery()
    row = session.execute(select(consents, forms)).one()
    return int(row[0]), int(row[1])


def consent_out(consent: Consent) -> dict:
    return {"id": consent.id, "client_id": consent.client_id,
            "template_key": consent.template_key, "title": consent.title, "kind": consent.kind,
            "status": consent.status, "requested_at": iso(consent.requested_at),
            "requested_by_name": consent.requested_by_name,
            "signed_at": iso(consent.signed_at) if consent.signed_at else None,
            "signer_name": consent.signer_name,
            "revoked_at": iso(consent.revoked_at) if consent.revoked_at else None,
            "contact_id": consent.contact_id, "contact_name": consent.contact_name,
            "contact_may_receive": consent.contact_may_receive,
            "contact_until": consent.contact_until.isoformat() if consent.contact_until else None}


def signature_out(storage, consent: Consent, signature: ConsentSignature | None) -> dict | None:
    if signature is None:
        return None
    return {"typed_name": signature.typed_name, "method": signature.method,
            "signed_at": iso(signature.signed_at), "signer_name": signature.signer_name,
            "signer_kind": signature.signer_kind, "ip": signature.ip,
            "user_agent": signature.user_agent, "sha256": signature.sha256,
            "verified": verified(storage, consent, signature)}
