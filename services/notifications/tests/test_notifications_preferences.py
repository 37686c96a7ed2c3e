"""Per-person preferences (reminders may be turned off, transactional mail
may not) and the portal inbox's read marks, through worker_factory on real
PostgreSQL with real SMTP on loopback."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from servicekit.errors import InvalidInput, NotFound

from notifications import compose, contexts, domain, handlers
from notifications.models import Delivery
from notifications.store import Notice

import notifications_fakes as fakes
from test_notifications_handlers import make_worker, smtp_postman


def appointment_reminder(c: handlers.Collaborators, client_id: str):
    """How a future reminder handler composes: RPC, context, render."""
    contact = compose.client_contact(c, client_id)
    org = compose.organization(c)
    context = contexts.appointment_reminder_context(
        contact, org, c.settings.public_url, c.settings.timezone,
        starts_at="2026-12-01T15:30:00.000000Z", telehealth=False, address="1 Main Street")
    return compose.email(domain.APPOINTMENT_REMINDER, contact, org, context)


def remind(worker, client_id: str, composed: list):
    c = worker._collaborators()
    envelope = fakes.invoice_sent(client_id=client_id)  # stands for the future cause event
    notice = Notice(envelope["id"], domain.APPOINTMENT_REMINDER, client_id, client_id)
    handlers.deliver_email(c, envelope, "notifications.test_reminder", notice,
                           lambda: composed.append(client_id) or appointment_reminder(c, client_id))


def test_notifications_preferences_default_to_reminders_on(session, world):
    worker = make_worker(session, world, None)
    prefs = worker.get_preferences("cl_1")
    assert prefs["person_id"] == "cl_1" and prefs["reminders"] is True
    assert prefs["updated_at"] is None
    assert set(prefs["reminder_kinds"]) == {"payment_plan_reminder", "appointment_reminder",
                                            "statement_ready", "estimate_ready"}
    assert {"receipt", "welcome", "password_reset", "invoice_sent", "payment_failed",
            "consent_requested"} <= set(prefs["always_sent"])


def test_notifications_reminders_can_be_turned_off_and_on(session, world):
    worker = make_worker(session, world, None)
    assert worker.set_preferences("pa_1", {"reminders": False})["reminders"] is False
    assert worker.get_preferences("pa_1")["reminders"] is False
    assert worker.get_preferences("cl_1")["reminders"] is True  # per person
    assert worker.set_preferences("pa_1", {"reminders": True, "receipt": True})["reminders"]


@pytest.mark.parametrize("changes, named", [
    ({"receipt": False}, "receipt"), ({"reminders": False, "welcome": False}, "welcome"),
    ({"password_reset": False}, "password_reset"), ({"transactional": False}, "transactional"),
    ({"payment_failed": False}, "payment_failed"), ({"invoice_sent": False}, "invoice_sent"),
    ({"consent_requested": False}, "consent_requested"),
    ({"reminders": "no"}, "reminders"), ({"newsletter": False}, "newsletter"),
    ({}, "reminders"), (["reminders"], "reminders")])
def test_notifications_transactional_mail_cannot_be_turned_off(session, world, changes, named):
    worker = make_worker(session, world, None)
    with pytest.raises(InvalidInput, match=named):
        worker.set_preferences("cl_1", changes)
    assert worker.get_preferences("cl_1")["reminders"] is True  # nothing half-applied


def test_notifications_reminder_suppressed_when_reminders_are_off(session, world, smtp_capture,
                                                                  outbox_events):
    world.contacts["cl_2"] = {**world.contacts["cl_1"], "client_id": "cl_2",
                              "email": "bob@demo.test", "first_name": "Bob"}
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.set_preferences("cl_1", {"reminders": False})
    composed = []
    remind(worker, "cl_1", composed)
    remind(worker, "cl_2", composed)

    [message] = smtp_capture.wait_for(1, to="bob@demo.test")
    assert message["Subject"] == "Reminder: you have an upcoming appointment"
    assert composed == ["cl_2"]  # nothing was even asked for Alice
    rows = {r.person_id: r for r in session.scalars(select(Delivery))}
    assert (rows["cl_1"].status, rows["cl_1"].last_error) == ("skipped", "reminders turned off")
    assert rows["cl_2"].status == "sent"
    assert [e["data"]["kind"] for e in outbox_events(session)] == ["appointment_reminder"]

    worker.on_payment_captured(fakes.payment_captured())  # transactional: still sent to Alice
    [receipt] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert receipt["Subject"] == "Your payment receipt"


def test_notifications_mark_inbox_read(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_invoice_sent(fakes.invoice_sent(channel="portal"))
    [message] = worker.list_inbox("cl_1")
    assert message["read_at"] is None

    read = worker.mark_inbox_read("cl_1", message["id"])
    assert read["id"] == message["id"] and read["read_at"] is not None
    again = worker.mark_inbox_read("cl_1", message["id"])
    assert again["read_at"] == read["read_at"]  # the first read stays
    assert worker.list_inbox("cl_1")[0]["read_at"] == read["read_at"]

    with pytest.raises(NotFound):
        worker.mark_inbox_read("cl_html", message["id"])  # not this client's message
    with pytest.raises(NotFound):
        worker.mark_inbox_read("cl_1", "msg_nope")
    with pytest.raises(InvalidInput):
        worker.mark_inbox_read("cl_1", "")
