"""What notifications asks the other services for: only what the event does
not already say. The clinic's details are read once and kept until the
clinic changes them; an invoice email and a receipt name their invoices from
the event itself (older events, recorded before those fields, still work)."""
from __future__ import annotations

from servicekit.cache import TtlCache

import notifications_fakes as fakes
from test_notifications_handlers import make_worker, smtp_postman


def text_of(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_an_invoice_email_comes_from_the_event_without_asking_invoicing(session, world,
                                                                        smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_invoice_sent(fakes.invoice_sent(due_on="2026-12-09"))
    worker.on_invoice_sent(fakes.invoice_sent("inv_html", "cl_html", due_on=None))
    first, second = smtp_capture.wait_for(2)
    assert "INV-000123" in text_of(first) and "$12,345.67" in text_of(first)
    assert "December 9, 2026" in text_of(first)
    assert "INV-000124" in text_of(second) and "$50.00" in text_of(second)
    assert world.asked["get_invoice"] == 0


def test_an_older_invoice_sent_without_due_on_is_looked_up(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_invoice_sent(fakes.invoice_sent())
    [message] = smtp_capture.wait_for(1)
    assert "December 9, 2026" in text_of(message)              # the due date from invoicing
    assert world.asked["get_invoice"] == 1


def test_a_receipt_names_the_invoices_from_the_event(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_payment_captured(fakes.payment_captured(invoice_ids=["inv_1", "inv_html"],
                                                      numbered=True))
    [message] = smtp_capture.wait_for(1)
    assert "INV-000123" in text_of(message) and "INV-000124" in text_of(message)
    assert world.asked["get_invoice"] == 0


def test_the_clinics_details_are_read_once_and_again_after_they_change(session, world,
                                                                       smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port),
                         organizations=TtlCache(300))
    worker.on_invoice_sent(fakes.invoice_sent(due_on=None))
    worker.on_payment_captured(fakes.payment_captured(numbered=True))
    assert world.asked["get_organization"] == 1

    world.organization["phone"] = "555-0199"
    worker.on_organization_changed({"part": "organization"})
    worker.on_payment_refunded(fakes.payment_refunded())
    *_, latest = smtp_capture.wait_for(3)
    assert "555-0199" in text_of(latest)
    assert world.asked["get_organization"] == 2
