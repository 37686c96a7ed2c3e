"""Releases of information: a third-party contact's release consent (kept
by the documents service) and the portal access it opens. The gateway asks
for the consent, then `mark_release_requested` notes it (pending);
ConsentSigned activates it and ConsentRevoked ends it — and with it, at
once, every session of the portal accounts the contact signs in with. A
ConsentSigned that arrives after the ConsentRevoked of the same consent
changes nothing."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput

from clients import audit, credentials, domain, people
from clients.actors import Actor
from clients.models import AccountClient, Client, Contact, RevokedRelease

log = logging.getLogger(__name__)
NO_RELEASE = ("This contact has no signed release of information. Ask the client to sign one "
              "before inviting the contact to the portal.")


def _locked_contact(session: Session, contact_id) -> Contact | None:
    return session.scalars(select(Contact).where(Contact.id == str(contact_id))
                           .with_for_update()).first()


def end_contact_access(session: Session, contact: Contact) -> list[str]:
    """End every session of the portal accounts linked through this contact
    (SessionEnded tells every gateway copy to drop its cached check)."""
    accounts = list(session.scalars(select(AccountClient.account_id)
                                    .where(AccountClient.contact_id == contact.id)))
    for account_id in accounts:
        credentials.end_sessions(session, "portal", account_id)
    return accounts


def _set(session: Session, contact: Contact, consent_id: str | None, status: str) -> bool:
    """Apply a release state; True if it changed. Leaving "active" ends the
    contact's portal sessions."""
    if (contact.release_consent_id, contact.release_status) == (consent_id, status):
        return False
    was_active = contact.release_status == "active"
    contact.release_consent_id, contact.release_status = consent_id, status
    contact.updated_at = utcnow()
    if was_active and status != "active":
        end_contact_access(session, contact)
    return True


def mark_requested(session: Session, actor: Actor, contact: Contact, consent_id: str) -> Contact:
    """The gateway asked documents for a release consent for this contact."""
    if not contact.active:
        raise Conflict("an inactive contact cannot be given a release; add a new one instead")
    consent_id, status = domain.release_requested(contact.release_consent_id,
                                                  contact.release_status, consent_id)
    _set(session, contact, consent_id, status)
    audit.by(session, actor, "contact.release_requested", contact.client_id,
             detail=f"contact {contact.id}: consent {consent_id}")
    return contact


def _contact_of(session: Session, data: dict) -> Contact | None:
    """The contact a release event names, if it is one of that client's."""
    if data.get("kind") != "release" or not data.get("contact_id"):
        return None
    contact = _locked_contact(session, data["contact_id"])
    if contact is None or contact.client_id != data.get("client_id"):
        log.warning("release consent %s names contact %s, not a contact of its client; ignored",
                    data.get("consent_id"), data.get("contact_id"))
        return None
    return contact


def consent_signed(session: Session, data: dict) -> None:
    contact = _contact_of(session, data)
    if contact is None:
        return
    revoked = session.get(RevokedRelease, data["consent_id"]) is not None
    matches = domain.signed_terms_match(data.get("may_receive"), data.get("until"),
                                        contact.may_receive, contact.roi_end)
    consent_id, status = domain.release_signed(contact.release_consent_id, contact.release_status,
                                               data["consent_id"], revoked, matches)
    if _set(session, contact, consent_id, status):
        audit.record(session, "system", "documents", "contact.release_signed", contact.client_id,
                     detail=f"contact {contact.id}: consent {data['consent_id']}")
    elif revoked:
        log.info("consent %s was signed after it was revoked; contact %s stays without access",
                 data["consent_id"], contact.id)
    elif status != "active":
        log.info("consent %s signed for contact %s is not its current release or its terms differ "
                 "from the contact's; no access", data["consent_id"], contact.id)


def consent_revoked(session: Session, data: dict) -> None:
    contact = _contact_of(session, data)
    if contact is None:
        return
    if session.get(RevokedRelease, data["consent_id"]) is None:
        session.add(RevokedRelease(consent_id=data["consent_id"], contact_id=contact.id,
                                   revoked_at=utcnow()))
    consent_id, status = domain.release_revoked(contact.release_consent_id, contact.release_status,
                                                data["consent_id"])
    if _set(session, contact, consent_id, status):
        audit.record(session, "system", "documents", "contact.release_revoked", contact.client_id,
                     detail=f"contact {contact.id}: consent {data['consent_id']}")


def invite_contact(session: Session, actor: Actor, contact: Contact, client: Client) -> dict:
    """A portal account for a third-party contact with an active release:
    created or reused by the contact's email, linked as "contact"."""
    if not contact.active:
        raise Conflict("an inactive contact cannot be invited to the portal")
    if contact.release_status != "active":
        raise Conflict(NO_RELEASE)
    if not contact.email:
        raise InvalidInput("Add the contact's email address before inviting them to the portal.")
    existing = people.account_link(session, contact.email, client.id)
    if existing is not None and existing.relationship != "contact":
        raise Conflict("That email already signs in to the portal for this client.")
    return people.invite(session, actor, client, contact.email, contact.name, "contact",
                         contact_id=contact.id)
