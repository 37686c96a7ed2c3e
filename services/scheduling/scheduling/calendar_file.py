"""The `.ics` a person adds to their calendar. It travels to phones and
shared calendars, so it says only where and when: SUMMARY "Appointment at
<organization>", never the clinician, a specialty or a service."""
from __future__ import annotations

from datetime import datetime, timezone

from icalendar import Calendar, Event

from scheduling import domain
from scheduling.models import Appointment

PRODID = "-//Cairn//Scheduling//EN"
ONLINE = "Online (link in the portal)"


def summary(organization_name: str) -> str:
    name = " ".join(str(organization_name or "").split())
    return f"Appointment at {name}" if name else "Appointment"


def location(row: Appointment) -> str:
    if row.mode == domain.TELEHEALTH:
        return ONLINE
    parts = [row.location_name, row.location_address]
    return ", ".join(part.strip() for part in parts if part and part.strip())


def ics(row: Appointment, organization_name: str, uid_domain: str = "cairn.invalid",
        now: datetime | None = None) -> str:
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "PUBLISH")
    event = Event()
    event.add("uid", f"{row.id}@{uid_domain}")
    stamp = now or datetime.now(timezone.utc)
    event.add("dtstamp", stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc))
    event.add("dtstart", row.starts_at.replace(tzinfo=timezone.utc))
    event.add("dtend", row.ends_at.replace(tzinfo=timezone.utc))
    event.add("summary", summary(organization_name))
    where = location(row)
    if where:
        event.add("location", where)
    event.add("description", "Details and the video link are in the portal."
              if row.mode == domain.TELEHEALTH else "Details are in the portal.")
    event.add("sequence", max(row.revision - 1, 0))
    event.add("status", "CANCELLED" if row.status == domain.CANCELLED else "CONFIRMED")
    calendar.add_component(event)
    return calendar.to_ical().decode("utf-8")
