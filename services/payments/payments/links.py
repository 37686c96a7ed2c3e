"""One-time payment links: made once per sending, opened without signing in,
limited against card testing, and showing an invoice's services only after
the payer proves who they are."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Conflict, Gone, InvalidInput, NotFound, TooManyAttempts

from payments import domain
from payments.models import LinkAttempt, LinkViewGrant, PaymentLink

log = logging.getLogger(__name__)
NOT_VALID = "This payment link is not valid. Check the link in your email."
EXPIRED = "This payment link has expired. Contact the clinic for a new one."
SUPERSEDED = ("This payment link is no longer valid. Use the link in the newest email from "
              "the clinic, or sign in to the portal to pay.")


def issue_link(session: Session, invoice_id: str, client_id: str, request_key: str,
               ttl: timedelta, sent_at: datetime | None = None) -> PaymentLink:
    """The link for `request_key`, made once: a retried or concurrent request
    with the same key gets the same link."""
    query = select(PaymentLink).where(PaymentLink.request_key == request_key)
    existing = session.scalars(query).first()
    if existing:
        return existing
    now = utcnow()
    link = PaymentLink(id=domain.new_link_id(), request_key=request_key, invoice_id=invoice_id,
                       client_id=client_id, created_at=now, sent_at=sent_at or now,
                       expires_at=now + ttl, declines=0, identity_failures=0)
    session.add(link)
    try:
        session.flush()
    except IntegrityError:
        session.rollback()
        return session.scalars(query).one()
    return link


@dataclass(frozen=True)
class OpenedLink:
    link: PaymentLink
    verified: bool       # the payer proved who they are: the lines may be shown


def open_link(session: Session, token, secret: str, grant: str | None = None) -> OpenedLink:
    """The link behind a token. NotFound if tampered with; Gone if expired,
    voided, or superseded by a later sending. A paid link opens (to say it
    is paid) but shows nothing else."""
    link_id = domain.link_id_from_token(token, secret)
    link = session.get(PaymentLink, link_id) if link_id else None
    if link is None:
        raise NotFound(NOT_VALID)
    if link.used_at is None:
        if link.revoked_at is not None or _superseded(session, link):
            raise Gone(SUPERSEDED)
        if link.expires_at < utcnow():
            raise Gone(EXPIRED)
    return OpenedLink(link, link.used_at is None and _granted(session, link, grant))


def _superseded(session: Session, link: PaymentLink) -> bool:
    sent = link.sent_at or link.created_at
    return session.scalar(select(func.count()).select_from(PaymentLink).where(
        PaymentLink.invoice_id == link.invoice_id, PaymentLink.id != link.id,
        func.coalesce(PaymentLink.sent_at, PaymentLink.created_at) > sent)) > 0


def _granted(session: Session, link: PaymentLink, grant: str | None) -> bool:
    if not grant or not isinstance(grant, str) or len(grant) > 100:
        return False
    found = session.get(LinkViewGrant, domain.grant_hash(grant))
    return found is not None and found.link_id == link.id and found.expires_at > utcnow()


# ---- limits --------------------------------------------------------------------

def check_pay_allowed(session: Session, link: PaymentLink, ip: str,
                      limits: domain.LinkLimits) -> None:
    """Refuse (and record the refusal) past the limits: a locked link, too
    many tries on this link, or from this address, in the last hour."""
    if link.used_at is not None:
        raise Conflict("This invoice has already been paid.")
    if link.locked_at is not None:
        _refuse(session, link, ip, "pay", domain.LINK_LOCKED)
    since = utcnow() - timedelta(hours=1)
    if _count(session, since, "pay", link_id=link.id) >= limits.pay_per_link_per_hour or \
            _count(session, since, "pay", ip=ip) >= limits.pay_per_address_per_hour:
        _refuse(session, link, ip, "pay", domain.TOO_MANY_TRIES)


def _count(session: Session, since: datetime, kind: str, *, link_id: str | None = None,
           ip: str | None = None) -> int:
    """Tries on one link (all of them), or failed tries from one address
    (card testing fails; a family paying several bills from one address
    does not)."""
    counted = ("ok", "declined", "refused", "wrong") if link_id else ("declined", "refused", "wrong")
    query = select(func.count()).select_from(LinkAttempt).where(
        LinkAttempt.kind == kind, LinkAttempt.at >= since, LinkAttempt.outcome.in_(counted))
    query = query.where(LinkAttempt.link_id == link_id) if link_id else \
        query.where(LinkAttempt.ip == ip)
    return session.scalar(query)


def _refuse(session: Session, link: PaymentLink, ip: str, kind: str, message: str):
    record_attempt(session, link.id, ip, kind, "limited")
    session.commit()
    log.warning("pay link %s: attempt refused (%s limit)", link.id, kind)
    raise TooManyAttempts(message)


def record_attempt(session: Session, link_id: str, ip: str, kind: str, outcome: str) -> None:
    session.add(LinkAttempt(link_id=link_id, ip=(ip or "")[:64], kind=kind, outcome=outcome,
                            at=utcnow()))


def note_decline(session: Session, link_id: str, ip: str, limits: domain.LinkLimits) -> None:
    """A declined or refused card: counted, and the link locks after a few."""
    record_attempt(session, link_id, ip, "pay", "declined")
    session.execute(update(PaymentLink).where(PaymentLink.id == link_id)
                    .values(declines=PaymentLink.declines + 1))
    link = session.scalars(select(PaymentLink).where(PaymentLink.id == link_id)
                           .execution_options(populate_existing=True)).one()
    if link.declines >= limits.declines_to_lock and link.locked_at is None:
        link.locked_at = utcnow()
        log.warning("pay link %s locked after %d declines", link_id, link.declines)
    session.commit()


# ---- proving who the payer is ---------------------------------------------------------

def check_identity_allowed(session: Session, link: PaymentLink, ip: str,
                           limits: domain.LinkLimits) -> None:
    if link.identity_locked_at is not None:
        _refuse(session, link, ip, "identity", domain.IDENTITY_LOCKED)
    since = utcnow() - timedelta(hours=1)
    if _count(session, since, "identity", ip=ip) >= limits.identity_per_address_per_hour:
        _refuse(session, link, ip, "identity", domain.TOO_MANY_TRIES)


def note_identity(session: Session, link_id: str, ip: str, matched: bool,
                  limits: domain.LinkLimits) -> str:
    """Record the answer; a match gets a view grant (the token to keep), a
    miss counts towards locking the lines away."""
    record_attempt(session, link_id, ip, "identity", "ok" if matched else "wrong")
    if not matched:
        session.execute(update(PaymentLink).where(PaymentLink.id == link_id)
                        .values(identity_failures=PaymentLink.identity_failures + 1))
        link = session.scalars(select(PaymentLink).where(PaymentLink.id == link_id)
                               .execution_options(populate_existing=True)).one()
        locked = link.identity_failures >= limits.identity_tries
        if locked:
            link.identity_locked_at = link.identity_locked_at or utcnow()
        session.commit()
        raise (TooManyAttempts(domain.IDENTITY_LOCKED) if locked else
               InvalidInput("That date of birth does not match our records. Check it and "
                            "try again."))
    token, token_hash = domain.new_grant()
    session.add(LinkViewGrant(token_hash=token_hash, link_id=link_id,
                              expires_at=utcnow() + limits.view_grant))
    session.commit()
    return token


# ---- staff and invoice events --------------------------------------------------------

def unlock(session: Session, invoice_id: str) -> int:
    """Staff unlock every link of an invoice (declines and identity tries)."""
    result = session.execute(update(PaymentLink).where(PaymentLink.invoice_id == invoice_id)
                             .values(locked_at=None, declines=0, identity_failures=0,
                                     identity_locked_at=None))
    return result.rowcount


def link_status(session: Session, invoice_id: str) -> dict:
    links = session.scalars(select(PaymentLink).where(PaymentLink.invoice_id == invoice_id)).all()
    return {"links": len(links),
            "locked": any(link.locked_at for link in links),
            "identity_locked": any(link.identity_locked_at for link in links)}


def end_links(session: Session, invoice_id: str, paid: bool) -> None:
    """The invoice is paid (the links say so) or voided (they stop working)."""
    values = {"used_at": utcnow()} if paid else {"revoked_at": utcnow()}
    column = PaymentLink.used_at if paid else PaymentLink.revoked_at
    session.execute(update(PaymentLink).where(PaymentLink.invoice_id == invoice_id,
                                              column.is_(None)).values(**values))
