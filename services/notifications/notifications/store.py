"""The delivery log and the portal inbox. A delivery row is both the log and
the guard against sending twice: it is claimed (a lease, committed) before
the email goes out and finished in the handler's final transaction."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.outbox import record_event

from notifications import domain
from notifications.models import Delivery, InboxMessage

SOURCE = "notifications"
QUEUED, SENT, FAILED = "queued", "sent", "failed"
FINAL = (SENT, FAILED)


class AlreadyFinal(Exception):
    """The delivery was sent or failed already: a redelivered event."""


class DeliveryBusy(Exception):
    """Another worker holds the delivery's lease (it is sending it now)."""


@dataclass(frozen=True)
class Claim:
    id: str
    attempt: int


def status_of(db: Session, cause_event_id: str, kind: str) -> str | None:
    status = db.scalar(select(Delivery.status).where(Delivery.cause_event_id == cause_event_id,
                                                    Delivery.kind == kind))
    db.rollback()  # no transaction left open across the RPC calls that follow
    return status


def claim(db: Session, cause_event_id: str, kind: str, client_id: str, recipient: str,
          lease_seconds: float) -> Claim:
    """Record one more attempt and take the lease, in its own transaction."""
    now = utcnow()
    until = now + timedelta(seconds=lease_seconds)
    row = db.scalars(select(Delivery).where(Delivery.cause_event_id == cause_event_id,
                                            Delivery.kind == kind)).first()
    if row is None:
        row = Delivery(id=domain.new_id("ntf"), cause_event_id=cause_event_id, kind=kind,
                       channel=domain.EMAIL_CHANNEL, client_id=client_id, recipient=recipient,
                       status=QUEUED, attempts=1, claimed_until=until, created_at=now,
                       updated_at=now)
        db.add(row)
        try:
            db.commit()
        except IntegrityError:
            db.rollback()
            raise DeliveryBusy(f"delivery for event {cause_event_id} ({kind}) is being created") from None
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


def record_undeliverable(db: Session, cause_event_id: str, kind: str, client_id: str,
                         reason: str) -> None:
    """No attempt possible (no address, unknown client): failed, in the
    caller's transaction."""
    now = utcnow()
    row = db.scalars(select(Delivery).where(Delivery.cause_event_id == cause_event_id,
                                            Delivery.kind == kind)).first()
    if row is None:
        row = Delivery(id=domain.new_id("ntf"), cause_event_id=cause_event_id, kind=kind,
                       channel=domain.EMAIL_CHANNEL, client_id=client_id, recipient="",
                       attempts=0, created_at=now)
        db.add(row)
    elif row.status in FINAL:
        return
    row.status, row.last_error, row.claimed_until, row.updated_at = (
        FAILED, domain.scrub(reason), None, now)
    db.flush()
    _record_outcome(db, row)


def post_inbox(db: Session, cause_event_id: str, client_id: str, message: dict) -> bool:
    """Put a message in the client's portal inbox once, with its delivery row
    and event, in its own transaction (so it does not wait for email)."""
    kind = domain.INVOICE_POSTED
    if status_of(db, cause_event_id, kind) is not None:
        return False
    now = utcnow()
    delivery = Delivery(id=domain.new_id("ntf"), cause_event_id=cause_event_id, kind=kind,
                        channel=domain.PORTAL_CHANNEL, client_id=client_id, recipient=client_id,
                        status=SENT, attempts=1, created_at=now, updated_at=now, sent_at=now)
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


def inbox_for(db: Session, client_id: str) -> list[InboxMessage]:
    return list(db.scalars(select(InboxMessage).where(InboxMessage.client_id == client_id)
                           .order_by(InboxMessage.created_at.desc(), InboxMessage.id)))
