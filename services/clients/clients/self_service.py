"""What a signed-in person does to their own account: turn a TOTP
authenticator on or off, change their password."""
from __future__ import annotations

import time

from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput, Unauthorized

from clients import audit, auth, credentials, domain, organization, totp
from clients.settings import Settings

WRONG_CURRENT = "That is not your current password."
LOCKED = "Too many wrong passwords. Try again later."
FALLBACK_ISSUER = "Billing Office"


def _issuer(session: Session) -> str:
    """The name the authenticator app shows: the organization's neutral
    sender name (42 CFR Part 2: a phone's app list must not say 'Recovery')."""
    org = organization.organization(session)
    return (org.email_sender_name if org else "") or FALLBACK_ISSUER


def totp_begin(session: Session, settings: Settings, token) -> dict:
    record, subject = auth.current(session, settings, token)
    if subject.totp_secret:
        raise Conflict("two-step sign-in is already on; turn it off first to change devices")
    subject.totp_pending_secret = totp.new_secret()
    return {"secret": subject.totp_pending_secret,
            "otpauth_uri": totp.provisioning_uri(subject.totp_pending_secret,
                                                 credentials.username_of(subject), _issuer(session))}


def totp_confirm(session: Session, settings: Settings, token, code) -> None:
    record, subject = auth.current(session, settings, token)
    if not subject.totp_pending_secret:
        raise InvalidInput("start setting up two-step sign-in first")
    step = totp.matching_step(subject.totp_pending_secret, code, time.time())
    if step is None:
        raise InvalidInput(auth.BAD_CODE)
    subject.totp_secret, subject.totp_pending_secret = subject.totp_pending_secret, None
    subject.totp_last_step = step
    audit.record(session, record.kind, subject.id, "totp.enabled", ip=record.ip)


def _require_current_password(session: Session, settings: Settings, record, subject,
                              password, action: str) -> None:
    """A wrong current password counts toward the lockout like a sign-in;
    while locked, even the right one is refused."""
    matched = credentials.verify(subject.password_hash, password)
    if domain.is_locked(subject.locked_until, utcnow()):
        raise audit.refuse(session, Unauthorized(LOCKED), record.kind, subject.id, action,
                           outcome="denied", ip=record.ip, detail="account locked")
    if not matched:
        credentials.note_failure(session, subject, settings, record.ip)
        raise audit.refuse(session, Unauthorized(WRONG_CURRENT), record.kind, subject.id, action,
                           outcome="failed", ip=record.ip, detail="wrong current password")
    subject.failed_sign_ins = 0


def totp_disable(session: Session, settings: Settings, token, password) -> None:
    record, subject = auth.current(session, settings, token)
    _require_current_password(session, settings, record, subject, password, "totp.disabled")
    subject.totp_secret = subject.totp_pending_secret = subject.totp_last_step = None
    audit.record(session, record.kind, subject.id, "totp.disabled", ip=record.ip)


def change_password(session: Session, settings: Settings, token, current_password,
                    new_password, ip: str) -> None:
    """Needs the current password; ends the account's other sessions."""
    record, subject = auth.current(session, settings, token)
    checked = credentials.policy(new_password, subject)
    _require_current_password(session, settings, record, subject, current_password,
                              "password.changed")
    credentials.set_password(subject, checked)
    credentials.end_sessions(session, record.kind, subject.id, keep=record.id)
    audit.record(session, record.kind, subject.id, "password.changed", ip=ip,
                 detail="by the account holder")
