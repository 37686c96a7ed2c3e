"""Input checks (every field's problem at once, in front-desk words) and
output shapes."""
from __future__ import annotations

from datetime import datetime, timedelta

from servicekit.db import iso
from servicekit.errors import InvalidFields, InvalidInput
from servicekit.text import FieldChecks, clean

from scheduling import domain
from scheduling.models import Appointment

MAX_ID = 40


def identifier(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required")
    if len(value.strip()) > MAX_ID:
        raise InvalidInput(f"{name} is too long")
    return value.strip()


def optional_identifier(name: str, value) -> str | None:
    return None if value is None else identifier(name, value)


def request_key(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 80:
        raise InvalidFields({"form": "This form has expired. Reload the page and try again."})
    return value.strip()


def by(value) -> dict:
    """Who did it: {"kind": "staff"|"portal", "id", "name"}."""
    if not isinstance(value, dict) or value.get("kind") not in ("staff", "portal", "system"):
        raise InvalidInput('by must be {"kind": "staff"|"portal", "id": ..., "name": ...}')
    return {"kind": value["kind"], "id": str(value.get("id") or ""),
            "name": " ".join(str(value.get("name") or "").split())[:200] or value["kind"]}


def _minutes(value) -> int:
    words = f"Enter the length in minutes, from {domain.MIN_MINUTES} to {domain.MAX_MINUTES}."
    if isinstance(value, bool):
        raise InvalidInput(words)
    try:
        minutes = int(str(value).strip())
    except (TypeError, ValueError):
        raise InvalidInput(words) from None
    if not domain.MIN_MINUTES <= minutes <= domain.MAX_MINUTES:
        raise InvalidInput(words)
    return minutes


def appointment_input(payload, tz_name: str, now: datetime, current: Appointment | None = None
                      ) -> dict:
    """The appointment's fields from a schedule or reschedule form (a field
    left out of a reschedule keeps its value), or InvalidFields naming every
    problem. Times typed in the clinic's zone become naive UTC."""
    if not isinstance(payload, dict):
        raise InvalidFields({"form": "Fill in the appointment's date, time and length."})
    if current is not None:
        local = domain.to_local(current.starts_at, tz_name)
        payload = {"date": local.date().isoformat(), "start_time": f"{local:%H:%M}",
                   "duration_minutes": int((current.ends_at - current.starts_at).total_seconds()
                                           // 60),
                   "mode": current.mode, "location_id": current.location_id,
                   "location_name": current.location_name,
                   "location_address": current.location_address,
                   "clinician_name": current.clinician_name,
                   **{k: v for k, v in payload.items() if v is not None}}
    checks = FieldChecks()
    day = checks.run("date", _local, domain.parse_date, payload.get("date"))
    clock = checks.run("start_time", _local, domain.parse_clock, payload.get("start_time"))
    minutes = checks.run("duration_minutes", _minutes, payload.get("duration_minutes"))
    mode = payload.get("mode")
    if mode not in domain.MODES:
        checks.add("mode", "Choose in person or telehealth.")
    clinician = checks.run("clinician_name", clean, payload.get("clinician_name"),
                           "the clinician's name", 120, required=True)
    location_id = location_name = location_address = None
    if mode == domain.IN_PERSON:
        location_id = checks.run("location_id", clean, payload.get("location_id"), "the location",
                                 MAX_ID)
        location_name = checks.run("location_id", clean, payload.get("location_name"),
                                   "the location's name", 200)
        location_address = checks.run("location_id", clean, payload.get("location_address"),
                                      "the location's address", 300)
        if not location_id and not location_name and "location_id" not in checks.errors:
            checks.add("location_id", "Choose the location for an in-person appointment.")
    starts_at = None
    if day is not None and day > now.date() + timedelta(days=domain.MAX_DAYS_AHEAD):
        checks.add("date", "Choose a date within the next two years.")
    elif day is not None and clock is not None:
        starts_at = checks.run("start_time", _local, domain.to_utc, day, clock, tz_name)
    if starts_at is not None and starts_at < now:
        checks.add("start_time" if day is not None and day >= domain.to_local(now, tz_name).date()
                   else "date", "That time has already passed. Choose a time in the future.")
    checks.raise_if_any()
    return {"starts_at": starts_at, "ends_at": starts_at + timedelta(minutes=minutes),
            "mode": mode, "location_id": location_id or None,
            "location_name": location_name or "", "location_address": location_address or "",
            "clinician_name": clinician}


def _local(parse, *args):
    try:
        return parse(*args)
    except domain.LocalTimeError as problem:
        raise InvalidFields({problem.field: str(problem)}) from None


def cancel_reason(value) -> str:
    checks = FieldChecks()
    reason = checks.run("reason", clean, value, "why the appointment is cancelled", 500,
                        required=True, multiline=True)
    checks.raise_if_any()
    return reason


def mark_status(value) -> str:
    if value not in domain.MARKS:
        raise InvalidFields({"status": "Choose completed or no-show."})
    return value


def appointment_out(row: Appointment, settings) -> dict:
    tz = settings.timezone
    start, end = domain.to_local(row.starts_at, tz), domain.to_local(row.ends_at, tz)
    telehealth = row.mode == domain.TELEHEALTH
    return {"id": row.id, "client_id": row.client_id, "starts_at": iso(row.starts_at),
            "ends_at": iso(row.ends_at), "mode": row.mode, "location_id": row.location_id,
            "location_name": row.location_name or "",
            "location_address": row.location_address or "",
            "clinician_name": row.clinician_name, "status": row.status,
            "join_url": (domain.join_url(settings.telehealth_base_url, row.join_room)
                         if telehealth and row.join_room else None),
            "cancelled_reason": row.cancelled_reason, "revision": row.revision,
            # in the clinic's zone, for forms and pages
            "local_date": start.date().isoformat(), "local_start": f"{start:%H:%M}",
            "local_end": f"{end:%H:%M}",
            "duration_minutes": int((row.ends_at - row.starts_at).total_seconds() // 60),
            "when": domain.when_words(row.starts_at, row.ends_at, tz),
            "timezone": tz}


def join_out(row: Appointment, settings, now: datetime) -> dict | None:
    window = domain.join_window(row.starts_at, row.ends_at, row.status, row.mode, now,
                                settings.join_opens_minutes)
    if window is None:
        return None
    local = domain.to_local(window.opens_at, settings.timezone)
    return {"open": window.open, "opens_at": iso(window.opens_at),
            "opens_at_words": f"{domain.day_words(local.date())} at {domain.clock_words(local)} "
                              f"{local:%Z}",
            "closes_at": iso(window.closes_at),
            "url": (domain.join_url(settings.telehealth_base_url, row.join_room)
                    if window.open and row.join_room else None)}


def event_data(row: Appointment, with_status: bool) -> dict:
    """AppointmentScheduled / AppointmentChanged: when and where only; no
    clinician, service or reason."""
    data = {"appointment_id": row.id, "client_id": row.client_id, "starts_at": iso(row.starts_at),
            "ends_at": iso(row.ends_at), "mode": row.mode, "revision": row.revision}
    if row.location_id:
        data["location_id"] = row.location_id
    if with_status:
        data["status"] = row.status
    return data
