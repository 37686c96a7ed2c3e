"""Rules that need no I/O: clinic-time input to UTC, the telehealth join
window, overlaps, what may change in which status, and how a time is said
to a person. Times are naive UTC datetimes (as stored) unless named local."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

SCHEDULED, CANCELLED, COMPLETED, NO_SHOW = "scheduled", "cancelled", "completed", "no_show"
STATUSES = (SCHEDULED, CANCELLED, COMPLETED, NO_SHOW)
MARKS = (COMPLETED, NO_SHOW)           # what staff mark an appointment that took place (or not)
IN_PERSON, TELEHEALTH = "in_person", "telehealth"
MODES = (IN_PERSON, TELEHEALTH)
MIN_MINUTES, MAX_MINUTES = 5, 480
MAX_DAYS_AHEAD = 731                   # booked at most two years ahead
_CLOCK = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")


class LocalTimeError(ValueError):
    """A date or time that cannot be an appointment's; the message is in
    front-desk words and names the field in `field`."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


def new_id() -> str:
    return f"apt_{secrets.token_hex(8)}"


def new_room() -> str:
    """The random part of a telehealth link: nothing about the client."""
    return secrets.token_urlsafe(18)


def join_url(base: str, room: str) -> str:
    return base.rstrip("/") + "/" + room


def clinician_key(name: str) -> str:
    """The same clinician however the name was typed ("casey  CLINICIAN")."""
    return " ".join(name.split()).casefold()


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(str(text or "").strip())
    except ValueError:
        raise LocalTimeError("date", "Enter the date as YYYY-MM-DD, for example 2026-12-03.") \
            from None


def parse_clock(text: str) -> time:
    found = _CLOCK.match(str(text or "").strip())
    if not found:
        raise LocalTimeError("start_time", "Enter the start time as HH:MM on a 24-hour clock, "
                                           "for example 14:30.")
    return time(int(found.group(1)), int(found.group(2)))


def to_utc(day: date, clock: time, tz_name: str) -> datetime:
    """A wall-clock time in the clinic's zone as naive UTC. A time the
    clocks skip (the spring change) is refused; a time they pass twice (the
    autumn change) is the first of the two."""
    zone = ZoneInfo(tz_name)
    local = datetime.combine(day, clock, tzinfo=zone)
    moment = local.astimezone(timezone.utc)
    if moment.astimezone(zone).replace(tzinfo=None) != local.replace(tzinfo=None):
        raise LocalTimeError("start_time", "That time does not exist on that day (the clocks "
                                           "change). Choose another time.")
    return moment.replace(tzinfo=None)


def to_local(moment: datetime, tz_name: str) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name))


def overlaps(start_a: datetime, end_a: datetime, start_b: datetime, end_b: datetime) -> bool:
    """Half-open: one ending at 3:00 and the next starting at 3:00 do not overlap."""
    return start_a < end_b and start_b < end_a


@dataclass(frozen=True)
class JoinWindow:
    open: bool
    opens_at: datetime        # naive UTC
    closes_at: datetime


def join_window(starts_at: datetime, ends_at: datetime, status: str, mode: str,
                now: datetime, opens_minutes: int) -> JoinWindow | None:
    """None unless telehealth. Open from `opens_minutes` before the start
    until the end, while the appointment is scheduled."""
    if mode != TELEHEALTH:
        return None
    opens_at = starts_at - timedelta(minutes=opens_minutes)
    return JoinWindow(status == SCHEDULED and opens_at <= now < ends_at, opens_at, ends_at)


def is_upcoming(status: str, ends_at: datetime, now: datetime) -> bool:
    """Upcoming: scheduled and not over. Everything else (over, cancelled,
    completed, no-show) is past."""
    return status == SCHEDULED and ends_at > now


def can_mark(status: str, starts_at: datetime, now: datetime) -> bool:
    """Completed / no-show once it has started; a mark can be corrected."""
    return status in (SCHEDULED, COMPLETED, NO_SHOW) and starts_at <= now


def clock_words(moment: datetime) -> str:
    """`3:05 PM`"""
    return f"{moment:%I:%M %p}".lstrip("0")


def day_words(day: date) -> str:
    """`Thursday, December 3, 2026`"""
    return f"{day:%A}, {day:%B} {day.day}, {day.year}"


def when_words(starts_at: datetime, ends_at: datetime, tz_name: str) -> str:
    """`Thursday, December 3, 2026, 10:00 AM – 10:50 AM EST`"""
    start, end = to_local(starts_at, tz_name), to_local(ends_at, tz_name)
    if start.date() == end.date():
        return f"{day_words(start.date())}, {clock_words(start)} – {clock_words(end)} {end:%Z}"
    return (f"{day_words(start.date())}, {clock_words(start)} – "
            f"{day_words(end.date())}, {clock_words(end)} {end:%Z}")
