"""Shared by the scheduling tests: forms in the clinic's time, the outbox."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

from sqlalchemy import text

TZ = "America/Chicago"
STAFF = {"kind": "staff", "id": "st_1", "name": "Riley Front Desk"}


def local_in(**delta) -> datetime:
    """Clinic wall-clock time `delta` from now, to the minute (rounded up)."""
    moment = datetime.now(timezone.utc) + timedelta(**delta)
    moment = (moment + timedelta(minutes=1)).replace(second=0, microsecond=0)
    return moment.astimezone(ZoneInfo(TZ))


def form(at: datetime | None = None, **changes) -> dict:
    at = at or local_in(days=2)
    return {"date": at.date().isoformat(), "start_time": f"{at:%H:%M}", "duration_minutes": 50,
            "mode": "in_person", "location_id": "loc_main", "location_name": "Main Campus",
            "location_address": "100 Cedar Ridge Rd, Springfield",
            "clinician_name": "Casey Clinician", **changes}


def key() -> str:
    return uuid.uuid4().hex


def outbox(engine, event_type=None):
    with engine.connect() as connection:
        rows = connection.execute(text("select envelope from outbox order by seq")).all()
    found = [json.loads(row.envelope) for row in rows]
    return [e for e in found if event_type is None or e["type"] == event_type]


def count(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(text("select count(*) from appointments"))


def move_into_past(engine, appointment_id, minutes_ago=30):
    """The appointment started `minutes_ago` (a test cannot wait for it)."""
    with engine.begin() as connection:
        connection.execute(text(
            "update appointments set starts_at = now() at time zone 'utc' - make_interval("
            "mins => :m), ends_at = now() at time zone 'utc' - make_interval(mins => :m) "
            "+ interval '50 minutes' where id = :id"), {"m": minutes_ago, "id": appointment_id})
