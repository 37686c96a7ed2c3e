"""The demo appointments (idempotent, Join open right after seeding) and the
pure rules: clinic time to UTC across clock changes, the join window."""
from datetime import date, datetime, time, timedelta

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from servicekit.db import utcnow

from scheduling import demo, domain
from scheduling.models import Appointment

from scheduling_testkit import TZ, outbox


def test_the_demo_seed_is_idempotent_and_keeps_join_open(database_url):
    engine = create_engine(database_url("scheduling"))
    with Session(engine) as session:
        demo.seed(session, TZ)
        demo.seed(session, TZ)                           # again: nothing twice
        rows = {row.id: row for row in session.query(Appointment)}
    assert len(rows) == 6 and len(outbox(engine)) == 6
    join = rows["apt_demo_avery_join"]
    now = utcnow()
    window = domain.join_window(join.starts_at, join.ends_at, join.status, join.mode, now, 10)
    assert window.open and join.join_room and join.mode == "telehealth"
    assert {rows["apt_demo_ellis"].client_id, rows["apt_demo_kai"].client_id} == \
        {"cl_demo_ellis", "cl_demo_kai"}
    assert [rows[i].status for i in ("apt_demo_avery_past1", "apt_demo_avery_past2")] == \
        ["completed", "completed"]
    # a day later the telehealth one is over: seeding again moves it forward, once
    with engine.begin() as connection:
        connection.execute(text("update appointments set starts_at = starts_at - interval '1 day',"
                                " ends_at = ends_at - interval '1 day' "
                                "where id = 'apt_demo_avery_join'"))
    with Session(engine) as session:
        demo.seed(session, TZ)
        moved = session.get(Appointment, "apt_demo_avery_join")
        assert moved.revision == 2 and moved.ends_at > utcnow()
    [changed] = [e for e in outbox(engine, "AppointmentChanged")
                 if e["data"]["appointment_id"] == "apt_demo_avery_join"]
    assert changed["data"]["revision"] == 2 and changed["data"]["status"] == "scheduled"
    engine.dispose()


def test_clinic_time_becomes_utc_across_the_clock_changes():
    assert domain.to_utc(date(2026, 7, 1), time(9, 0), TZ) == datetime(2026, 7, 1, 14, 0)
    assert domain.to_utc(date(2026, 12, 1), time(9, 0), TZ) == datetime(2026, 12, 1, 15, 0)
    with pytest.raises(domain.LocalTimeError):           # 2:30 AM does not happen that day
        domain.to_utc(date(2026, 3, 8), time(2, 30), TZ)
    # 1:30 AM happens twice in November: the first one
    assert domain.to_utc(date(2026, 11, 1), time(1, 30), TZ) == datetime(2026, 11, 1, 6, 30)


def test_join_opens_before_the_start_and_closes_at_the_end():
    start = datetime(2026, 12, 3, 15, 0)
    end = start + timedelta(minutes=50)
    opens = domain.join_window(start, end, "scheduled", "telehealth", start, 10).opens_at
    assert opens == start - timedelta(minutes=10)
    for moment, open_ in ((opens - timedelta(seconds=1), False), (opens, True),
                          (end - timedelta(seconds=1), True), (end, False)):
        assert domain.join_window(start, end, "scheduled", "telehealth", moment, 10).open is open_
    assert not domain.join_window(start, end, "cancelled", "telehealth", start, 10).open
    assert domain.join_window(start, end, "scheduled", "in_person", start, 10) is None
    assert domain.when_words(start, end, TZ) == "Thursday, December 3, 2026, 9:00 AM – 9:50 AM CST"


def test_settings_fall_back_to_the_clinic_zone_notifications_uses():
    from servicekit.config import ConfigError
    from scheduling.settings import load
    assert load({"TIMEZONE": "America/Denver"}).timezone == "America/Denver"
    assert load({"CLINIC_TIMEZONE": TZ, "TIMEZONE": "UTC"}).timezone == TZ
    assert load({}).join_opens_minutes == 10
    for wrong in ({"CLINIC_TIMEZONE": "Nowhere/Land"}, {"TELEHEALTH_BASE_URL": "ftp://x"},
                  {"JOIN_OPENS_MINUTES": "-5"}):
        with pytest.raises(ConfigError):
            load(wrong)
