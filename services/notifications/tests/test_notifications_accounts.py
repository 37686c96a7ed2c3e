"""Portal invitations and password resets, through worker_factory on real
PostgreSQL with real SMTP on loopback and the hand-written clients fake."""
from __future__ import annotations

import re

from sqlalchemy import select

from notifications.models import Delivery

import notifications_fakes as fakes
from test_notifications_handlers import make_worker, smtp_postman

TOKEN_PATH = re.compile(r"http://portal\.test/(portal|staff)/set-password/([0-9a-f]{40})")


def bodies(message) -> tuple[str, str]:
    return (message.get_body(("plain",)).get_content(),
            message.get_body(("html",)).get_content())


def only_delivery(session) -> Delivery:
    row = session.scalars(select(Delivery)).one()
    session.rollback()
    return row


def test_notifications_welcome_email_with_set_password_link(session, world, smtp_capture,
                                                             outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.portal_invite()
    worker.on_portal_invite_requested(envelope)

    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Set up your portal account"
    assert str(message["From"]) == "Patient Billing Office <billing@cairn.local>"
    assert world.password_link_calls == [{"kind": "portal", "subject_id": "pa_1",
                                          "purpose": "welcome", "request_key": envelope["id"]}]
    path = world.password_links[envelope["id"]]["path"]
    text, html = bodies(message)
    for body in (text, html):
        assert "Hello Alice" in body
        assert "Riley Front Desk invited you to the Cedar Ridge Recovery portal" in body
        assert "http://portal.test/portal/login" in body
        assert "alice.doe" in body                         # the username
        assert f"http://portal.test{path}" in body          # the set-password link
        assert TOKEN_PATH.search(body).group(1) == "portal"
        assert "expires in 72 hours" in body
        assert "We look forward to working with you." in body  # the clinic's welcome message
        assert "555-0100" in body and "office@cedar.test" in body
        # never a password: nothing labelled "password:", no temporary password
        assert "password:" not in body.lower() and "temporary password" not in body.lower()
        assert "Opioid" not in body
    assert '<img src="https://cdn.test/logo.png" alt="Cedar Ridge Recovery"' in html
    row = only_delivery(session)
    assert (row.kind, row.status, row.person_id, row.client_id) == \
        ("welcome", "sent", "pa_1", "cl_1")
    [event] = outbox_events(session)
    assert (event["type"], event["data"]["kind"]) == ("NotificationDelivered", "welcome")


def test_notifications_welcome_twice_sends_once_with_one_link(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.portal_invite()
    worker.on_portal_invite_requested(envelope)
    worker.on_portal_invite_requested(envelope)
    smtp_capture.wait_for(1)
    assert len(smtp_capture.messages()) == 1
    assert len(world.password_link_calls) == 1


def test_notifications_welcome_escapes_names(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_portal_invite_requested(fakes.portal_invite("pa_html"))
    [message] = smtp_capture.wait_for(1, to="al@demo.test")
    _, html = bodies(message)
    assert "<script>" not in html and "Hello &lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "al&lt;b&gt;" in html


def test_notifications_welcome_without_email_or_account_fails_without_a_link(
        session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_portal_invite_requested(fakes.portal_invite("pa_noemail"))
    worker.on_portal_invite_requested(fakes.portal_invite("pa_gone"))
    reasons = sorted(event["data"]["reason"] for event in outbox_events(session))
    assert reasons == ["no email address on file", "portal account not found"]
    assert world.password_link_calls == [] and smtp_capture.messages() == []


def test_notifications_portal_password_reset(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.portal_password_reset()
    worker.on_portal_password_reset_requested(envelope)

    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Reset your password"
    assert world.password_link_calls == [{"kind": "portal", "subject_id": "pa_1",
                                          "purpose": "reset", "request_key": envelope["id"]}]
    for body in bodies(message):
        assert TOKEN_PATH.search(body).group(1) == "portal"
        assert "expires in 1 hour" in body and "alice.doe" in body
        assert "If you did not ask to reset your password, you can ignore this email" in body
    row = only_delivery(session)
    assert (row.kind, row.status, row.person_id, row.client_id) == \
        ("password_reset", "sent", "pa_1", None)


def test_notifications_staff_password_reset(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.staff_password_reset()
    worker.on_staff_password_reset_requested(envelope)

    [message] = smtp_capture.wait_for(1, to="riley@cedar.test")
    assert message["Subject"] == "Reset your password"
    assert world.password_link_calls == [{"kind": "staff", "subject_id": "st_1",
                                          "purpose": "reset", "request_key": envelope["id"]}]
    for body in bodies(message):
        assert "Hello Riley" in body and "staff account" in body
        assert TOKEN_PATH.search(body).group(1) == "staff"
        assert "/staff/set-password/" in body and "/portal/set-password/" not in body
        assert "expires in 1 hour" in body
    row = only_delivery(session)
    assert (row.kind, row.person_id, row.client_id) == ("staff_password_reset", "st_1", None)


def test_notifications_reset_for_an_unknown_staff_member_fails_for_good(session, world,
                                                                       smtp_capture,
                                                                       outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_staff_password_reset_requested(fakes.staff_password_reset("st_gone"))
    [event] = outbox_events(session)
    assert event["data"]["reason"] == "staff member not found"
    assert smtp_capture.messages() == []


def test_notifications_new_staff_get_a_welcome_link_not_a_reset():
    from notifications.domain import STAFF_WELCOME
    from notifications.contexts import password_reset_context
    from notifications.render import render_message
    context = password_reset_context({"first_name": "Ann", "name": "Ann Lee", "email": "a@x.test"},
                                     {"name": "Clinic", "email_sender_name": "Billing Office",
                                      "phone": "", "email": "", "address": "", "logo_url": "",
                                      "locations": []},
                                     {"path": "/staff/set-password/tok", "expires_at": "2026-11-28T00:00:00.000000Z"},
                                     "2026-11-25T00:00:00.000000Z", "http://cairn.test", "UTC",
                                     staff=True, welcome=True)
    message = render_message(STAFF_WELCOME, context)
    assert message.subject == "Set up your staff account"
    assert "has been created for you" in message.text and "did not ask" not in message.text
