"""Appointment reminders. Notifications keeps its own copy of each
appointment from scheduling's events (`remember`, idempotent per event id,
newest by revision), and a timer (`send_due`) claims the reminders that are
due — FOR UPDATE SKIP LOCKED, a lease, committed — then sends each one
through the ordinary delivery machinery (`handlers.deliver_email`), whose
delivery row, unique per (reminder key, kind), makes it go once.

When: CAIRN_REMINDER_LEAD_HOURS before the start, moved earlier to the last
minute before quiet hours when it falls in them (`domain.reminder_at`). A
reminder found due late (the service was down, or the appointment was booked
less than the lead time ahead) goes at once, or when quiet hours end if that
is still before the start, else it is skipped on record
(`domain.send_time`). Only scheduled appointments are reminded; a moved one
gets a new reminder for its new time; a cancelled one none. A person who
turned reminders off: skipped, on record (`deliver_email` checks)."""
from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from servicekit.db import is_postgres, utcnow
from servicekit.inbox import handle_once

from notifications import compose, domain, handlers
from notifications.models import AppointmentCopy
from notifications.settings import NotificationSettings
from notifications.store import Notice, status_of

log = logging.getLogger(__name__)

PENDING, SENDING, NONE = "pending", "sending", "none"
SCHEDULED = "scheduled"
CLAIM_BATCH = 20
RETRY_AFTER = timedelta(minutes=5)
HANDLER = "notifications.appointment_reminder"


def _moment(timestamp: str) -> datetime:
    return datetime.fromisoformat(timestamp.rstrip("Z"))


def _newer(row: AppointmentCopy, revision: int | None, occurred_at: datetime) -> bool:
    """Is the event newer than what we have? By revision when both have one,
    else by when the event happened."""
    if revision is not None and row.revision is not None:
        return revision > row.revision
    return occurred_at > row.occurred_at


def remember(db: Session, envelope: dict, handler: str, settings: NotificationSettings,
             now: datetime | None = None) -> bool:
    """Apply AppointmentScheduled / AppointmentChanged to our copy, once per
    event; an event older than the copy changes nothing."""
    return handle_once(db, envelope, handler,
                       lambda data: _apply(db, envelope, settings, now or utcnow()))


def _apply(db: Session, envelope: dict, settings: NotificationSettings, now: datetime) -> None:
    data = envelope["data"]
    status = data.get("status", SCHEDULED)
    revision, occurred_at = data.get("revision"), _moment(envelope["occurred_at"])
    starts_at, ends_at = _moment(data["starts_at"]), _moment(data["ends_at"])
    row = db.get(AppointmentCopy, data["appointment_id"], with_for_update=True,
                 populate_existing=True)
    if row is not None and not _newer(row, revision, occurred_at):
        log.info("event %s: appointment %s is older than what we have; ignored",
                 envelope["id"], data["appointment_id"])
        return
    if row is None:
        row = AppointmentCopy(appointment_id=data["appointment_id"], reminder_state=NONE)
        db.add(row)
        moved = True
    else:
        moved = row.starts_at != starts_at
    row.client_id, row.starts_at, row.ends_at = data["client_id"], starts_at, ends_at
    row.mode, row.location_id, row.status = data["mode"], data.get("location_id"), status
    row.revision, row.occurred_at, row.updated_at = revision, occurred_at, now
    if status != SCHEDULED:
        if row.reminder_state in (PENDING, SENDING):
            row.reminder_state, row.reminder_due_at, row.claimed_until = NONE, None, None
        return
    if moved or row.reminder_state == NONE:
        due = domain.reminder_at(starts_at, timedelta(hours=settings.reminder_lead_hours),
                                 settings.quiet, settings.clinic_timezone)
        row.reminder_key = str(uuid.uuid4())
        row.reminder_due_at, row.claimed_until = due, None
        row.reminder_state = PENDING if due is not None and starts_at > now else NONE


@dataclass(frozen=True)
class Due:
    """A claimed reminder, as it was when claimed."""
    appointment_id: str
    key: str
    client_id: str
    starts_at: datetime
    mode: str
    location_id: str | None


def claim_due(db: Session, now: datetime, lease: timedelta, batch: int = CLAIM_BATCH
              ) -> list[Due]:
    """Reminders due by `now` (or whose sender's lease ran out), up to
    `batch`, marked `sending` under a lease and committed. SKIP LOCKED: two
    copies of the service never take the same one."""
    query = (select(AppointmentCopy)
             .where(AppointmentCopy.status == SCHEDULED,
                    or_(and_(AppointmentCopy.reminder_state == PENDING,
                             AppointmentCopy.reminder_due_at <= now),
                        and_(AppointmentCopy.reminder_state == SENDING,
                             AppointmentCopy.claimed_until < now)))
             .order_by(AppointmentCopy.reminder_due_at).limit(batch))
    if is_postgres(db):
        query = query.with_for_update(skip_locked=True)
    rows = list(db.scalars(query.execution_options(populate_existing=True)))
    claimed = []
    for row in rows:
        row.reminder_state, row.claimed_until = SENDING, now + lease
        claimed.append(Due(row.appointment_id, row.reminder_key, row.client_id, row.starts_at,
                           row.mode, row.location_id))
    db.commit()
    return claimed


def settle(db: Session, due: Due, state: str, due_at: datetime | None = None) -> None:
    """The claimed reminder's outcome: sent / skipped / failed, or back to
    pending at `due_at` (postponed past quiet hours, or a transient failure).
    Nothing changes if the appointment moved or was cancelled meanwhile."""
    values = {"reminder_state": state, "claimed_until": None}
    if due_at is not None:
        values["reminder_due_at"] = due_at
    db.rollback()
    db.execute(update(AppointmentCopy)
               .where(AppointmentCopy.appointment_id == due.appointment_id,
                      AppointmentCopy.reminder_key == due.key,
                      AppointmentCopy.reminder_state == SENDING)
               .values(**values).execution_options(synchronize_session=False))
    db.commit()


def send_due(c, now: datetime | None = None) -> int:
    """Send what is due (several batches until none is left); returns how
    many were claimed. `c` is a `handlers.Collaborators`."""
    settings = c.settings
    lease = timedelta(seconds=settings.lease_seconds)
    total = 0
    while True:
        now_ = now or utcnow()
        batch = claim_due(c.db, now_, lease)
        total += len(batch)
        for due in batch:
            notice = Notice(due.key, domain.APPOINTMENT_REMINDER, due.client_id, due.client_id)
            envelope = {"id": due.key, "data": {"client_id": due.client_id}}
            when = domain.send_time(now_, due.starts_at, settings.quiet, settings.clinic_timezone)
            if when is None:
                handlers.skip(c, envelope, HANDLER, notice,
                              "too late: the appointment starts before quiet hours end")
                settle(c.db, due, "skipped")
                continue
            if when > now_:
                log.info("reminder %s postponed past quiet hours", due.key)
                settle(c.db, due, PENDING, due_at=when)
                continue
            try:
                handlers.deliver_email(c, envelope, HANDLER, notice,
                                       lambda: compose.appointment_reminder(c, due))
            except Exception as exc:       # transient: try again a little later
                log.warning("reminder %s for appointment %s not sent; retrying: %s", due.key,
                            due.appointment_id, domain.scrub(exc))
                settle(c.db, due, PENDING, due_at=now_ + RETRY_AFTER)
                continue
            settle(c.db, due, status_of(c.db, due.key, domain.APPOINTMENT_REMINDER) or "failed")
        if len(batch) < CLAIM_BATCH or now is not None:
            return total
