"""Appointment reminders and the documents notices, through the handlers on
real PostgreSQL with real SMTP on loopback and the hand-written fakes: the
reminder goes once, at its time, never in quiet hours; a moved appointment
is reminded for its new time, a cancelled one not at all (even when its
events arrive out of order); reminders turned off are skipped on record.
A form to complete and a document to sign: inbox message and a neutral
email, once per event."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import contracts
from sqlalchemy import select

from servicekit.cache import TtlCache

from notifications import handlers, reminders
from notifications.models import AppointmentCopy
from notifications.settings import NotificationSettings

import notifications_fakes as fakes
from test_notifications_handlers import deliveries, make_worker, smtp_postman

SETTINGS = NotificationSettings(public_url="http://portal.test", timezone="UTC",
                                clinic_timezone="America/Chicago", quiet_hours="21:00-08:00",
                                reminder_lead_hours=24)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def chicago(days: int, hour: int, minute: int = 0) -> datetime:
    """Naive UTC of a Chicago wall-clock time `days` from today."""
    from zoneinfo import ZoneInfo
    zone = ZoneInfo("America/Chicago")
    day = datetime.now(zone).date() + timedelta(days=days)
    local = datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def appointment_event(start: datetime, status=None, revision=1, mode="in_person",
                      appointment_id="apt_1", client_id="cl_1"):
    data = {"appointment_id": appointment_id, "client_id": client_id, "starts_at": iso(start),
            "ends_at": iso(start + timedelta(minutes=50)), "mode": mode, "revision": revision}
    if mode == "in_person":
        data["location_id"] = "loc_1"
    if status is None:
        return contracts.make_envelope("scheduling", "AppointmentScheduled", data, 1)
    return contracts.make_envelope("scheduling", "AppointmentChanged",
                                   {**data, "status": status}, 1)


def collaborators(session, world, postman):
    return handlers.Collaborators(db=session, clients=fakes.Clients(world),
                                  invoicing=fakes.Invoicing(world), payments=fakes.Payments(world),
                                  postman=postman, settings=SETTINGS,
                                  organizations=TtlCache(0, max_entries=0))


def copy_of(session, appointment_id="apt_1") -> AppointmentCopy:
    row = session.scalars(select(AppointmentCopy).where(
        AppointmentCopy.appointment_id == appointment_id)).one()
    session.rollback()
    return row


def reminder_rows(session):
    return [(row.kind, row.status, row.last_error) for row in deliveries(session)
            if row.kind == "appointment_reminder"]


def test_the_reminder_goes_once_a_day_before_with_time_and_address_only(
        session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    start = chicago(3, 14)                                  # 2:00 PM clinic time
    envelope = appointment_event(start)
    worker.on_appointment_scheduled(envelope)
    worker.on_appointment_scheduled(envelope)              # redelivered: changes nothing
    assert copy_of(session).reminder_due_at == start - timedelta(hours=24)
    assert reminders.send_due(c, now=start - timedelta(hours=24, minutes=1)) == 0
    assert reminders.send_due(c, now=start - timedelta(hours=24)) == 1
    assert reminders.send_due(c, now=start - timedelta(hours=23)) == 0     # once
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Reminder: you have an upcoming appointment"
    body = message.get_body(("plain",)).get_content()
    assert "2:00 PM C" in body and "Where: 1 Main Street, Springfield, IL 62701" in body
    assert "Opioid" not in body                            # the location's name stays out
    assert reminder_rows(session) == [("appointment_reminder", "sent", None)]
    assert copy_of(session).reminder_state == "sent"


def test_a_reminder_that_would_fall_at_night_goes_the_evening_before(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    start = chicago(3, 7, 30)                              # 7:30 AM: a day before is at night
    worker.on_appointment_scheduled(appointment_event(start, mode="telehealth"))
    due = copy_of(session).reminder_due_at
    assert due == chicago(1, 20, 59)                       # 8:59 PM the evening before that
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    reminders.send_due(c, now=due)
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert "Telehealth (join from the portal)" in message.get_body(("plain",)).get_content()


def test_a_moved_appointment_is_reminded_for_its_new_time_and_a_cancelled_one_not_at_all(
        session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    first = chicago(3, 14)
    worker.on_appointment_scheduled(appointment_event(first))
    reminders.send_due(c, now=first - timedelta(hours=24))
    moved = chicago(5, 10)
    worker.on_appointment_changed(appointment_event(moved, status="scheduled", revision=2))
    assert copy_of(session).reminder_state == "pending"
    reminders.send_due(c, now=moved - timedelta(hours=24))
    assert len(smtp_capture.wait_for(2, to="alice@demo.test")) == 2
    # a second appointment, cancelled before its reminder: nothing goes
    other = chicago(4, 15)
    worker.on_appointment_scheduled(appointment_event(other, appointment_id="apt_2"))
    worker.on_appointment_changed(appointment_event(other, status="cancelled", revision=2,
                                                    appointment_id="apt_2"))
    assert reminders.send_due(c, now=other - timedelta(hours=1)) == 0
    assert copy_of(session, "apt_2").reminder_state == "none"
    assert [status for _, status, _ in reminder_rows(session)] == ["sent", "sent"]


def test_a_late_scheduled_event_does_not_bring_back_a_cancelled_appointment(
        session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    start = chicago(3, 14)
    scheduled = appointment_event(start)
    worker.on_appointment_changed(appointment_event(start, status="cancelled", revision=2))
    worker.on_appointment_scheduled(scheduled)             # arrives late
    row = copy_of(session)
    assert (row.status, row.revision, row.reminder_state) == ("cancelled", 2, "none")
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    assert reminders.send_due(c, now=start - timedelta(hours=2)) == 0
    assert reminder_rows(session) == []


def test_reminders_turned_off_are_skipped_on_record(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    worker.set_preferences("cl_1", {"reminders": False})
    start = chicago(3, 14)
    worker.on_appointment_scheduled(appointment_event(start))
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    assert reminders.send_due(c, now=start - timedelta(hours=24)) == 1
    assert reminder_rows(session) == [("appointment_reminder", "skipped", "reminders turned off")]
    assert copy_of(session).reminder_state == "skipped" and smtp_capture.messages() == []


def test_a_reminder_found_late_at_night_waits_for_the_morning_or_is_skipped(
        session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    morning = chicago(2, 11)                               # booked for 11:00 AM …
    worker.on_appointment_scheduled(appointment_event(morning))
    night = chicago(1, 23)                                 # … and first looked at at 11:00 PM
    reminders.send_due(c, now=night)
    row = copy_of(session)
    assert (row.reminder_state, row.reminder_due_at) == ("pending", chicago(2, 8))
    early = chicago(2, 7, 30)                              # a 7:30 AM one found at 11:00 PM
    worker.on_appointment_scheduled(appointment_event(early, appointment_id="apt_2"))
    reminders.send_due(c, now=night)
    assert copy_of(session, "apt_2").reminder_state == "skipped"
    assert reminder_rows(session) == [
        ("appointment_reminder", "skipped",
         "too late: the appointment starts before quiet hours end")]
    reminders.send_due(c, now=chicago(2, 8))
    assert len(smtp_capture.wait_for(1, to="alice@demo.test")) == 1


def test_the_example_appointment_events_are_understood(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    for event_type, handler in (("AppointmentScheduled", worker.on_appointment_scheduled),
                                ("AppointmentChanged", worker.on_appointment_changed)):
        handler(contracts.make_envelope("scheduling", event_type, contracts.example(event_type), 1))
    assert copy_of(session).status == "cancelled"


def test_a_form_to_complete_is_posted_and_emailed_without_its_name(
        session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    envelope = contracts.make_envelope("documents", "FormAssigned",
                                       contracts.example("FormAssigned"), 1)
    worker.on_form_assigned(envelope)
    worker.on_form_assigned(envelope)                      # redelivered: nothing more
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "You have a form to complete"
    body = message.get_body(("plain",)).get_content()
    assert "Forms and Surveys" in body and "http://portal.test/portal/login" in body
    assert "phq" not in body.lower() and "PHQ" not in message["Subject"]
    [inbox] = worker.list_inbox("cl_1")
    assert inbox["title"] == "You have a form to complete" and "phq" not in inbox["body"].lower()
    kinds = sorted((e["data"]["kind"], e["data"]["channel"]) for e in outbox_events(session))
    assert kinds == [("form_assigned", "email"), ("form_posted", "portal")]


def test_a_document_to_sign_is_posted_and_emailed_without_its_title(
        session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    envelope = contracts.make_envelope("documents", "ConsentRequested",
                                       contracts.example("ConsentRequested"), 1)
    worker.on_consent_requested(envelope)
    worker.on_consent_requested(envelope)
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "A document is waiting for your signature"
    [inbox] = worker.list_inbox("cl_1")
    assert inbox["title"] == "A document is waiting for your signature"
    assert "Consents" in inbox["body"] and "release" not in inbox["body"].lower()
    assert sorted((row.kind, row.status) for row in deliveries(session)) == [
        ("consent_posted", "sent"), ("consent_requested", "sent")]


def test_the_timer_claims_nothing_twice(session, world, smtp_capture):
    """Two senders at once (SKIP LOCKED and the lease): one email."""
    worker = make_worker(session, world, smtp_postman(smtp_capture.port), settings=SETTINGS)
    start = chicago(3, 14)
    worker.on_appointment_scheduled(appointment_event(start))
    now = start - timedelta(hours=24)
    lease = timedelta(seconds=SETTINGS.lease_seconds)
    first = reminders.claim_due(session, now, lease)
    assert len(first) == 1 and reminders.claim_due(session, now, lease) == []
    # the first sender died: after its lease another takes it and sends once
    later = now + lease + timedelta(seconds=1)
    c = collaborators(session, world, smtp_postman(smtp_capture.port))
    assert reminders.send_due(c, now=later) == 1
    assert len(smtp_capture.wait_for(1, to="alice@demo.test")) == 1
    assert copy_of(session).reminder_state == "sent"
