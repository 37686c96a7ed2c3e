"""What staff users and portal accounts share to sign in: finding them by
login, checking and setting passwords (argon2 off the eventlet hub),
counting failures toward a lockout, ending their sessions."""
from __future__ import annotations

import logging

from eventlet import tpool
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import InvalidInput
from servicekit.outbox import record_event

from clients import audit, domain, passwords
from clients.models import PortalAccount, SignInSession, StaffUser
from clients.settings import Settings

log = logging.getLogger(__name__)
SUBJECTS = {"staff": StaffUser, "portal": PortalAccount}


def model_for(kind):
    if kind not in SUBJECTS:
        raise InvalidInput("kind must be staff or portal")
    return SUBJECTS[kind]


def normalize_login(login) -> str:
    return str(login or "").strip().lower()[:254]


def find_by_login(session: Session, kind: str, login, lock: bool = False):
    model = model_for(kind)
    column = StaffUser.email if kind == "staff" else PortalAccount.username
    query = select(model).where(column == normalize_login(login))
    return session.scalars(query.with_for_update() if lock else query).first()


def load_subject(session: Session, kind: str, subject_id, lock: bool = False):
    query = select(model_for(kind)).where(model_for(kind).id == str(subject_id))
    return session.scalars(query.with_for_update() if lock else query).first()


def username_of(subject) -> str:
    return subject.email if isinstance(subject, StaffUser) else subject.username


def kind_of(subject) -> str:
    return "staff" if isinstance(subject, StaffUser) else "portal"


def verify(password_hash: str, password) -> bool:
    """argon2 verification in a real thread, so the hub keeps serving while
    it runs. An empty hash (no password yet) costs the same and fails."""
    return tpool.execute(passwords.matches, password_hash, password)


def policy(new_password, subject) -> str:
    """The normalized new password, or InvalidInput naming the broken rule."""
    try:
        return passwords.check(new_password, username_of(subject))
    except passwords.PolicyError as broken:
        raise InvalidInput(str(broken)) from None


def set_password(subject, checked_password: str) -> None:
    subject.password_hash = tpool.execute(passwords.hash_password, checked_password)
    subject.password_changed_at = utcnow()


def note_success(subject, password: str) -> None:
    subject.failed_sign_ins = 0
    if passwords.needs_rehash(subject.password_hash):
        subject.password_hash = tpool.execute(passwords.hash_password, password)


def note_failure(session: Session, subject, settings: Settings, ip: str) -> None:
    """One more consecutive failure; at the threshold the account locks."""
    kind = kind_of(subject)
    count, locked_until = domain.after_failure(subject.failed_sign_ins, settings.lockout_threshold,
                                               utcnow(), settings.lockout_minutes)
    subject.failed_sign_ins = count
    if locked_until is not None:
        subject.locked_until = locked_until
        log.warning("%s account %s locked for %d minutes after %d consecutive failed sign-ins",
                    kind, subject.id, settings.lockout_minutes, settings.lockout_threshold)
        audit.record(session, kind, subject.id, "account.locked", outcome="denied", ip=ip,
                     detail=f"{settings.lockout_threshold} consecutive failures")


def clear_lockout(subject) -> None:
    subject.failed_sign_ins, subject.locked_until = 0, None


def end_sessions(session: Session, kind: str, subject_id: str, keep: str | None = None) -> None:
    """End every open session of the account (but `keep`, a session id)."""
    statement = (update(SignInSession).where(SignInSession.kind == kind,
                                              SignInSession.subject_id == subject_id,
                                              SignInSession.ended_at.is_(None))
                 .values(ended_at=utcnow()))
    if keep is not None:
        statement = statement.where(SignInSession.id != keep)
    session.execute(statement)
    record_event(session, "clients", "SessionEnded", {"kind": kind, "subject_id": subject_id})
