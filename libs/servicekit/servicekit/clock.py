"""The business calendar: what day it is for due dates, installments, aging
and delivery deadlines. Outside production mode, a test or a demo can move
it forward by writing a number of days into the file named by
CAIRN_CLOCK_OFFSET_FILE (read again when it changes); sessions, tokens and
logs keep the real time (servicekit.db.utcnow)."""
from __future__ import annotations

import os
from datetime import date, timedelta

from servicekit import config
from servicekit.db import utcnow

_seen: dict[str, tuple[float, int]] = {}


def offset_days() -> int:
    path = os.environ.get("CAIRN_CLOCK_OFFSET_FILE", "")
    if not path or config.is_production():
        return 0
    try:
        changed = os.stat(path).st_mtime
    except OSError:
        return 0
    cached = _seen.get(path)
    if cached and cached[0] == changed:
        return cached[1]
    try:
        with open(path, encoding="ascii") as handle:
            days = int(handle.read().strip() or 0)
    except (OSError, ValueError):
        days = 0
    _seen[path] = (changed, days)
    return days


def today() -> date:
    """Today's date (UTC) on the business calendar."""
    return (utcnow() + timedelta(days=offset_days())).date()


def advance(path: str, days: int) -> None:
    """Tests and demos: move the business calendar `days` forward of real time."""
    with open(path, "w", encoding="ascii") as handle:
        handle.write(str(int(days)))
