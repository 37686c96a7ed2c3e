"""Handler logic through nameko's worker_factory: a real PostgreSQL database,
real SMTP over loopback, hand-written stand-ins for the other services."""
from __future__ import annotations

from datetime import timedelta

import pytest
from nameko.testing.services import worker_factory
from sqlalchemy import select, update

from servicekit.cache import TtlCache
from servicekit.db import utcnow
from servicekit.errors import InvalidInput
from servicekit.tables import processed_events

from notifications.mailer import FileBackend, Postman, TransientMailError, postman_from_settings
from notifications.models import Delivery
from notifications.service import NotificationsService
from notifications.settings import NotificationSettings

import notifications_fakes as fakes

SETTINGS = NotificationSettings(public_url="http://portal.test", timezone="UTC")


def smtp_postman(port: int) -> Postman:
    settings = {"MAIL_BACKEND": "smtp", "SMTP_HOST": "127.0.0.1", "SMTP_PORT": port,
                "SMTP_STARTTLS": "0", "SMTP_TIMEOUT_SECONDS": 5}
    return postman_from_settings(lambda name, default=None: settings.get(name, default))


def make_worker(session, world, postman, settings=SETTINGS, organizations=None):
    return worker_factory(NotificationsService, db=session, relay=None, mailer=postman,
                          settings=settings, clients=fakes.Clients(world),
                          invoicing=fakes.Invoicing(world), payments=fakes.Payments(world),
                          organizations=TtlCache(0, max_entries=0) if organizations is None
                          else organizations)


def deliveries(session) -> list[Delivery]:
    rows = list(session.scalars(select(Delivery).order_by(Delivery.created_at)))
    session.rollback()
    return rows


def test_invoice_email_is_sent_logged_and_announced(session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.invoice_sent()
    worker.on_invoice_sent(envelope)

    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    [row] = deliveries(session)
    assert (row.kind, row.channel, row.status, row.attempts) == ("invoice_sent", "email", "sent", 1)
    assert row.id.startswith("ntf_") and row.cause_event_id == envelope["id"]
    assert row.provider_message_id == message["Message-ID"] == f"<{row.id}@cairn.local>"
    assert row.claimed_until is None
    [event] = outbox_events(session)
    assert event["type"] == "NotificationDelivered"
    assert event["data"] == {"notification_id": row.id, "kind": "invoice_sent", "channel": "email",
                             "cause_event_id": envelope["id"],
                             "provider_message_id": row.provider_message_id}
    assert session.execute(select(processed_events.c.handler)).scalars().all() == \
        ["notifications.on_invoice_sent"]


def test_the_same_event_twice_sends_once(session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.invoice_sent()
    worker.on_invoice_sent(envelope)
    worker.on_invoice_sent(envelope)
    smtp_capture.wait_for(1)
    assert len(smtp_capture.messages()) == 1
    assert len(deliveries(session)) == 1 and len(outbox_events(session)) == 1
    assert worker.payments.calls == 1


def test_no_email_on_file_fails_without_raising(session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.invoice_sent("inv_noemail", "cl_noemail")
    worker.on_invoice_sent(envelope)

    [row] = deliveries(session)
    assert (row.status, row.attempts, row.recipient, row.last_error) == \
        ("failed", 0, "", "no email address on file")
    [event] = outbox_events(session)
    assert event["type"] == "NotificationFailed"
    assert event["data"]["reason"] == "no email address on file"
    assert worker.payments.calls == 0  # no pay link issued for nobody
    worker.on_invoice_sent(envelope)  # redelivered: still one row, one event
    assert len(outbox_events(session)) == 1
    assert smtp_capture.messages() == []


def test_unknown_client_and_foreign_invoice_fail_for_good(session, world, smtp_capture,
                                                          outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_invoice_sent(fakes.invoice_sent("inv_1", "cl_gone"))
    worker.on_invoice_sent(fakes.invoice_sent("inv_html", "cl_1"))  # not Alice's invoice
    reasons = sorted(event["data"]["reason"] for event in outbox_events(session))
    assert reasons == ["client not found", "invoice belongs to another client"]
    assert smtp_capture.messages() == []


def test_recipient_refused_5xx_is_permanent(session, world, refusing_smtp, outbox_events):
    server = refusing_smtp("550 5.1.1 <{address}>: Recipient address rejected")
    worker = make_worker(session, world, smtp_postman(server.port))
    worker.on_invoice_sent(fakes.invoice_sent())

    [row] = deliveries(session)
    assert (row.status, row.attempts) == ("failed", 1)
    assert row.last_error == "recipient refused: 550 5.1.1"  # the code, never the address
    [event] = outbox_events(session)
    assert event["type"] == "NotificationFailed" and "alice" not in event["data"]["reason"]


def test_transient_failure_records_the_attempt_raises_and_later_succeeds(
        session, world, refusing_smtp, smtp_capture, outbox_events):
    server = refusing_smtp("451 4.3.0 <{address}>: try again later")
    envelope = fakes.invoice_sent()
    with pytest.raises(TransientMailError):
        make_worker(session, world, smtp_postman(server.port)).on_invoice_sent(envelope)
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_error, row.claimed_until) == \
        ("queued", 1, "recipient refused: 451 4.3.0", None)
    assert outbox_events(session) == []
    assert session.execute(select(processed_events)).all() == []

    make_worker(session, world, smtp_postman(smtp_capture.port)).on_invoice_sent(envelope)
    smtp_capture.wait_for(1)
    [row] = deliveries(session)
    assert (row.status, row.attempts, row.last_error) == ("sent", 2, None)
    assert [e["type"] for e in outbox_events(session)] == ["NotificationDelivered"]


def test_a_delivery_leased_by_another_worker_is_left_alone(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.invoice_sent()
    session.add(Delivery(id="ntf_busy", cause_event_id=envelope["id"], kind="invoice_sent",
                         channel="email", client_id="cl_1", recipient="alice@demo.test",
                         status="queued", attempts=1, claimed_until=utcnow() + timedelta(minutes=1),
                         created_at=utcnow(), updated_at=utcnow()))
    session.commit()
    with pytest.raises(Exception, match="being sent by another worker"):
        worker.on_invoice_sent(envelope)
    assert smtp_capture.messages() == []

    session.execute(update(Delivery).values(claimed_until=utcnow() - timedelta(seconds=1)))
    session.commit()  # the lease ran out (that worker died): the next try sends it
    worker.on_invoice_sent(envelope)
    smtp_capture.wait_for(1)
    assert deliveries(session)[0].attempts == 2


def test_portal_channel_posts_to_inbox_and_sends_a_neutral_notice(session, world, smtp_capture,
                                                                  outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.invoice_sent(channel="portal")
    worker.on_invoice_sent(envelope)
    worker.on_invoice_sent(envelope)

    [message] = smtp_capture.wait_for(1)
    assert message["Subject"] == "You have a new message in your portal"
    body = message.get_body(("plain",)).get_content()
    assert "http://portal.test/portal/login" in body and "INV-" not in body and "/pay/" not in body
    [inbox] = worker.list_inbox("cl_1")
    assert inbox["title"] == "A new invoice has been posted to your portal"
    assert "INV-000123" in inbox["body"] and inbox["invoice_id"] == "inv_1"
    assert worker.list_inbox("cl_html") == []
    kinds = sorted((e["type"], e["data"]["kind"], e["data"]["channel"])
                   for e in outbox_events(session))
    assert kinds == [("NotificationDelivered", "invoice_posted", "portal"),
                     ("NotificationDelivered", "portal_notice", "email")]


def test_portal_inbox_does_not_wait_for_email(session, world, outbox_events):
    world.contacts["cl_1"]["email"] = ""
    worker = make_worker(session, world, Postman(FileBackend("/nonexistent")))
    worker.on_invoice_sent(fakes.invoice_sent(channel="portal"))
    assert len(worker.list_inbox("cl_1")) == 1
    assert sorted(e["type"] for e in outbox_events(session)) == \
        ["NotificationDelivered", "NotificationFailed"]


def test_receipt(session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_payment_captured(fakes.payment_captured(card_brand="mastercard", card_last4="4444"))
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Your payment receipt"
    text = message.get_body(("plain",)).get_content()
    assert "Amount paid: $45.50" in text and "Invoice: INV-000123" in text
    assert "Mastercard ending in 4444" in text and "balance" not in text.lower()
    assert deliveries(session)[0].kind == "receipt"


def test_list_deliveries_masks_recipients_and_shows_no_bodies(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_invoice_sent(fakes.invoice_sent())
    worker.on_invoice_sent(fakes.invoice_sent("inv_html", "cl_html"))
    listed = worker.list_deliveries(limit=10)
    assert sorted(d["recipient"] for d in listed) == ["a***@demo.test", "a***@demo.test"]
    assert {d["status"] for d in listed} == {"sent"}
    assert "alice@demo.test" not in repr(listed) and "Hello" not in repr(listed)
    assert len(worker.list_deliveries(limit=1)) == 1
    with pytest.raises(InvalidInput):
        worker.list_deliveries(limit=0)


def test_file_backend_writes_private_eml_files(tmp_path, session, world):
    worker = make_worker(session, world, postman_from_settings(
        lambda name, default=None: {"MAIL_DIR": str(tmp_path / "mail")}.get(name, default)))
    worker.on_payment_captured(fakes.payment_captured())
    [path] = list((tmp_path / "mail").glob("*.eml"))
    assert path.stat().st_mode & 0o777 == 0o600
    assert b"Your payment receipt" in path.read_bytes()
    assert deliveries(session)[0].status == "sent"


# ---- PaymentFailed ----------------------------------------------------------

def test_notifications_payment_failed_by_the_patient_sends_nothing(session, world, smtp_capture,
                                                                   outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    for initiated_by in ("patient", "staff", None):  # they saw the decline on the page
        envelope = fakes.payment_failed(initiated_by=initiated_by)
        worker.on_payment_failed(envelope)
        worker.on_payment_failed(envelope)
    rows = deliveries(session)
    assert [(r.kind, r.status, r.attempts, r.last_error) for r in rows] == \
        [("payment_failed", "skipped", 0, "payer saw the decline")] * 3
    assert outbox_events(session) == []
    assert len(session.execute(select(processed_events)).all()) == 3
    assert smtp_capture.messages() == []


def test_notifications_payment_failed_by_autopay_asks_for_a_new_card(session, world,
                                                                     smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.payment_failed(initiated_by="autopay")
    worker.on_payment_failed(envelope)
    worker.on_payment_failed(envelope)  # redelivered: still one email

    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert len(smtp_capture.messages()) == 1
    assert message["Subject"] == "Action required: a payment from your card on file did not go through"
    text = message.get_body(("plain",)).get_content()
    assert "Amount: $125.00" in text and "Invoice: INV-000123" in text
    assert "Reason: Your card was declined." in text
    assert "pay it yourself, or to update your card:\nhttp://portal.test/portal/login" in \
        text.replace("\r\n", "\n")
    assert "Methadone" not in text
    [row] = deliveries(session)
    assert (row.kind, row.status) == ("payment_failed", "sent")
    assert [e["type"] for e in outbox_events(session)] == ["NotificationDelivered"]


def test_a_staff_charge_of_a_card_on_file_that_fails_emails_the_patient(session, world,
                                                                        smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.payment_failed(initiated_by="staff")
    envelope["data"]["off_session"] = True
    worker.on_payment_failed(envelope)
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert "card on file did not go through" in message["Subject"]
    assert "http://portal.test/portal/login" in message.get_body(("plain",)).get_content()


def test_a_returned_bank_payment_tells_the_patient_the_balance_is_open_again(session, world,
                                                                           smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.payment_failed(initiated_by="patient", after_processing=True,
                                    method="us_bank_account",
                                    failure_message="Your bank returned the payment: there were "
                                                    "not enough funds in the account.")
    worker.on_payment_failed(envelope)
    worker.on_payment_failed(envelope)
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Action required: a payment did not go through"
    text = message.get_body(("plain",)).get_content()
    assert "balance is open again" in text and "not enough funds" in text
    assert "Invoice: INV-000123" in text and "http://portal.test/portal/login" in text
    assert [r.kind for r in deliveries(session)] == ["payment_returned"]


def test_a_pending_bank_payment_gets_a_notice_not_a_receipt(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_payment_processing(fakes.payment_processing())
    worker.on_payment_processing(fakes.payment_processing(method="card"))   # a card: nothing
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "We received your payment"
    text = message.get_body(("plain",)).get_content()
    assert "do not pay again" in text and "receipt" in text and "Bank account ending in 6789" in text
    assert "Expected to clear by: December 1, 2026" in text
    assert sorted((r.kind, r.status) for r in deliveries(session)) == \
        [("payment_pending", "sent"), ("payment_pending", "skipped")]


def test_a_refund_is_announced(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_payment_refunded(fakes.payment_refunded())
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Your refund"
    text = message.get_body(("plain",)).get_content()
    assert "refunded $20.00" in text and "card you paid with" in text
