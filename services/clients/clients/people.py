"""Use cases for the people who sign in: staff users (created by an
administrator, with no password: they choose one from an emailed link) and
portal accounts (created or reused by a portal invitation)."""
from __future__ import annotations

import logging

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput, NotFound
from servicekit.outbox import record_event

from clients import audit, credentials, domain
from clients.actors import Actor
from clients.models import AccountClient, Client, Location, PortalAccount, StaffLocation, StaffUser

SOURCE = "clients"
log = logging.getLogger(__name__)


# ---- portal accounts ---------------------------------------------------------
def invite(session: Session, actor: Actor, client: Client, email: str, name: str,
           relationship: str, contact_id: str | None = None) -> dict:
    """Create (or reuse) the portal account with this email, link it to the
    client, and ask notifications to send a welcome link."""
    if client.kind == "inquiry":
        raise InvalidInput("convert the inquiry to a client before inviting it to the portal")
    username = email.lower()
    account = credentials.find_by_login(session, "portal", username, lock=True)
    created = account is None
    if created:
        account = PortalAccount(id=domain.new_id("pa"), username=username, email=username,
                                name=name, password_hash="", active=True, failed_sign_ins=0)
        session.add(account)
        session.flush()
    elif not account.active:
        raise Conflict("that portal account is deactivated")
    link = session.get(AccountClient, (account.id, client.id))
    if link is None:
        session.add(AccountClient(account_id=account.id, client_id=client.id,
                                  relationship=relationship, contact_id=contact_id,
                                  created_at=utcnow()))
    else:
        link.relationship, link.contact_id = relationship, contact_id
    record_event(session, SOURCE, "PortalInviteRequested", {
        "account_id": account.id, "client_id": client.id, "invited_by": actor.id,
        "invited_by_name": actor.name})
    audit.by(session, actor, "portal.invite", client.id,
             detail=f"account {account.id} ({'new' if created else 'existing'}) as {relationship}")
    log.info("portal account %s invited for client %s by %s", account.id, client.id, actor.id)
    return {"account_id": account.id, "client_id": client.id, "username": account.username,
            "relationship": relationship, "created": created}


def account_link(session: Session, email: str, client_id: str) -> AccountClient | None:
    """The link of the portal account with this email to the client, if any."""
    account = credentials.find_by_login(session, "portal", email)
    return session.get(AccountClient, (account.id, client_id)) if account else None


def load_account(session: Session, account_id) -> PortalAccount:
    account = session.get(PortalAccount, str(account_id))
    if account is None:
        raise NotFound(f"portal account {account_id} not found")
    return account


# ---- staff -------------------------------------------------------------------
def load_staff(session: Session, staff_id, lock: bool = False) -> StaffUser:
    staff = credentials.load_subject(session, "staff", staff_id, lock=lock)
    if staff is None:
        raise NotFound(f"staff user {staff_id} not found")
    return staff


def location_ids(session: Session, staff_id: str) -> list[str]:
    return list(session.scalars(select(StaffLocation.location_id)
                                .where(StaffLocation.staff_id == staff_id)
                                .order_by(StaffLocation.location_id)))


def _set_locations(session: Session, staff_id: str, wanted: list[str]) -> None:
    known = set(session.scalars(select(Location.id).where(Location.id.in_(wanted))))
    missing = sorted(set(wanted) - known)
    if missing:
        raise InvalidInput(f"unknown location(s): {', '.join(missing)}")
    session.execute(delete(StaffLocation).where(StaffLocation.staff_id == staff_id))
    session.add_all(StaffLocation(staff_id=staff_id, location_id=loc) for loc in wanted)


def create_staff(session: Session, actor: Actor, fields: dict) -> StaffUser:
    if credentials.find_by_login(session, "staff", fields["email"]) is not None:
        raise Conflict("a staff user with that email already exists")
    staff = StaffUser(id=domain.new_id("st"), email=fields["email"], name=fields["name"],
                      role=fields["role"], password_hash="", active=True, failed_sign_ins=0)
    session.add(staff)
    session.flush()
    _set_locations(session, staff.id, fields["location_ids"])
    record_event(session, SOURCE, "StaffPasswordResetRequested",
                 {"staff_id": staff.id, "purpose": "welcome"})
    audit.by(session, actor, "staff.create", detail=f"staff {staff.id} as {staff.role}")
    return staff


def update_staff(session: Session, actor: Actor, staff: StaffUser, changes: dict) -> StaffUser:
    changes, changed = dict(changes), []
    wanted = changes.pop("location_ids", None)
    if wanted is not None and wanted != location_ids(session, staff.id):
        _set_locations(session, staff.id, wanted)
        changed.append("location_ids")
    for name, value in changes.items():
        if getattr(staff, name) != value:
            setattr(staff, name, value)
            changed.append(name)
    if staff.role != "administrator" or not staff.active:
        _keep_an_administrator(session)
    if "active" in changed and not staff.active:
        credentials.end_sessions(session, "staff", staff.id)
    elif "role" in changed:   # the permissions a gateway cached with the session
        record_event(session, SOURCE, "SessionChanged", {"kind": "staff", "subject_id": staff.id})
    audit.by(session, actor, "staff.update", detail=f"staff {staff.id}: " + (", ".join(changed) or "-"))
    return staff


def _keep_an_administrator(session: Session) -> None:
    session.flush()
    admins = session.scalar(select(func.count()).select_from(StaffUser).where(
        StaffUser.role == "administrator", StaffUser.active))
    if not admins:
        raise Conflict("the last active administrator cannot be removed or deactivated")


def list_staff(session: Session) -> list[StaffUser]:
    return list(session.scalars(select(StaffUser).order_by(StaffUser.name, StaffUser.id)))
