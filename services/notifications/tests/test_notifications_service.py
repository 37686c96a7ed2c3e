"""The service on the real broker: events published the way the outbox relay
publishes them, stand-in services answering RPC, real PostgreSQL, real SMTP."""
from __future__ import annotations

import pytest
from kombu import Connection
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher
from nameko.standalone.rpc import ServiceRpcProxy
from nameko.testing.services import entrypoint_waiter
from nameko.testing.utils import get_container
from sqlalchemy import select
from sqlalchemy.orm import Session

import contracts
from servicekit.db import engine_for
from servicekit.tables import outbox
from servicekit.topology import subscriptions

from notifications.models import Delivery
from notifications.service import NotificationsService

import notifications_fakes as fakes
from tests.support.processes import free_port, wait_until

QUEUE = "evt-invoicing-InvoiceSent--notifications.on_invoice_sent"


@pytest.fixture
def config(rabbit_config, notifications_db_url, smtp_capture):
    return {**rabbit_config, "DATABASE_URL": notifications_db_url, "MAIL_BACKEND": "smtp",
            "SMTP_HOST": "127.0.0.1", "SMTP_PORT": smtp_capture.port, "SMTP_STARTTLS": "0",
            "EVENT_RETRY_DELAYS_MS": [100, 200], "PUBLIC_URL": "http://portal.test"}


@pytest.fixture
def start(runner_factory, world):
    """Start notifications and the stand-ins; returns notifications' container."""
    def run(config):
        runner = runner_factory(config, NotificationsService, fakes.ClientsStandIn,
                                fakes.InvoicingStandIn, fakes.PaymentsStandIn)
        runner.start()
        return get_container(runner, NotificationsService)
    return run


def publish(config, envelope):
    event_dispatcher(config)(envelope["source"], envelope["type"], envelope)


def test_subscriptions_are_what_the_topology_declares():
    assert sorted(s.queue_name for s in subscriptions([NotificationsService])) == sorted([
        QUEUE, "evt-payments-PaymentCaptured--notifications.on_payment_captured",
        "evt-payments-PaymentFailed--notifications.on_payment_failed",
        "evt-payments-PaymentProcessing--notifications.on_payment_processing",
        "evt-payments-PaymentRefunded--notifications.on_payment_refunded",
        "evt-invoicing-InstallmentFailed--notifications.on_installment_failed",
        "evt-invoicing-StatementIssued--notifications.on_statement_issued",
        "evt-clients-PortalInviteRequested--notifications.on_portal_invite_requested",
        "evt-clients-PortalPasswordResetRequested--"
        "notifications.on_portal_password_reset_requested",
        "evt-clients-StaffPasswordResetRequested--"
        "notifications.on_staff_password_reset_requested",
        "evt-invoicing-EstimateIssued--notifications.on_estimate_issued",
        "evt-documents-FormAssigned--notifications.on_form_assigned",
        "evt-documents-ConsentRequested--notifications.on_consent_requested",
        "evt-scheduling-AppointmentScheduled--notifications.on_appointment_scheduled",
        "evt-scheduling-AppointmentChanged--notifications.on_appointment_changed"])


def test_invoice_email_over_smtp_once_per_event(config, start, smtp_capture, world):
    world.contacts["cl_1"]["first_name"] = "<b>Al</b>"
    container = start(config)
    envelope = fakes.invoice_sent()
    for _ in range(2):  # the second is a redelivery: nothing more may go out
        with entrypoint_waiter(container, "on_invoice_sent"):
            publish(config, envelope)

    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert len(smtp_capture.messages()) == 1
    assert message.get_content_type() == "multipart/alternative"
    subject = message["Subject"]
    assert subject == "You have a new invoice from Patient Billing Office"
    assert not any(w in subject for w in ("$", "12,345", "Cedar", "Recovery", "Methadone"))
    assert str(message["From"]) == "Patient Billing Office <billing@cairn.local>"
    token = world.links[envelope["id"]]["token"]
    html = message.get_body(("html",)).get_content()
    text = message.get_body(("plain",)).get_content()
    for body in (html, text):
        assert f"http://portal.test/pay/{token}" in body
        assert "http://portal.test/portal/login" in body
        assert "$12,345.67" in body and "Methadone" not in body
    assert "Hello &lt;b&gt;Al&lt;/b&gt;" in html and "<b>Al</b>" not in html

    with ServiceRpcProxy("notifications", config) as notifications:
        [delivery] = notifications.list_deliveries()
    assert (delivery["status"], delivery["recipient"], delivery["attempts"]) == \
        ("sent", "a***@demo.test", 1)


def test_receipt_on_payment_captured(config, start, smtp_capture):
    container = start(config)
    with entrypoint_waiter(container, "on_payment_captured"):
        publish(config, fakes.payment_captured())
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Your payment receipt"
    assert "$45.50" in message.get_body(("html",)).get_content()


def test_smtp_down_is_retried_then_dead_lettered(config, start, notifications_db_url):
    config = {**config, "SMTP_PORT": free_port()}  # nothing listens there
    start(config)
    publish(config, fakes.invoice_sent())

    def dead_count():
        with Connection(config["AMQP_URI"]) as connection:
            _, count, _ = connection.default_channel.queue_declare(f"{QUEUE}.dead", passive=True)
        return count
    wait_until(dead_count, timeout=15, what="the event on the dead-letter queue")

    with Session(engine_for(notifications_db_url)) as db:
        [row] = db.scalars(select(Delivery)).all()
    assert (row.status, row.attempts) == ("queued", 3)  # first try + 2 retries
    assert row.last_error == "SMTP server unreachable: ConnectionRefusedError"


def test_no_email_on_file_is_a_recorded_failure_not_an_error(config, start, smtp_capture,
                                                             notifications_db_url):
    container = start(config)
    with entrypoint_waiter(container, "on_invoice_sent") as result:
        publish(config, fakes.invoice_sent("inv_noemail", "cl_noemail"))
    assert result.get() is None  # no exception: nothing to retry

    def published():
        with Session(engine_for(notifications_db_url)) as db:
            return db.execute(select(outbox.c.event_type).where(outbox.c.sent_at.isnot(None))
                              ).scalars().all()
    assert wait_until(published, timeout=10, what="the relay") == ["NotificationFailed"]
    assert smtp_capture.messages() == []


def test_welcome_email_on_the_broker_once_per_event(config, start, smtp_capture, world):
    container = start(config)
    envelope = fakes.portal_invite()
    for _ in range(2):
        with entrypoint_waiter(container, "on_portal_invite_requested"):
            publish(config, envelope)
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert len(smtp_capture.messages()) == 1
    assert message["Subject"] == "Set up your portal account"
    path = world.password_links[envelope["id"]]["path"]
    assert f"http://portal.test{path}" in message.get_body(("plain",)).get_content()
    assert len(world.password_link_calls) == 1


def test_payment_failed_on_the_broker(config, start, smtp_capture):
    container = start(config)
    for initiated_by in ("patient", "autopay"):
        with entrypoint_waiter(container, "on_payment_failed"):
            publish(config, fakes.payment_failed(initiated_by=initiated_by))
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Action required: a payment from your card on file did not go through"
    with ServiceRpcProxy("notifications", config) as notifications:
        statuses = sorted(d["status"] for d in notifications.list_deliveries())
        assert statuses == ["sent", "skipped"]
        notifications.set_preferences("pa_1", {"reminders": False})
        assert notifications.get_preferences("pa_1")["reminders"] is False
        with pytest.raises(RemoteError) as refused:
            notifications.set_preferences("pa_1", {"receipt": False})
    assert refused.value.exc_type == "InvalidInput" and "receipt" in refused.value.value
    assert len(smtp_capture.messages()) == 1


def test_new_clinic_details_reach_the_next_email_after_organization_changed(
        config, start, world, smtp_capture):
    container = start(config)
    with entrypoint_waiter(container, "on_invoice_sent"):
        publish(config, fakes.invoice_sent(due_on=None))
    world.organization["phone"] = "555-0199"
    changed = contracts.make_envelope("clients", "OrganizationChanged", {"part": "organization"}, 1)
    with entrypoint_waiter(container, "on_organization_changed"):
        publish(config, changed)
    with entrypoint_waiter(container, "on_payment_captured"):
        publish(config, fakes.payment_captured(numbered=True))
    first, receipt = smtp_capture.wait_for(2, to="alice@demo.test")
    assert "555-0100" in first.get_body(("plain",)).get_content()
    assert "555-0199" in receipt.get_body(("plain",)).get_content()
