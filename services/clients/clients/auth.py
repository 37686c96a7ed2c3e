"""Signing in (password, then a TOTP code if the account has one) and
server-side sessions. The gateway holds only the session token; every
request asks `current` whether it is still good."""
from __future__ import annotations

import logging
import secrets
import time

from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Forbidden, InvalidInput, Unauthorized
from servicekit.outbox import record_event

from clients import actors, audit, credentials, domain, totp, views
from clients.models import SignInSession
from clients.settings import Settings

log = logging.getLogger(__name__)

GENERIC = ("That email and password do not match, or the account is locked for a while. "
           "Try again later or reset your password.")
BAD_CODE = "That code is not right. Check the time on your device and try again."
CHALLENGE_GONE = "Signing in took too long. Please start again."
SESSION_GONE = "Your session has ended. Please sign in again."
ACCESS_ENDED = ("Your portal access has ended: the release of information that let you in is "
                "no longer active. Call the clinic if you think this is wrong.")


def check_password(session: Session, settings: Settings, kind: str, login, password, ip: str):
    """The account whose password this is, or Unauthorized with one generic
    message whatever went wrong (unknown, inactive, locked, wrong); the
    failure is counted and audited. Every path does one argon2 verify."""
    credentials.model_for(kind)
    subject = credentials.find_by_login(session, kind, login, lock=True)
    matched = credentials.verify(subject.password_hash if subject else "", password)
    failed = f"{kind}.sign_in_failed"
    if subject is None:
        raise audit.refuse(session, Unauthorized(GENERIC), kind, None, failed, outcome="failed",
                           ip=ip, detail="unknown login")
    if not subject.active:
        raise audit.refuse(session, Unauthorized(GENERIC), kind, subject.id, failed,
                           outcome="failed", ip=ip, detail="inactive account")
    if domain.is_locked(subject.locked_until, utcnow()):
        raise audit.refuse(session, Unauthorized(GENERIC), kind, subject.id, failed,
                           outcome="denied", ip=ip, detail="account locked")
    if not matched:
        credentials.note_failure(session, subject, settings, ip)
        raise audit.refuse(session, Unauthorized(GENERIC), kind, subject.id, failed,
                           outcome="failed", ip=ip, detail="wrong password")
    credentials.note_success(subject, password)
    return subject


def sign_in(session: Session, settings: Settings, kind: str, login, password, ip: str) -> dict:
    subject = check_password(session, settings, kind, login, password, ip)
    if subject.totp_secret:
        expires = int(time.time()) + settings.challenge_minutes * 60
        audit.record(session, kind, subject.id, f"{kind}.sign_in_totp_required", ip=ip)
        return {"status": "totp_required",
                "challenge": domain.sign_challenge(kind, subject.id, expires, settings.link_secret)}
    return {"status": "ok", "session": start_session(session, settings, subject, ip, "password")}


def complete_totp(session: Session, settings: Settings, challenge, code, ip: str) -> dict:
    opened = domain.open_challenge(challenge, settings.link_secret, time.time())
    if opened is None:
        raise Unauthorized(CHALLENGE_GONE)
    kind, subject_id = opened
    subject = credentials.load_subject(session, kind, subject_id, lock=True)
    failed = f"{kind}.sign_in_failed"
    if subject is None or not subject.active or not subject.totp_secret:
        raise audit.refuse(session, Unauthorized(GENERIC), kind, subject_id, failed,
                           outcome="failed", ip=ip, detail="totp no longer applies")
    if domain.is_locked(subject.locked_until, utcnow()):
        raise audit.refuse(session, Unauthorized(GENERIC), kind, subject.id, failed,
                           outcome="denied", ip=ip, detail="account locked")
    step = totp.matching_step(subject.totp_secret, code, time.time(), subject.totp_last_step)
    if step is None:
        credentials.note_failure(session, subject, settings, ip)
        raise audit.refuse(session, Unauthorized(BAD_CODE), kind, subject.id, failed,
                           outcome="failed", ip=ip, detail="wrong totp code")
    subject.totp_last_step, subject.failed_sign_ins = step, 0
    return {"status": "ok", "session": start_session(session, settings, subject, ip, "password+totp")}


def start_session(session: Session, settings: Settings, subject, ip: str, how: str) -> dict:
    """A new session with a new random token (only its SHA-256 is kept)."""
    kind, now, token = credentials.kind_of(subject), utcnow(), domain.new_token()
    clients = actors.linked_clients(session, subject.id) if kind == "portal" else []
    if kind == "portal" and not clients and actors.has_links(session, subject.id):
        # only third-party contact links, none of them let in by an active release today
        raise audit.refuse(session, Unauthorized(ACCESS_ENDED), kind, subject.id,
                           f"{kind}.sign_in_failed", ip=ip, detail="no active release")
    record = SignInSession(id=domain.token_digest(token), kind=kind, subject_id=subject.id,
                           csrf=secrets.token_urlsafe(24), ip=ip,
                           acting_for=clients[0][0].id if clients else None,
                           created_at=now, last_seen_at=now,
                           expires_at=now + settings.session_times.maximum)
    session.add(record)
    audit.record(session, kind, subject.id, f"{kind}.sign_in", ip=ip, detail=how)
    log.info("%s %s signed in", kind, subject.id)
    return views.session_out(record, subject, settings.session_times, token, clients)


def current(session: Session, settings: Settings, token):
    """(session record, account) for a live session token, touched; else
    Unauthorized (an idle or expired session is ended on the server)."""
    if not isinstance(token, str) or not token or len(token) > 200:
        raise Unauthorized(SESSION_GONE)
    record = session.get(SignInSession, domain.token_digest(token))
    if record is None or record.ended_at is not None:
        raise Unauthorized(SESSION_GONE)
    now = utcnow()
    subject = credentials.load_subject(session, record.kind, record.subject_id)
    if (subject is None or not subject.active
            or settings.session_times.expired(record.last_seen_at, record.expires_at, now)):
        record.ended_at = now
        session_ended(session, record.kind, record.subject_id, record.id)
        session.commit()
        raise Unauthorized(SESSION_GONE)
    if settings.session_times.needs_touch(record.last_seen_at, now):
        record.last_seen_at = now
        changed(session)
    return record, subject


def changed(session: Session) -> None:
    """Note that this request changed a session row. (`Session.dirty` cannot
    tell: a later query autoflushes the change and empties it.)"""
    session.info["session_changed"] = True


def commit_if_changed(session: Session) -> None:
    if session.info.pop("session_changed", False):
        session.commit()


def describe(session: Session, settings: Settings, record: SignInSession, subject) -> dict:
    clients = actors.linked_clients(session, subject.id) if record.kind == "portal" else []
    if record.kind == "portal" and not clients and actors.has_links(session, subject.id):
        # a contact whose release lapsed (its end date passed): signed out
        record.ended_at = utcnow()
        session_ended(session, record.kind, record.subject_id, record.id)
        session.commit()
        raise Unauthorized(SESSION_GONE)
    if record.kind == "portal" and record.acting_for not in {c.id for c, _, _ in clients}:
        record.acting_for = clients[0][0].id if clients else None
        changed(session)
    return views.session_out(record, subject, settings.session_times, clients=clients)


def switch_client(session: Session, settings: Settings, token, client_id, ip: str) -> dict:
    record, subject = current(session, settings, token)
    if record.kind != "portal":
        raise InvalidInput("only a portal session acts for a client")
    client_id = str(client_id or "")[:40]
    if actors.relationship(session, subject.id, client_id) is None:
        raise audit.refuse(session, Forbidden(actors.FORBIDDEN), "portal", subject.id,
                           "portal.switch_client", client_id or None, ip=ip,
                           detail="account is not linked to this client")
    record.acting_for = client_id
    audit.record(session, "portal", subject.id, "portal.switch_client", client_id, ip=ip)
    record_event(session, "clients", "SessionChanged",
                 {"kind": "portal", "subject_id": subject.id, "session_id": record.id})
    return describe(session, settings, record, subject)


def end_session(session: Session, token) -> None:
    if not isinstance(token, str) or not token:
        return
    record = session.get(SignInSession, domain.token_digest(token))
    if record is not None and record.ended_at is None:
        record.ended_at = utcnow()
        audit.record(session, record.kind, record.subject_id, f"{record.kind}.sign_out")
        session_ended(session, record.kind, record.subject_id, record.id)


def session_ended(session: Session, kind: str, subject_id: str, session_id: str | None = None) -> None:
    """Tell every gateway copy to forget its cached check of the session (or,
    without `session_id`, of all the account's sessions)."""
    data = {"kind": kind, "subject_id": subject_id}
    if session_id:
        data["session_id"] = session_id
    record_event(session, "clients", "SessionEnded", data)
