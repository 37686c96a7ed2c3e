"""Who is asking. Every staff RPC names its actor:
`{"kind": "staff", "id": staff_id, "ip": ...}`, and the ones the portal may
call also take `{"kind": "portal", "id": account_id, "client_id":
acting_for, "ip": ...}`. `require` loads the staff user or portal account
and refuses (Forbidden, audited as denied) an inactive one or a missing
permission."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit import clock
from servicekit.errors import Forbidden, InvalidInput

from clients import audit, domain
from clients.models import AccountClient, Client, Contact, PortalAccount, StaffUser

FORBIDDEN = "You do not have permission to do that."


@dataclass(frozen=True)
class Actor:
    kind: str          # staff | portal
    id: str
    ip: str
    name: str
    role: str          # a staff role, or "patient"
    client_id: str | None = None  # portal: the client being acted for


def parse(raw) -> tuple[str, str, str | None, str]:
    """(kind, id, client_id, ip) of an actor dict, or InvalidInput."""
    if not isinstance(raw, dict) or raw.get("kind") not in domain.ACCOUNT_KINDS:
        raise InvalidInput('actor must be {"kind": "staff" | "portal", "id": ..., "ip": ...}')
    actor_id = raw.get("id")
    if not isinstance(actor_id, str) or not actor_id or len(actor_id) > 40:
        raise InvalidInput("actor id is required")
    client_id = raw.get("client_id")
    client_id = str(client_id) if client_id else None
    return raw["kind"], actor_id, client_id, str(raw.get("ip") or "")[:64]


def identify(session: Session, raw, action: str, client_id: str | None = None) -> Actor:
    """The actor, if it is an active staff user or portal account."""
    kind, actor_id, acting_for, ip = parse(raw)
    subject = session.get(StaffUser if kind == "staff" else PortalAccount, actor_id)
    if subject is None or not subject.active:
        raise audit.refuse(session, Forbidden(FORBIDDEN), kind, actor_id, action, client_id,
                           ip=ip, detail=f"unknown or inactive {kind} account")
    if kind == "staff":
        return Actor("staff", subject.id, ip, subject.name, subject.role)
    return Actor("portal", subject.id, ip, subject.name, "patient", acting_for)


def require(session: Session, raw, permission: str, action: str,
            client_id: str | None = None) -> Actor:
    """The actor, if it may do `permission` (on `client_id`, for a portal
    actor: only its acting_for client, and only if linked to it)."""
    actor = identify(session, raw, action, client_id)
    if actor.kind == "staff":
        if domain.staff_may(actor.role, permission):
            return actor
        reason = f"role {actor.role} lacks {permission}"
    else:
        how = relationship(session, actor.id, actor.client_id)
        if domain.portal_may(permission, actor.client_id, client_id, how is not None, how):
            return actor
        reason = f"portal may not {permission} here"
    raise audit.refuse(session, Forbidden(FORBIDDEN), actor.kind, actor.id, action, client_id,
                       ip=actor.ip, detail=reason)


def _counts(link: AccountClient, contact: Contact | None) -> bool:
    """A self / guardian / responsible-party link always counts; a contact's
    only while its release of information lets it in today."""
    if link.relationship != "contact":
        return True
    return contact is not None and domain.contact_link_open(
        contact.active, contact.release_status, contact.roi_start, contact.roi_end, clock.today())


def relationship(session: Session, account_id: str, client_id: str | None) -> str | None:
    """How the account is linked to the client (if the link counts now), or None."""
    if not client_id:
        return None
    link = session.get(AccountClient, (account_id, client_id))
    if link is None:
        return None
    contact = session.get(Contact, link.contact_id) if link.contact_id else None
    return link.relationship if _counts(link, contact) else None


def linked_clients(session: Session, account_id: str) -> list[tuple[Client, str, str]]:
    """(client, relationship, scope) for each client a portal account may act
    for now: itself first, then by name. Scope: "full", or what a third-party
    contact may receive ("billing" | "billing_and_clinical")."""
    rows = session.execute(
        select(Client, AccountClient, Contact)
        .join(AccountClient, AccountClient.client_id == Client.id)
        .outerjoin(Contact, Contact.id == AccountClient.contact_id)
        .where(AccountClient.account_id == account_id)
        .order_by(Client.first_name, Client.last_name, Client.id)).all()
    found = [(client, link.relationship,
              domain.scope_of(link.relationship, contact.may_receive if contact else None))
             for client, link, contact in rows if _counts(link, contact)]
    return sorted(found, key=lambda row: row[1] != "self")


def has_links(session: Session, account_id: str) -> bool:
    """Whether the account is linked to any client at all (counting or not)."""
    return session.scalar(select(AccountClient.client_id)
                          .where(AccountClient.account_id == account_id).limit(1)) is not None
