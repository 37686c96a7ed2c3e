"""Times as the portal shows them: in the clinic's time zone
(CAIRN_CLINIC_TIMEZONE, else CAIRN_TIMEZONE as notifications reads it, else
America/New_York), in words a patient reads ("Wednesday, December 2, 2026",
"2:50 PM"). Pure functions; times arrive as ISO-8601 UTC strings."""
from __future__ import annotations

from datetime import datetime, timezone
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from servicekit.config import setting

DEFAULT_TIMEZONE = "America/New_York"


def clinic_zone(settings: dict) -> ZoneInfo:
    name = setting(settings, "CLINIC_TIMEZONE", None) or setting(settings, "TIMEZONE", None) \
        or DEFAULT_TIMEZONE
    try:
        return ZoneInfo(str(name))
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(DEFAULT_TIMEZONE)


def moment(timestamp: str) -> datetime:
    parsed = datetime.fromisoformat(str(timestamp).replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def local(timestamp: str, zone: ZoneInfo) -> datetime:
    return moment(timestamp).astimezone(zone)


def day_words(when: datetime) -> str:
    return f"{when:%A}, {when:%B} {when.day}, {when.year}"


def clock(when: datetime) -> str:
    return f"{when:%I:%M %p}".lstrip("0")


def span(starts_at: str, ends_at: str | None, zone: ZoneInfo) -> dict:
    """{"date": "Wednesday, December 2, 2026", "time": "3:00 PM – 3:50 PM EST"}."""
    start = local(starts_at, zone)
    time = clock(start)
    if ends_at:
        time += " – " + clock(local(ends_at, zone))
    return {"date": day_words(start), "time": f"{time} {start:%Z}"}


def opens_words(opens_at: str, zone: ZoneInfo, now: datetime | None = None) -> str:
    """"Join opens at 2:50 PM" today, else "Join opens on December 2 at 2:50 PM"."""
    opens = local(opens_at, zone)
    today = (now or datetime.now(timezone.utc)).astimezone(zone).date()
    if opens.date() == today:
        return f"Join opens at {clock(opens)}"
    return f"Join opens on {opens:%B} {opens.day} at {clock(opens)}"
