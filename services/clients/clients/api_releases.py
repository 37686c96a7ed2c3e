"""Releases of information: the RPCs the gateway calls around a release
consent, the third-party contact's portal invitation, and the handlers of
the documents service's consent events. Part of ClientsService (service.py)."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.events import handles
from servicekit.inbox import handle_once
from servicekit.rpc import rpc

from clients import actors, records, releases, schemas, views


class ReleasesApi:
    """Mixin: expects `db` from the service."""

    @rpc(expected_exceptions=EXPECTED)
    def mark_release_requested(self, contact_id, consent_id, actor):
        """The gateway asked documents for a release consent for this contact
        (documents.request_consent): its release is now "pending" until the
        consent is signed. CONTACT."""
        consent = schemas.consent_id(consent_id)
        contact = records.load_contact(self.db, contact_id)
        who = actors.require(self.db, actor, "contacts.write", "contact.release_requested",
                             contact.client_id)
        contact = releases.mark_requested(self.db, who, contact, consent)
        self.db.commit()
        return views.contact_out(contact)

    @rpc(expected_exceptions=EXPECTED)
    def invite_contact_to_portal(self, contact_id, actor):
        """A portal account for a third-party contact whose release is active
        (created or reused by the contact's email, linked as "contact"), and
        the welcome email (PortalInviteRequested). {account_id, client_id,
        username, relationship: "contact", created}."""
        contact = records.load_contact(self.db, contact_id)
        who = actors.require(self.db, actor, "portal.invite", "portal.invite", contact.client_id)
        invited = releases.invite_contact(self.db, who, contact,
                                          records.load_client(self.db, contact.client_id))
        self.db.commit()
        return invited

    @handles("documents", "ConsentSigned")
    def on_consent_signed(self, envelope):
        handle_once(self.db, envelope, "clients.on_consent_signed",
                    lambda data: releases.consent_signed(self.db, data))

    @handles("documents", "ConsentRevoked")
    def on_consent_revoked(self, envelope):
        handle_once(self.db, envelope, "clients.on_consent_revoked",
                    lambda data: releases.consent_revoked(self.db, data))
