"""The delivery log, the portal inbox and people's preferences. A delivery
row is both the log and the guard against sending twice: it is claimed (a
lease, committed) before the email goes out and finished in the handler's
final transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.outbox import record_event

from notifications import domain
from notifications.models import Delivery, InboxMessage, Preference

SOURCE = "notifications"
QUEUED, SENT, FAILED, SKIPPED = "queued", "sent", "failed", "skipped"
FINAL = (SENT, FAILED, SKIPPED)


class AlreadyFinal(Exception):
    """The delivery was sent, failed or skipped already: a redelivered event."""


class DeliveryBusy(Exception):
    """Another worker holds the delivery's lease (it is sending it now)."""


@dataclass(frozen=True)
class Notice:
    """One notification the event asks for: the delivery row's identity."""
    cause_event_id: str
    kind: str
    person_id: str                # who it is for: client, portal account or staff id
    client_id: str | None = None  # the client it concerns, if any


@dataclass(frozen=True)
class Claim:
    id: str
    attempt: int


def _row(db: Session, notice: Notice) -> Delivery | None:
    return db.scalars(select(Delivery).where(Delivery.cause_event_id == notice.cause_event_id,
                                             Delivery.kind == notice.kind)).first()


def _new_row(notice: Notice, now, **values) -> Delivery:
    return Delivery(id=domain.new_id("ntf"), cause_event_id=notice.cause_event_id,
                    kind=notice.kind, channel=domain.EMAIL_CHANNEL, client_id=notice.client_id,
                    person_id=notice.person_id, created_at=now, updated_at=now, **values)


def status_of(db: Session, cause_event_id: str, kind: str) -> str | None:
    status = db.scalar(select(Delivery.status).where(Delivery.cause_event_id == cause_event_id,
                                                    Delivery.kind == kind))
    db.rollback()  # no transaction left open across the RPC calls that follow
    return status


def claim(db: Session, notice: Notice, recipient: str, lease_seconds: float) -> Claim:
    """Record one more attempt and take the lease, in its own transaction."""
    now = utcnow()
    until = now + timedelta(seconds=lease_seconds)
    row = _row(db, notice)
    if row is None:
        row = _new_row(notice, now, recipient=recipient, status=QUEUED, attempts=1,
                       claimed_until=until)
        db.add(row)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise DeliveryBusy(f"delivery for event {notice.cause_event_id} ({notice.kind}) "
                               "is being created") from None
        return Claim(row.id, 1)
    if row.status in FINAL:
        db.rollback()
        raise AlreadyFinal(row.id)
    delivery_id, attempt = row.id, row.attempts + 1
    result = db.execute(
        update(Delivery)
        .where(Delivery.id == delivery_id, Delivery.status == QUEUED,
               or_(Delivery.claimed_until.is_(None), Delivery.claimed_until < now))
        .values(attempts=Delivery.attempts + 1, claimed_until=until, recipient=recipient,
                updated_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        db.rollback()
        raise DeliveryBusy(f"delivery {delivery_id} is being sent by another worker")
    db.commit()
    return Claim(delivery_id, attempt)


def release(db: Session, delivery_id: str, error: str) -> None:
    """A failed attempt that will be retried: note why, give up the lease."""
    db.rollback()
    db.execute(update(Delivery).where(Delivery.id == delivery_id).values(
        last_error=domain.scrub(error), claimed_until=None, updated_at=utcnow()))
    db.commit()


def finish(db: Session, delivery_id: str, *, provider_message_id: str | None = None,
           error: str | None = None) -> None:
    """Sent (or permanently failed) plus its event, in the caller's transaction."""
    now = utcnow()
    values = ({"status": FAILED, "last_error": domain.scrub(error)} if error is not None else
              {"status": SENT, "provider_message_id": provider_message_id, "last_error": None,
               "sent_at": now})
    result = db.execute(update(Delivery)
                        .where(Delivery.id == delivery_id, Delivery.status == QUEUED)
                        .values(claimed_until=None, updated_at=now, **values)
                        .execution_options(synchronize_session=False))
    if result.rowcount == 1:
        _record_outcome(db, db.get(Delivery, delivery_id, populate_existing=True))


def record_undeliverable(db: Session, notice: Notice, reason: str) -> None:
    """No attempt possible (no address, unknown client): failed plus
    NotificationFailed, in the caller's transaction."""
    row = _close_without_sending(db, notice, FAILED, reason)
    if row is not None:
        _record_outcome(db, row)


def record_skipped(db: Session, notice: Notice, reason: str) -> None:
    """Deliberately not sent (reminders turned off, the payer already saw the
    decline): logged, no event, in the caller's transaction."""
    _close_without_sending(db, notice, SKIPPED, reason)


def _close_without_sending(db: Session, notice: Notice, status: str,
                           reason: str) -> Delivery | None:
    now = utcnow()
    row = _row(db, notice)
    if row is None:
        row = _new_row(notice, now, recipient="", attempts=0)
        db.add(row)
    elif row.status in FINAL:
        return None
    row.status, row.last_error, row.claimed_until, row.updated_at = (
        status, domain.scrub(reason), None, now)
    db.flush()
    return row


def post_inbox(db: Session, cause_event_id: str, client_id: str, message: dict,
               kind: str = domain.INVOICE_POSTED) -> bool:
    """Put a message in the client's portal inbox once, with its delivery row
    and event, in its own transaction (so it does not wait for email)."""
    if status_of(db, cause_event_id, kind) is not None:
        return False
    now = utcnow()
    delivery = Delivery(id=domain.new_id("ntf"), cause_event_id=cause_event_id, kind=kind,
                        channel=domain.PORTAL_CHANNEL, client_id=client_id, person_id=client_id,
                        recipient=client_id, status=SENT, attempts=1, created_at=now,
                        updated_at=now, sent_at=now)
    inbox = InboxMessage(id=domain.new_id("msg"), client_id=client_id,
                         cause_event_id=cause_event_id, kind=kind, created_at=now, **message)
    db.add_all([delivery, inbox])
    try:
        db.flush()
        _record_outcome(db, delivery)
        db.commit()
    except IntegrityError:
        db.rollback()
        return False
    return True


def _record_outcome(db: Session, row: Delivery) -> None:
    notice = {"notification_id": row.id, "kind": row.kind, "channel": row.channel,
              "cause_event_id": row.cause_event_id}
    if row.status == SENT:
        if row.provider_message_id:
            notice["provider_message_id"] = row.provider_message_id
        record_event(db, SOURCE, "NotificationDelivered", notice)
    else:
        record_event(db, SOURCE, "NotificationFailed", {**notice, "reason": row.last_error})


def recent_deliveries(db: Session, limit: int) -> list[Delivery]:
    return list(db.scalars(select(Delivery).order_by(Delivery.created_at.desc(), Delivery.id)
                           .limit(limit)))


# ---- portal inbox ---------------------------------------------------------

def inbox_for(db: Session, client_id: str) -> list[InboxMessage]:
    return list(db.scalars(select(InboxMessage).where(InboxMessage.client_id == client_id)
                           .order_by(InboxMessage.created_at.desc(), InboxMessage.id)))


def mark_read(db: Session, client_id: str, message_id: str) -> InboxMessage | None:
    """Stamp the first read; None when the client has no such message."""
    db.execute(update(InboxMessage)
               .where(InboxMessage.id == message_id, InboxMessage.client_id == client_id,
                      InboxMessage.read_at.is_(None))
               .values(read_at=utcnow()).execution_options(synchronize_session=False))
    db.commit()
    return db.scalars(select(InboxMessage).where(InboxMessage.id == message_id,
                                                 InboxMessage.client_id == client_id)
                      .execution_options(populate_existing=True)).first()


# ---- preferences ----------------------------------------------------------

@dataclass(frozen=True)
class Preferences:
    reminders: bool = True
    updated_at: object = None  # datetime of the last change, None for the defaults


def preferences(db: Session, person_id: str | None) -> Preferences:
    """The person's preferences (defaults when they never chose); leaves no
    transaction open."""
    row = db.execute(select(Preference.reminders, Preference.updated_at)
                     .where(Preference.person_id == person_id)).first() if person_id else None
    db.rollback()
    return Preferences(row.reminders, row.updated_at) if row is not None else Preferences()


def save_preferences(db: Session, person_id: str, changes: dict) -> Preferences:
    """Apply validated changes (`{"reminders": bool}` or nothing) and commit."""
    for attempt in range(2):
        row = db.get(Preference, person_id, populate_existing=True, with_for_update=True)
        if row is None:
            row = Preference(person_id=person_id, reminders=True)
            db.add(row)
        if domain.REMINDERS in changes:
            row.reminders = changes[domain.REMINDERS]
        row.updated_at = utcnow()
        try:
            db.commit()
            return Preferences(row.reminders, row.updated_at)
        except IntegrityError:  # created by a concurrent call: update that row
            db.rollback()
            if attempt:
                raise
    raise AssertionError("unreachable")
