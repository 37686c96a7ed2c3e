"""Pure rules and rendering: no I/O."""
from __future__ import annotations

import email
import email.policy

import pytest

from notifications import contexts, domain
from notifications.mailer import OutgoingEmail, PermanentMailError, build_message
from notifications.render import render

import notifications_fakes as fakes

ORG = fakes.ORGANIZATION
ALICE = fakes.CONTACTS["cl_1"]
INVOICE = fakes.INVOICES["inv_1"]
LINK = {"token": "tok123", "path": "/pay/tok123", "expires_at": "2026-12-25T00:00:00.000000Z"}


@pytest.mark.parametrize("address, masked", [
    ("alice@demo.test", "a***@demo.test"), ("a@b.c", "a***@b.c"), ("", ""), (None, ""),
    ("cl_1", "cl_1")])
def test_mask_email(address, masked):
    assert domain.mask_email(address) == masked


def test_scrub_masks_addresses_and_keeps_one_short_line():
    text = "550 5.1.1 <alice@demo.test>:\n Recipient address rejected" + "x" * 500
    scrubbed = domain.scrub(text)
    assert "alice@" not in scrubbed and "a***@demo.test" in scrubbed
    assert "\n" not in scrubbed and len(scrubbed) == 200


@pytest.mark.parametrize("kind", [domain.INVOICE_EMAIL, domain.PORTAL_NOTICE, domain.RECEIPT])
def test_subjects_are_neutral(kind):
    subject = domain.subject(kind, ORG)
    for word in ("Cedar", "Recovery", "$", "12,345", "INV-", "Methadone", "Opioid"):
        assert word not in subject


def test_sender_name_is_neutral_one_line_and_never_empty():
    assert domain.sender_name(ORG) == "Patient Billing Office"
    assert domain.sender_name({"email_sender_name": 'Billing\r\nBcc: x@y "Office"'}) == \
        "Billing Bcc: x@y Office"
    assert domain.sender_name({"name": "Cedar Ridge Recovery"}) == domain.DEFAULT_SENDER_NAME


@pytest.mark.parametrize("payment, label", [
    ({"method": "card", "card_brand": "visa", "card_last4": "4242"}, "Visa ending in 4242"),
    ({"method": "card", "card_brand": "amex"}, "American Express"),
    ({"method": "card"}, "Card"),
    ({"method": "us_bank_account", "bank_last4": "6789"}, "Bank account ending in 6789"),
    ({"method": "check", "card_last4": "1111"}, "Check"),
    ({"method": "check", "check_number": "1042"}, "Check #1042"),
    ({"method": "terminal"}, "Card"),
    ({"method": "cash"}, "Cash")])
def test_payment_method(payment, label):
    assert contexts.payment_method(payment) == label


def test_local_date_uses_the_clinic_zone():
    assert contexts.local_date("2026-11-25T03:00:00.000000Z", "UTC") == "November 25, 2026"
    assert contexts.local_date("2026-11-25T03:00:00.000000Z", "America/Chicago") == \
        "November 24, 2026"


def test_invoice_email_has_links_amount_and_no_line_items():
    context = contexts.invoice_email_context(ALICE, ORG, INVOICE, LINK, "http://portal.test/")
    text, html = render(domain.INVOICE_EMAIL, context)
    for body in (text, html):
        assert "Hello Alice" in body
        assert "Invoice INV-000123 from Cedar Ridge Recovery" in body
        assert "$12,345.67" in body and "December 9, 2026" in body
        assert "http://portal.test/pay/tok123" in body
        assert "http://portal.test/portal/login" in body
        assert "Pay now (one-time payment)" in body and "Sign in to the portal" in body
        assert "555-0100" in body and "office@cedar.test" in body
        assert "Methadone" not in body and "Opioid" not in body
    assert 'src="https://cdn.test/logo.png"' in html


def test_html_is_autoescaped_and_text_is_not():
    contact = fakes.CONTACTS["cl_html"]
    context = contexts.invoice_email_context(contact, ORG, fakes.INVOICES["inv_html"], LINK,
                                           "http://portal.test")
    text, html = render(domain.INVOICE_EMAIL, context)
    assert "Hello &lt;b&gt;Al&lt;/b&gt;" in html and "<b>Al</b>" not in html
    assert "Hello <b>Al</b>," in text
    assert "Due date" not in html  # no due date on file


def test_receipt_shows_what_was_paid_and_no_balance():
    payment = fakes.payment_captured()["data"]
    context = contexts.receipt_context(ALICE, ORG, [INVOICE], payment, "http://portal.test", "UTC")
    text, html = render(domain.RECEIPT, context)
    for body in (text, html):
        assert "$45.50" in body and "INV-000123" in body and "Visa ending in 4242" in body
        assert "November 25, 2026" in body
        assert "balance" not in body.lower() and "12,345" not in body
        assert "credit" not in body


def test_a_receipt_for_several_invoices_names_them_all_and_the_credit_kept():
    payment = fakes.payment_captured(invoice_ids=["inv_1", "inv_2"], unapplied=1000)["data"]
    second = {**INVOICE, "number": "INV-000124"}
    context = contexts.receipt_context(ALICE, ORG, [INVOICE, second], payment,
                                       "http://portal.test", "UTC")
    text, html = render(domain.RECEIPT, context)
    assert "Invoices: INV-000123, INV-000124" in text
    for body in (text, html):
        assert "$55.50" in body and "$10.00 of it is kept as a credit" in body


def test_portal_notice_says_nothing_about_the_invoice():
    text, html = render(domain.PORTAL_NOTICE,
                        contexts.portal_notice_context(ALICE, ORG, "http://portal.test"))
    for body in (text, html):
        assert "new message in your portal" in body
        assert "http://portal.test/portal/login" in body
        assert "INV-" not in body and "$" not in body


def test_message_is_multipart_alternative_with_neutral_from():
    outgoing = OutgoingEmail(to="alice@demo.test", subject="Your payment receipt", text="hi",
                             html="<p>hi</p>", sender_name="Patient Billing Office",
                             reply_to="office@cedar.test")
    message = build_message(outgoing, "billing@cairn.local", "<ntf_1@cairn.local>")
    parsed = email.message_from_bytes(message.as_bytes(), policy=email.policy.default)
    assert parsed.get_content_type() == "multipart/alternative"
    assert [part.get_content_type() for part in parsed.iter_parts()] == ["text/plain", "text/html"]
    assert str(parsed["From"]) == "Patient Billing Office <billing@cairn.local>"
    assert parsed["Message-ID"] == "<ntf_1@cairn.local>"
    assert str(parsed["Reply-To"]) == "office@cedar.test"


def test_an_invalid_recipient_is_a_permanent_failure():
    outgoing = OutgoingEmail(to="not an address", subject="s", text="t", html="h", sender_name="B")
    with pytest.raises(PermanentMailError):
        build_message(outgoing, "billing@cairn.local", "<x@cairn.local>")
