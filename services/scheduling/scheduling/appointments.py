"""Use cases on appointments. Each writes its event to the outbox in the
caller's transaction (the service commits). A client's appointment asked for
with another client's id is NotFound, exactly like one that does not exist."""
from __future__ import annotations

import zlib
from datetime import datetime

from sqlalchemy import or_, select, text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import is_postgres, utcnow
from servicekit.errors import Conflict, InvalidFields, NotFound
from servicekit.outbox import record_event

from scheduling import domain, schemas
from scheduling.models import Appointment

SOURCE = "scheduling"
NOT_FOUND = "We could not find that appointment."


def load(db: Session, appointment_id, client_id=None, lock: bool = False) -> Appointment:
    query = select(Appointment).where(Appointment.id == str(appointment_id))
    if client_id is not None:
        query = query.where(Appointment.client_id == str(client_id))
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = db.scalars(query).first()
    if row is None:
        raise NotFound(NOT_FOUND)
    return row


def of_client(db: Session, client_id: str) -> list[Appointment]:
    return list(db.scalars(select(Appointment).where(Appointment.client_id == client_id)
                           .order_by(Appointment.starts_at, Appointment.id)))


def schedule(db: Session, client_id: str, values: dict, by: dict, request_key: str,
             now: datetime, tz: str) -> Appointment:
    earlier = db.scalars(select(Appointment).where(Appointment.request_key == request_key)).first()
    if earlier is not None:
        if earlier.client_id != client_id:
            raise Conflict("This form was already used for another client. Reload the page.")
        return earlier
    _lock_clinician(db, values["clinician_name"])
    _check_free(db, client_id, values, None, tz)
    row = Appointment(id=domain.new_id(), client_id=client_id, status=domain.SCHEDULED,
                      clinician_key=domain.clinician_key(values["clinician_name"]),
                      join_room=domain.new_room() if values["mode"] == domain.TELEHEALTH else None,
                      revision=1, request_key=request_key, created_at=now,
                      created_by_kind=by["kind"], created_by_name=by["name"], updated_at=now,
                      updated_by_name=by["name"], **values)
    db.add(row)
    try:
        db.flush()
    except IntegrityError:   # the same form sent twice at once: the first one wins
        db.rollback()
        earlier = db.scalars(select(Appointment)
                             .where(Appointment.request_key == request_key)).first()
        if earlier is None or earlier.client_id != client_id:
            raise
        return earlier
    record_event(db, SOURCE, "AppointmentScheduled", schemas.event_data(row, False))
    return row


def reschedule(db: Session, row: Appointment, values: dict, by: dict, now: datetime,
               tz: str) -> Appointment:
    if row.status != domain.SCHEDULED:
        raise Conflict("Only a scheduled appointment can be rescheduled; this one is "
                       f"{row.status.replace('_', '-')}.")
    _lock_clinician(db, values["clinician_name"])
    _check_free(db, row.client_id, values, row.id, tz)
    for name, value in values.items():
        setattr(row, name, value)
    row.clinician_key = domain.clinician_key(values["clinician_name"])
    if row.mode == domain.TELEHEALTH and not row.join_room:
        row.join_room = domain.new_room()
    return _changed(db, row, by, now)


def cancel(db: Session, row: Appointment, reason: str, by: dict, now: datetime) -> Appointment:
    if row.status != domain.SCHEDULED:
        raise Conflict(f"This appointment is already {row.status.replace('_', '-')}.")
    row.status, row.cancelled_reason = domain.CANCELLED, reason
    return _changed(db, row, by, now)


def mark(db: Session, row: Appointment, status: str, by: dict, now: datetime) -> Appointment:
    if row.status == domain.CANCELLED:
        raise Conflict("This appointment was cancelled; it cannot be marked.")
    if not domain.can_mark(row.status, row.starts_at, now):
        raise InvalidFields({"status": "An appointment can be marked completed or no-show once "
                                       "it has started."})
    if row.status == status:
        return row
    row.status = status
    return _changed(db, row, by, now)


def _changed(db: Session, row: Appointment, by: dict, now: datetime) -> Appointment:
    row.revision += 1
    row.updated_at, row.updated_by_name = now, by["name"]
    db.flush()
    record_event(db, SOURCE, "AppointmentChanged", schemas.event_data(row, True))
    return row


def _lock_clinician(db: Session, clinician_name: str) -> None:
    """Two front desks booking the same clinician at once: the second waits
    for the first's commit, then sees its appointment (transaction lock)."""
    if is_postgres(db):
        key = zlib.crc32(domain.clinician_key(clinician_name).encode("utf-8"))
        db.execute(text("select pg_advisory_xact_lock(:ns, :key)"),
                   {"ns": 0x5C4E, "key": key - (1 << 31)})


def _check_free(db: Session, client_id: str, values: dict, ignore_id: str | None,
                tz: str) -> None:
    """The clinician and the client are each in one place at a time."""
    start, end = values["starts_at"], values["ends_at"]
    clash = select(Appointment).where(
        Appointment.status == domain.SCHEDULED, Appointment.starts_at < end,
        Appointment.ends_at > start,
        or_(Appointment.clinician_key == domain.clinician_key(values["clinician_name"]),
            Appointment.client_id == client_id))
    if ignore_id:
        clash = clash.where(Appointment.id != ignore_id)
    found = db.scalars(clash.order_by(Appointment.starts_at).limit(5)).all()
    problems = {}
    for other in found:
        when = domain.when_words(other.starts_at, other.ends_at, tz)
        if other.clinician_key == domain.clinician_key(values["clinician_name"]):
            problems.setdefault("start_time", (
                f"{values['clinician_name']} already has an appointment at that time ({when}). "
                "Choose another time or clinician."))
        if other.client_id == client_id:
            problems.setdefault("date", (
                f"This client already has an appointment at that time ({when}). "
                "Choose another time."))
    if problems:
        raise InvalidFields(problems)


def split(rows: list[Appointment], now: datetime) -> tuple[list[Appointment], list[Appointment]]:
    """Upcoming soonest first; past (and cancelled) newest first."""
    upcoming = [r for r in rows if domain.is_upcoming(r.status, r.ends_at, now)]
    past = [r for r in rows if not domain.is_upcoming(r.status, r.ends_at, now)]
    upcoming.sort(key=lambda r: (r.starts_at, r.id))
    past.sort(key=lambda r: (r.starts_at, r.id), reverse=True)
    return upcoming, past


def now() -> datetime:
    return utcnow()
