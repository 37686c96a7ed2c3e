"""Use cases on a client's record: profiles, third-party contacts (release
of information) and insurance. Each takes the session and the authorized
actor, changes state, audits it and records its event in the same
transaction. The caller commits."""
from __future__ import annotations

import logging

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput, NotFound
from servicekit.outbox import record_event

from clients import audit, domain, releases
from clients.actors import Actor
from clients.models import Client, Contact, InsurancePolicy

SOURCE = "clients"
# what a release of information covers: changing one needs a new release
RELEASE_TERMS = {"may_receive", "roi_start", "roi_end"}
log = logging.getLogger(__name__)


def _rule(check, *args) -> None:
    try:
        check(*args)
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None


def _names(fields) -> str:
    return ", ".join(sorted(fields)) or "-"


# ---- profiles ----------------------------------------------------------------
def load_client(session: Session, client_id, lock: bool = False) -> Client:
    query = select(Client).where(Client.id == str(client_id))
    client = session.scalars(query.with_for_update() if lock else query).first()
    if client is None:
        raise NotFound(f"client {client_id} not found")
    return client


def clients_by_id(session: Session, client_ids: list[str]) -> list[Client]:
    if not client_ids:
        return []
    return list(session.scalars(select(Client).where(Client.id.in_(client_ids))))


def create_client(session: Session, actor: Actor, fields: dict) -> Client:
    now = utcnow()
    client = Client(id=domain.new_id("cl"), created_at=now, updated_at=now, **fields)
    session.add(client)
    record_event(session, SOURCE, "ClientRegistered", {"client_id": client.id, "kind": client.kind})
    audit.by(session, actor, "client.create", client.id,
             detail=_names(k for k, v in fields.items() if v not in ("", None)))
    log.info("client %s created (%s) by %s", client.id, client.kind, actor.id)
    return client


def update_client(session: Session, actor: Actor, client: Client, changes: dict) -> Client:
    if changes.pop("kind", client.kind) != client.kind:
        raise InvalidInput("kind cannot be changed here; convert an inquiry with convert_inquiry")
    changed = [name for name, value in changes.items() if getattr(client, name) != value]
    for name in changed:
        setattr(client, name, changes[name])
    if changed:
        client.updated_at = utcnow()
    audit.by(session, actor, "client.update", client.id, detail=_names(changed))
    return client


def convert_inquiry(session: Session, actor: Actor, client: Client) -> Client:
    """An inquiry becomes a client, keeping its id and everything on it."""
    try:
        domain.check_conversion(client.kind)
    except domain.RuleBroken as broken:
        raise Conflict(str(broken)) from None
    client.kind, client.converted_at = "client", utcnow()
    client.updated_at = client.converted_at
    record_event(session, SOURCE, "ClientConverted",
                 {"client_id": client.id, "from_kind": "inquiry", "to_kind": "client"})
    audit.by(session, actor, "client.convert", client.id, detail="kind")
    return client


def search(session: Session, kind: str | None, query: str, offset: int = 0,
           limit: int = 500) -> list[Client]:
    statement = select(Client).order_by(Client.last_name, Client.first_name, Client.id)
    if kind:
        statement = statement.where(Client.kind == kind)
    for word in query.split()[:5]:
        statement = statement.where(or_(*(column.icontains(word, autoescape=True) for column in (
            Client.first_name, Client.last_name, Client.preferred_name, Client.email,
            Client.phone, Client.id))))
    return list(session.scalars(statement.offset(offset).limit(limit)))


# ---- third-party contacts ----------------------------------------------------
def load_contact(session: Session, contact_id) -> Contact:
    contact = session.get(Contact, str(contact_id))
    if contact is None:
        raise NotFound(f"contact {contact_id} not found")
    return contact


def _contact_event(session: Session, contact: Contact, change: str) -> None:
    record_event(session, SOURCE, "ContactChanged",
                 {"client_id": contact.client_id, "contact_id": contact.id, "change": change})


def add_contact(session: Session, actor: Actor, client: Client, fields: dict) -> Contact:
    _rule(domain.check_release, fields["may_receive"], fields["roi_start"], fields["roi_end"])
    now = utcnow()
    contact = Contact(id=domain.new_id("ct"), client_id=client.id, active=True,
                      created_at=now, updated_at=now, **fields)
    session.add(contact)
    _contact_event(session, contact, "added")
    audit.by(session, actor, "contact.add", client.id,
             detail=f"contact {contact.id}: " + _names(k for k, v in fields.items() if v))
    return contact


def update_contact(session: Session, actor: Actor, contact: Contact, changes: dict) -> Contact:
    if not contact.active:
        raise Conflict("an inactive contact cannot be edited; add a new one instead")
    merged = {name: changes.get(name, getattr(contact, name))
              for name in ("may_receive", "roi_start", "roi_end")}
    _rule(domain.check_release, merged["may_receive"], merged["roi_start"], merged["roi_end"])
    changed = [name for name, value in changes.items() if getattr(contact, name) != value]
    for name in changed:
        setattr(contact, name, changes[name])
    if changed:
        contact.updated_at = utcnow()
        _contact_event(session, contact, "updated")
    if set(changed) & RELEASE_TERMS and contact.release_status in ("pending", "active"):
        # what the signed release covered is no longer what is on file: a new
        # release is needed, and the contact's portal access stops now
        if contact.release_status == "active":
            releases.end_contact_access(session, contact)
        contact.release_status, contact.release_consent_id = "none", None
        changed.append("release_status")
    audit.by(session, actor, "contact.update", contact.client_id,
             detail=f"contact {contact.id}: {_names(changed)}")
    return contact


def inactivate_contact(session: Session, actor: Actor, contact: Contact) -> Contact:
    """Never deleted: the record of who could be told stays."""
    if contact.active:
        contact.active, contact.updated_at = False, utcnow()
        _contact_event(session, contact, "inactivated")
        releases.end_contact_access(session, contact)   # a contact's portal access ends at once
    audit.by(session, actor, "contact.inactivate", contact.client_id,
             detail=f"contact {contact.id}: active")
    return contact


def contacts_of(session: Session, client_id: str, include_inactive: bool) -> list[Contact]:
    query = select(Contact).where(Contact.client_id == client_id)
    if not include_inactive:
        query = query.where(Contact.active)
    return list(session.scalars(query.order_by(Contact.created_at, Contact.id)))


# ---- insurance ---------------------------------------------------------------
def add_policy(session: Session, actor: Actor, client: Client, fields: dict) -> InsurancePolicy:
    _rule(domain.check_coverage, fields["effective_on"], fields["end_on"])
    policy = InsurancePolicy(id=domain.new_id("ins"), client_id=client.id, added_via=actor.kind,
                             created_at=utcnow(), **fields)
    session.add(policy)
    record_event(session, SOURCE, "InsuranceAdded", {
        "client_id": client.id, "policy_id": policy.id, "priority": policy.priority,
        "added_via": actor.kind})
    audit.by(session, actor, "insurance.add", client.id, detail=f"policy {policy.id}")
    return policy


def policies_of(session: Session, client_id: str) -> list[InsurancePolicy]:
    return list(session.scalars(select(InsurancePolicy).where(InsurancePolicy.client_id == client_id)
                                .order_by(InsurancePolicy.priority, InsurancePolicy.created_at)))
