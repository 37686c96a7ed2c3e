"""Password links: "forgot my password" requests, and the single-use signed
welcome / reset links notifications emails. Cairn never emails a password:
the person chooses one on the page the link opens."""
from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.errors import Conflict, Gone, InvalidInput, NotFound
from servicekit.outbox import record_event

from clients import audit, credentials, domain
from clients.models import AuditEntry, PasswordLink
from clients.settings import Settings

SOURCE = "clients"
PURPOSE = "password-link"
RESET_REQUESTS_PER_HOUR = 5
log = logging.getLogger(__name__)


def request_reset(session: Session, kind: str, login, ip: str) -> None:
    """Emits the reset event if the login is a live account; says nothing
    either way. A burst of requests for one account is throttled."""
    subject = credentials.find_by_login(session, kind, login)
    action = "password.reset_requested"
    if subject is None or not subject.active:
        audit.record(session, kind, subject.id if subject else None, action, outcome="failed",
                     ip=ip, detail="unknown login" if subject is None else "inactive account")
        return
    if _recent_requests(session, kind, subject.id) >= RESET_REQUESTS_PER_HOUR:
        audit.record(session, kind, subject.id, action, outcome="denied", ip=ip,
                     detail="too many requests in the last hour")
        return
    if kind == "portal":
        record_event(session, SOURCE, "PortalPasswordResetRequested", {"account_id": subject.id})
    else:
        record_event(session, SOURCE, "StaffPasswordResetRequested", {"staff_id": subject.id})
    audit.record(session, kind, subject.id, action, ip=ip)


def _recent_requests(session: Session, kind: str, subject_id: str) -> int:
    return session.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.actor_kind == kind, AuditEntry.actor_id == subject_id,
        AuditEntry.action == "password.reset_requested", AuditEntry.outcome == "ok",
        AuditEntry.at > utcnow() - timedelta(hours=1)))


def issue(session: Session, settings: Settings, kind: str, subject_id, purpose: str,
          request_key) -> dict:
    """A welcome or reset link; the same request_key gives the same link."""
    credentials.model_for(kind)
    if purpose not in domain.LINK_PURPOSES:
        raise InvalidInput("purpose must be welcome or reset")
    if not isinstance(request_key, str) or not 0 < len(request_key) <= 120:
        raise InvalidInput("request_key is required (at most 120 characters)")
    link = _by_request_key(session, request_key)
    if link is None:
        subject = credentials.load_subject(session, kind, subject_id)
        if subject is None:
            raise NotFound(f"{kind} account {subject_id} not found")
        if not subject.active:
            raise Conflict(f"{kind} account {subject_id} is inactive")
        now = utcnow()
        link = PasswordLink(id=domain.new_link_id(), kind=kind, subject_id=subject.id,
                            purpose=purpose, request_key=request_key, created_at=now,
                            expires_at=now + settings.link_ttl(purpose))
        session.add(link)
        audit.record(session, kind, subject.id, "password.link_issued", detail=purpose)
        try:
            session.flush()
        except IntegrityError:  # the same request, issued concurrently
            session.rollback()
            link = _by_request_key(session, request_key)
    if (link.kind, link.subject_id, link.purpose) != (kind, str(subject_id), purpose):
        raise Conflict("request_key was already used for another link")
    token = domain.sign(link.id, settings.link_secret, PURPOSE)
    return {"path": f"/{kind}/set-password/{token}", "expires_at": iso(link.expires_at)}


def _by_request_key(session: Session, request_key: str) -> PasswordLink | None:
    return session.scalars(select(PasswordLink).where(PasswordLink.request_key == request_key)).first()


def open_link(session: Session, settings: Settings, token, lock: bool = False):
    """(link, account) for a genuine, unused, unexpired link. NotFound if
    the token is not ours; Gone if it expired or was used."""
    link_id = domain.unsign(token, settings.link_secret, PURPOSE)
    query = select(PasswordLink).where(PasswordLink.id == link_id)
    link = session.scalars(query.with_for_update() if lock else query).first() if link_id else None
    if link is None:
        raise NotFound("This link is not valid. Check that you copied all of it.")
    subject = credentials.load_subject(session, link.kind, link.subject_id, lock=lock)
    if link.used_at is not None or link.expires_at <= utcnow() or subject is None \
            or not subject.active:
        raise Gone("This link has expired or was already used. Ask for a new one.")
    return link, subject


def check(session: Session, settings: Settings, token) -> dict:
    link, subject = open_link(session, settings, token)
    return {"kind": link.kind, "username": credentials.username_of(subject),
            "purpose": link.purpose, "expires_at": iso(link.expires_at)}


def set_password(session: Session, settings: Settings, token, new_password, ip: str) -> dict:
    """Single use. Clears a lockout; ends every session of the account;
    every other outstanding link for it stops working too."""
    link, subject = open_link(session, settings, token, lock=True)
    checked = credentials.policy(new_password, subject)
    credentials.set_password(subject, checked)
    credentials.clear_lockout(subject)
    session.execute(update(PasswordLink).where(
        PasswordLink.kind == link.kind, PasswordLink.subject_id == link.subject_id,
        PasswordLink.used_at.is_(None)).values(used_at=utcnow()))
    credentials.end_sessions(session, link.kind, subject.id)
    audit.record(session, link.kind, subject.id, "password.changed", ip=ip,
                 detail=f"{link.purpose} link")
    log.info("%s account %s set its password with a %s link", link.kind, subject.id, link.purpose)
    return {"kind": link.kind, "username": credentials.username_of(subject)}
