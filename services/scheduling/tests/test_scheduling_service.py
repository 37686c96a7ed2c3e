"""The scheduling service on a real broker and PostgreSQL: what the front
desk sees when booking, moving, cancelling and marking appointments, what
a patient's portal is told (join window, calendar file), and the events
notifications reminds from."""
from datetime import date, datetime, timedelta, timezone

import pytest
from icalendar import Calendar
from nameko.exceptions import RemoteError

import contracts
from servicekit.errors import InvalidFields

from scheduling_testkit import STAFF, count, form, key, local_in, move_into_past, outbox


def test_a_booked_appointment_is_stored_in_utc_and_announced_once(scheduling):
    rpc, engine = scheduling
    at = local_in(days=3)
    request = key()
    booked = rpc.schedule("cl_1", form(at), STAFF, request)
    again = rpc.schedule("cl_1", form(at), STAFF, request)     # the form sent twice
    assert again["id"] == booked["id"] and count(engine) == 1
    assert booked["status"] == "scheduled" and booked["mode"] == "in_person"
    start = at.astimezone(timezone.utc).replace(tzinfo=None)
    assert booked["starts_at"] == start.isoformat(timespec="microseconds") + "Z"
    assert booked["ends_at"] == (start + timedelta(minutes=50)).isoformat(
        timespec="microseconds") + "Z"
    assert (booked["local_date"], booked["local_start"]) == (at.date().isoformat(), f"{at:%H:%M}")
    assert booked["location_name"] == "Main Campus" and booked["join_url"] is None
    [event] = outbox(engine, "AppointmentScheduled")
    contracts.validate("AppointmentScheduled", 1, event["data"])
    assert event["data"] == {"appointment_id": booked["id"], "client_id": "cl_1",
                             "starts_at": booked["starts_at"], "ends_at": booked["ends_at"],
                             "mode": "in_person", "location_id": "loc_main", "revision": 1}


def test_every_problem_in_the_form_is_named_next_to_its_field_and_nothing_is_saved(scheduling):
    rpc, engine = scheduling
    with pytest.raises(InvalidFields) as refused:
        rpc.schedule("cl_1", {"date": "03/12/2026", "start_time": "2pm",
                              "duration_minutes": "0", "mode": "in_person",
                              "clinician_name": "  "}, STAFF, key())
    assert refused.value.errors == {
        "date": "Enter the date as YYYY-MM-DD, for example 2026-12-03.",
        "start_time": "Enter the start time as HH:MM on a 24-hour clock, for example 14:30.",
        "duration_minutes": "Enter the length in minutes, from 5 to 480.",
        "clinician_name": "Enter the clinician's name.",
        "location_id": "Choose the location for an in-person appointment."}
    with pytest.raises(InvalidFields) as refused:
        rpc.schedule("cl_1", form(local_in(days=-1), mode="video"), STAFF, key())
    assert refused.value.errors["mode"] == "Choose in person or telehealth."
    assert "already passed" in refused.value.errors["date"]
    with pytest.raises(InvalidFields) as refused:
        rpc.schedule("cl_1", form(date="9999-12-31", start_time="23:59"), STAFF, key())
    assert refused.value.errors == {"date": "Choose a date within the next two years."}
    assert count(engine) == 0 and outbox(engine) == []


def spring_forward() -> str:
    """Next year's second Sunday of March: 2:00–3:00 AM does not happen."""
    year = datetime.now().year + 1
    first = date(year, 3, 1)
    return (first + timedelta(days=(6 - first.weekday()) % 7 + 7)).isoformat()


def test_a_time_the_clocks_skip_is_refused_in_words(scheduling):
    rpc, _ = scheduling
    with pytest.raises(InvalidFields) as refused:
        rpc.schedule("cl_1", form(date=spring_forward(), start_time="02:30"), STAFF, key())
    assert refused.value.errors == {"start_time": "That time does not exist on that day (the "
                                                  "clocks change). Choose another time."}


def test_a_clinician_cannot_be_in_two_appointments_at_once(scheduling):
    rpc, engine = scheduling
    at = local_in(days=2)
    rpc.schedule("cl_1", form(at), STAFF, key())
    with pytest.raises(InvalidFields) as refused:   # same clinician, typed differently
        rpc.schedule("cl_2", form(at + timedelta(minutes=20), clinician_name="casey  CLINICIAN",
                                  mode="telehealth"), STAFF, key())
    message = refused.value.errors["start_time"]
    assert message.startswith("casey  CLINICIAN already has an appointment at that time (")
    assert "Choose another time or clinician." in message and "cl_1" not in message
    # the same client with another clinician at that time: refused too
    with pytest.raises(InvalidFields) as refused:
        rpc.schedule("cl_1", form(at, clinician_name="Dana Doctor"), STAFF, key())
    assert "This client already has an appointment at that time" in refused.value.errors["date"]
    # back to back is fine; another clinician for another client is fine
    rpc.schedule("cl_2", form(at + timedelta(minutes=50)), STAFF, key())
    rpc.schedule("cl_2", form(at, clinician_name="Dana Doctor"), STAFF, key())
    assert count(engine) == 3


def test_telehealth_join_opens_ten_minutes_before_and_links_to_a_random_room(scheduling):
    rpc, _ = scheduling
    later = rpc.schedule("cl_1", form(local_in(days=1), mode="telehealth"), STAFF, key())
    shown = rpc.get_appointment(later["id"], "cl_1")
    assert shown["join"]["open"] is False and shown["join"]["url"] is None
    opens = datetime.fromisoformat(shown["starts_at"][:-1]) - timedelta(minutes=10)
    assert shown["join"]["opens_at"] == opens.isoformat(timespec="microseconds") + "Z"
    assert shown["location_name"] == "" and shown["location_id"] is None
    soon = rpc.schedule("cl_1", form(local_in(minutes=5), mode="telehealth",
                                     clinician_name="Dana Doctor"), STAFF, key())
    shown = rpc.get_appointment(soon["id"], "cl_1")
    assert shown["join"]["open"] is True
    assert shown["join"]["url"] == soon["join_url"]
    assert soon["join_url"].startswith("https://video.example/room/")
    assert "cl_1" not in soon["join_url"] and soon["join_url"] != later["join_url"]
    in_person = rpc.schedule("cl_1", form(local_in(days=5)), STAFF, key())
    assert rpc.get_appointment(in_person["id"])["join"] is None


def test_another_clients_appointment_is_not_found(scheduling):
    rpc, _ = scheduling
    booked = rpc.schedule("cl_1", form(), STAFF, key())
    for call in (lambda: rpc.get_appointment(booked["id"], "cl_2"),
                 lambda: rpc.appointment_ics(booked["id"], "cl_2", "Cedar Ridge"),
                 lambda: rpc.cancel(booked["id"], "Sick", STAFF, client_id="cl_2"),
                 lambda: rpc.get_appointment("apt_nope")):
        with pytest.raises(RemoteError) as missing:
            call()
        assert missing.value.exc_type == "NotFound"
        assert missing.value.value == "We could not find that appointment."
    assert rpc.get_appointment(booked["id"])["status"] == "scheduled"


def test_rescheduling_moves_it_and_says_so_with_a_higher_revision(scheduling):
    rpc, engine = scheduling
    at = local_in(days=2)
    booked = rpc.schedule("cl_1", form(at), STAFF, key())
    # moved 30 minutes: it overlaps only itself, which is fine
    moved = rpc.reschedule(booked["id"], {"start_time": f"{at + timedelta(minutes=30):%H:%M}",
                                          "mode": "telehealth"}, STAFF, client_id="cl_1")
    assert moved["local_start"] == f"{at + timedelta(minutes=30):%H:%M}"
    assert moved["mode"] == "telehealth" and moved["join_url"] and moved["location_id"] is None
    assert moved["clinician_name"] == "Casey Clinician" and moved["revision"] == 2
    [changed] = outbox(engine, "AppointmentChanged")
    contracts.validate("AppointmentChanged", 1, changed["data"])
    assert changed["data"]["status"] == "scheduled" and changed["data"]["revision"] == 2
    assert changed["data"]["starts_at"] == moved["starts_at"]
    with pytest.raises(InvalidFields) as refused:
        rpc.reschedule(booked["id"], {"date": "tomorrow"}, STAFF)
    assert list(refused.value.errors) == ["date"]
    assert rpc.get_appointment(booked["id"])["starts_at"] == moved["starts_at"]


def test_cancel_needs_a_reason_and_happens_once(scheduling):
    rpc, engine = scheduling
    booked = rpc.schedule("cl_1", form(), STAFF, key())
    with pytest.raises(InvalidFields) as refused:
        rpc.cancel(booked["id"], "   ", STAFF)
    assert refused.value.errors == {"reason": "Enter why the appointment is cancelled."}
    cancelled = rpc.cancel(booked["id"], "Client is unwell", STAFF)
    assert (cancelled["status"], cancelled["cancelled_reason"]) == ("cancelled", "Client is unwell")
    with pytest.raises(RemoteError) as twice:
        rpc.cancel(booked["id"], "again", STAFF)
    assert twice.value.exc_type == "Conflict"
    with pytest.raises(RemoteError) as moved:
        rpc.reschedule(booked["id"], {"start_time": "09:00"}, STAFF)
    assert moved.value.exc_type == "Conflict"
    [changed] = outbox(engine, "AppointmentChanged")
    assert changed["data"]["status"] == "cancelled" and "reason" not in str(changed["data"])
    # its time is free again for the clinician
    rpc.schedule("cl_2", form(datetime.fromisoformat(booked["starts_at"][:-1] + "+00:00")
                              .astimezone(local_in().tzinfo)), STAFF, key())


def test_marking_completed_or_no_show_waits_for_the_start(scheduling):
    rpc, engine = scheduling
    booked = rpc.schedule("cl_1", form(), STAFF, key())
    with pytest.raises(InvalidFields) as early:
        rpc.mark(booked["id"], "completed", STAFF)
    assert early.value.errors == {"status": "An appointment can be marked completed or no-show "
                                            "once it has started."}
    with pytest.raises(InvalidFields) as wrong:
        rpc.mark(booked["id"], "done", STAFF)
    assert wrong.value.errors == {"status": "Choose completed or no-show."}
    move_into_past(engine, booked["id"])
    assert rpc.mark(booked["id"], "no_show", STAFF)["status"] == "no_show"
    assert rpc.mark(booked["id"], "completed", STAFF)["status"] == "completed"   # corrected
    statuses = [e["data"]["status"] for e in outbox(engine, "AppointmentChanged")]
    assert statuses == ["no_show", "completed"]


def test_the_list_has_upcoming_soonest_first_and_past_newest_first(scheduling):
    rpc, engine = scheduling
    far = rpc.schedule("cl_1", form(local_in(days=9)), STAFF, key())
    near = rpc.schedule("cl_1", form(local_in(days=1)), STAFF, key())
    done = rpc.schedule("cl_1", form(local_in(days=4)), STAFF, key())
    older = rpc.schedule("cl_1", form(local_in(days=6)), STAFF, key())
    gone = rpc.schedule("cl_1", form(local_in(days=7)), STAFF, key())
    rpc.schedule("cl_2", form(local_in(days=8)), STAFF, key())
    move_into_past(engine, done["id"], 60)
    move_into_past(engine, older["id"], 60 * 24 * 3)
    rpc.cancel(gone["id"], "Moved away", STAFF)
    listed = rpc.list_appointments("cl_1")
    assert [a["id"] for a in listed["upcoming"]] == [near["id"], far["id"]]
    assert [a["id"] for a in listed["past"]] == [gone["id"], done["id"], older["id"]]
    assert all(a["join"] is None for a in listed["upcoming"] + listed["past"])   # in person
    video = rpc.schedule("cl_3", form(local_in(minutes=3), mode="telehealth",
                                      clinician_name="Dana Doctor"), STAFF, key())
    [shown] = rpc.list_appointments("cl_3")["upcoming"]
    assert shown["join"]["open"] is True and shown["join"]["url"] == video["join_url"]


def test_the_calendar_file_is_neutral_and_parses_back(scheduling):
    rpc, _ = scheduling
    booked = rpc.schedule("cl_1", form(local_in(days=2)), STAFF, key())
    answer = rpc.appointment_ics(booked["id"], "cl_1", "Cedar Ridge")
    assert answer["filename"] == "appointment.ics"
    [event] = Calendar.from_ical(answer["content"]).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Appointment at Cedar Ridge"
    assert event.decoded("DTSTART") == datetime.fromisoformat(
        booked["starts_at"][:-1]).replace(tzinfo=timezone.utc)
    assert event.decoded("DTEND") == datetime.fromisoformat(
        booked["ends_at"][:-1]).replace(tzinfo=timezone.utc)
    assert str(event["LOCATION"]) == "Main Campus, 100 Cedar Ridge Rd, Springfield"
    assert str(event["UID"]).startswith(booked["id"] + "@")
    assert "Casey" not in answer["content"] and "cl_1" not in answer["content"]
    video = rpc.schedule("cl_1", form(local_in(days=3), mode="telehealth"), STAFF, key())
    [event] = Calendar.from_ical(rpc.appointment_ics(video["id"], None, "Cedar Ridge")
                                 ["content"]).walk("VEVENT")
    assert str(event["LOCATION"]) == "Online (link in the portal)"
    assert video["join_url"] not in rpc.appointment_ics(video["id"], None, "x")["content"]


def test_two_front_desks_booking_the_same_clinician_at_once_get_one_appointment(
        scheduling, rabbit_config):
    import eventlet
    from nameko.standalone.rpc import ServiceRpcProxy
    _, engine = scheduling
    at = local_in(days=2)

    def book(client_id):
        with ServiceRpcProxy("scheduling", rabbit_config) as rpc:
            try:
                return rpc.schedule(client_id, form(at), STAFF, key())["id"]
            except InvalidFields as refused:
                return refused.errors

    results = [eventlet.spawn(book, client) for client in ("cl_1", "cl_2", "cl_3", "cl_4")]
    answers = [thread.wait() for thread in results]
    booked = [a for a in answers if isinstance(a, str)]
    refused = [a for a in answers if isinstance(a, dict)]
    assert len(booked) == 1 and len(refused) == 3 and count(engine) == 1
    assert all("already has an appointment" in r["start_time"] for r in refused)
