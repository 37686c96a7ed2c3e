"""When an appointment reminder goes: the lead time before the start, never
in quiet hours (moved to the last minute before they begin), and what a
reminder found late does. Checked over many start times, quiet hours and
clinic zones (clock changes included)."""
from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from notifications.domain import (QuietHours, in_quiet_hours, parse_quiet_hours, reminder_at,
                                  send_time)

NIGHT = QuietHours(time(21, 0), time(8, 0))
CHICAGO = "America/Chicago"
ZONES = st.sampled_from(["America/New_York", "America/Chicago", "UTC", "Europe/London",
                         "Australia/Lord_Howe"])   # Lord Howe moves its clocks by 30 minutes
MINUTE_STARTS = st.datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2028, 12, 31)
                             ).map(lambda d: d.replace(second=0, microsecond=0))
CLOCKS = st.builds(time, st.integers(0, 23), st.sampled_from([0, 15, 30, 45, 59]))
QUIET = st.builds(QuietHours, CLOCKS, CLOCKS)
LEADS = st.sampled_from([timedelta(hours=h) for h in (1, 2, 12, 24, 48, 72)])


def test_quiet_hours_are_read_from_the_setting():
    assert parse_quiet_hours("21:00-08:00") == NIGHT
    assert parse_quiet_hours(" 9:30 - 17:00 ") == QuietHours(time(9, 30), time(17, 0))
    assert parse_quiet_hours("") is None and parse_quiet_hours("off") is None
    with pytest.raises(ValueError):
        parse_quiet_hours("9pm to 8am")


def test_a_reminder_due_in_the_afternoon_goes_exactly_a_day_before():
    start = datetime(2026, 12, 10, 20, 0)            # 2:00 PM in Chicago
    assert reminder_at(start, timedelta(hours=24), NIGHT, CHICAGO) == datetime(2026, 12, 9, 20, 0)


def test_a_reminder_due_at_night_goes_the_evening_before_quiet_hours_begin():
    start = datetime(2026, 12, 10, 13, 30)           # 7:30 AM in Chicago: 24 h before is 7:30 AM
    assert reminder_at(start, timedelta(hours=24), NIGHT, CHICAGO) == \
        datetime(2026, 12, 9, 2, 59)                 # 8:59 PM on December 8, Chicago


def test_a_late_reminder_waits_for_the_morning_or_is_skipped():
    night = datetime(2026, 12, 9, 5, 0)              # 11:00 PM December 8 in Chicago
    assert send_time(night, datetime(2026, 12, 9, 20, 0), NIGHT, CHICAGO) == \
        datetime(2026, 12, 9, 14, 0)                 # 8:00 AM, before the 2:00 PM start
    assert send_time(night, datetime(2026, 12, 9, 13, 30), NIGHT, CHICAGO) is None   # 7:30 AM
    day = datetime(2026, 12, 9, 18, 0)
    assert send_time(day, datetime(2026, 12, 9, 20, 0), NIGHT, CHICAGO) == day
    assert send_time(day, day, NIGHT, CHICAGO) is None                    # already started


@settings(max_examples=400, deadline=None)
@given(start=MINUTE_STARTS, lead=LEADS, quiet=QUIET, zone=ZONES)
def test_a_reminder_is_never_in_quiet_hours_and_always_before_the_start(start, lead, quiet, zone):
    at = reminder_at(start, lead, quiet, zone)
    assert at is not None
    assert not in_quiet_hours(at, quiet, zone)
    assert at <= start - lead < start
    assert start - lead - at < timedelta(hours=25)       # at most the quiet stretch earlier
    if not in_quiet_hours(start - lead, quiet, zone):
        assert at == start - lead


@settings(max_examples=400, deadline=None)
@given(now=MINUTE_STARTS, ahead=st.integers(1, 60 * 36), quiet=QUIET, zone=ZONES)
def test_a_late_reminder_goes_outside_quiet_hours_before_the_start_or_not_at_all(
        now, ahead, quiet, zone):
    start = now + timedelta(minutes=ahead)
    when = send_time(now, start, quiet, zone)
    if when is None:
        assert in_quiet_hours(now, quiet, zone)
    else:
        assert now <= when < start and not in_quiet_hours(when, quiet, zone)
        assert (when == now) == (not in_quiet_hours(now, quiet, zone))


def test_the_reminder_settings_and_their_mistakes():
    from servicekit.config import ConfigError
    from notifications.settings import load
    loaded = load({"TIMEZONE": "America/Chicago", "QUIET_HOURS": "22:00-07:30",
                   "REMINDER_LEAD_HOURS": "48"})
    assert loaded.clinic_timezone == "America/Chicago"       # TIMEZONE when no CLINIC_TIMEZONE
    assert loaded.quiet == QuietHours(time(22, 0), time(7, 30))
    assert loaded.reminder_lead_hours == 48
    assert load({"CLINIC_TIMEZONE": "Europe/London", "TIMEZONE": "UTC"}).clinic_timezone == \
        "Europe/London"
    for wrong in ({"QUIET_HOURS": "all night"}, {"CLINIC_TIMEZONE": "Mars/Base"},
                  {"REMINDER_LEAD_HOURS": "0"}):
        with pytest.raises(ConfigError):
            load(wrong)
