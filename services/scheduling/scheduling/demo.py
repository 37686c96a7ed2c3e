"""The demo clinic's appointments for `make run`: Avery Lindqvist has a
telehealth appointment starting about five minutes after seeding (so Join
opens almost at once), one tomorrow at the Main Campus and two past ones;
the guardian's children (Ellis and Kai Reyes) have one each. Safe to run
again: nothing is added twice, and an upcoming demo appointment that is
over by then is moved forward again (an AppointmentChanged), so Join works
on every `make run`. Each new or moved appointment goes through the outbox,
so notifications keeps its copy and reminds."""
from __future__ import annotations

import sys
from datetime import datetime, time, timedelta

from sqlalchemy.orm import Session

from servicekit.config import database_url, env
from servicekit.db import engine_for, utcnow
from servicekit.outbox import record_event

from scheduling import domain, schemas
from scheduling.models import Appointment
from scheduling.settings import DEFAULT_TIMEZONE

CLINICIAN = "Casey Clinician"
MAIN = ("loc_main", "Main Campus", "100 Cedar Ridge Rd, Springfield")
NORTH = ("loc_north", "North Clinic", "42 Birch St, Shelbyville")
BY = {"kind": "staff", "name": "Riley Front Desk"}


def _at(days: int, hour: int, minute: int, tz: str) -> datetime:
    today = domain.to_local(utcnow(), tz).date()
    return domain.to_utc(today + timedelta(days=days), time(hour, minute), tz)


def plan(now: datetime, tz: str) -> list[dict]:
    """(id, client, start, minutes, mode, location, status, upcoming?)"""
    soon = (now + timedelta(minutes=5)).replace(second=0, microsecond=0)
    return [
        {"id": "apt_demo_avery_join", "client_id": "cl_demo_avery", "starts_at": soon,
         "minutes": 50, "location": None, "status": domain.SCHEDULED, "upcoming": True},
        {"id": "apt_demo_avery_tomorrow", "client_id": "cl_demo_avery",
         "starts_at": _at(1, 10, 0, tz), "minutes": 50, "location": MAIN,
         "status": domain.SCHEDULED, "upcoming": True},
        {"id": "apt_demo_avery_past1", "client_id": "cl_demo_avery",
         "starts_at": _at(-7, 10, 0, tz), "minutes": 50, "location": MAIN,
         "status": domain.COMPLETED, "upcoming": False},
        {"id": "apt_demo_avery_past2", "client_id": "cl_demo_avery",
         "starts_at": _at(-14, 15, 0, tz), "minutes": 50, "location": None,
         "status": domain.COMPLETED, "upcoming": False},
        {"id": "apt_demo_ellis", "client_id": "cl_demo_ellis", "starts_at": _at(2, 16, 0, tz),
         "minutes": 45, "location": None, "status": domain.SCHEDULED, "upcoming": True},
        {"id": "apt_demo_kai", "client_id": "cl_demo_kai", "starts_at": _at(3, 15, 30, tz),
         "minutes": 45, "location": NORTH, "status": domain.SCHEDULED, "upcoming": True},
    ]


def seed(session: Session, tz: str) -> None:
    now = utcnow()
    for item in plan(now, tz):
        row = session.get(Appointment, item["id"])
        ends_at = item["starts_at"] + timedelta(minutes=item["minutes"])
        if row is None:
            location_id, location_name, address = item["location"] or (None, "", "")
            row = Appointment(
                id=item["id"], client_id=item["client_id"], starts_at=item["starts_at"],
                ends_at=ends_at, mode=domain.IN_PERSON if item["location"] else domain.TELEHEALTH,
                location_id=location_id, location_name=location_name, location_address=address,
                clinician_name=CLINICIAN, clinician_key=domain.clinician_key(CLINICIAN),
                status=item["status"],
                join_room=None if item["location"] else domain.new_room(),
                revision=1, request_key=f"demo:{item['id']}", created_at=now,
                created_by_kind=BY["kind"], created_by_name=BY["name"], updated_at=now,
                updated_by_name=BY["name"])
            session.add(row)
            session.flush()
            record_event(session, "scheduling", "AppointmentScheduled" if row.status ==
                         domain.SCHEDULED else "AppointmentChanged",
                         schemas.event_data(row, row.status != domain.SCHEDULED))
        elif item["upcoming"] and (row.status != domain.SCHEDULED or row.ends_at <= now):
            row.starts_at, row.ends_at, row.status = item["starts_at"], ends_at, domain.SCHEDULED
            row.cancelled_reason, row.revision, row.updated_at = None, row.revision + 1, now
            session.flush()
            record_event(session, "scheduling", "AppointmentChanged",
                         schemas.event_data(row, True))
    session.commit()


if __name__ == "__main__":
    zone = env("CLINIC_TIMEZONE") or env("TIMEZONE") or DEFAULT_TIMEZONE
    with Session(engine_for(database_url("scheduling"))) as db_session:
        seed(db_session, zone)
    sys.stdout.write("scheduling: demo appointments loaded\n")
