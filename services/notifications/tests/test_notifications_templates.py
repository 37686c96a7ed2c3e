"""Every kind of message renders through `render_message`: HTML autoescaped,
clinic branding (logo, name and contact details in the footer), a neutral
subject with no clinic name, amount, service or clinical detail."""
from __future__ import annotations

import re

import pytest

from notifications import contexts, domain
from notifications.render import render_message

import notifications_fakes as fakes

EVIL = "<script>alert(1)</script>"
PERSON = {"email": "x@demo.test", "first_name": EVIL, "username": f"user{EVIL}"}
ORG = {**fakes.ORGANIZATION, "name": "Cedar Ridge <b>Recovery</b>",
       "welcome_message": f"Welcome {EVIL}"}
INVOICE = {"number": "INV-000123", "balance": 1234567, "currency": "usd", "due_on": "2026-12-09"}
LINK = {"path": "/portal/set-password/tok", "expires_at": "2026-11-28T10:00:00.000000Z"}
ISSUED = "2026-11-25T10:00:00.000000Z"
URL, TZ = "http://portal.test", "America/Chicago"
USD = {"amount": 12500, "currency": "usd"}
PAYMENT = {**fakes.payment_captured()["data"], "failure_message": f"Declined {EVIL}"}

CONTEXTS = {
    domain.INVOICE_EMAIL: lambda: contexts.invoice_email_context(
        PERSON, ORG, INVOICE, {"path": "/pay/tok"}, URL),
    domain.PORTAL_NOTICE: lambda: contexts.portal_notice_context(PERSON, ORG, URL),
    domain.RECEIPT: lambda: contexts.receipt_context(PERSON, ORG, [INVOICE], PAYMENT, URL, TZ),
    domain.PAYMENT_PENDING: lambda: contexts.payment_pending_context(
        PERSON, ORG, [INVOICE], fakes.payment_processing()["data"], URL, TZ),
    domain.PAYMENT_RETURNED: lambda: contexts.payment_returned_context(
        PERSON, ORG, [INVOICE], PAYMENT, URL),
    domain.REFUND_ISSUED: lambda: contexts.refund_context(
        PERSON, ORG, fakes.payment_refunded()["data"], URL),
    domain.WELCOME: lambda: contexts.welcome_context(PERSON, ORG, f"Riley {EVIL}", LINK, ISSUED,
                                                     URL, TZ),
    domain.PASSWORD_RESET: lambda: contexts.password_reset_context(PERSON, ORG, LINK, ISSUED,
                                                                   URL, TZ),
    domain.STAFF_PASSWORD_RESET: lambda: contexts.password_reset_context(
        PERSON, ORG, {**LINK, "path": "/staff/set-password/tok"}, ISSUED, URL, TZ, staff=True),
    domain.STAFF_WELCOME: lambda: contexts.password_reset_context(
        PERSON, ORG, {**LINK, "path": "/staff/set-password/tok"}, ISSUED, URL, TZ, staff=True,
        welcome=True),
    domain.PAYMENT_FAILED: lambda: contexts.payment_failed_context(PERSON, ORG, [INVOICE],
                                                                   PAYMENT, URL),
    domain.FORM_ASSIGNED: lambda: contexts.form_assigned_context(PERSON, ORG, URL),
    domain.CONSENT_REQUESTED: lambda: contexts.consent_requested_context(PERSON, ORG, URL),
    domain.INSTALLMENT_FAILED: lambda: contexts.installment_failed_context(   # payment plans
        PERSON, ORG, {"amount": USD, "installment_number": 2, "next_attempt_on": "2026-12-04"},
        URL),
    domain.PAYMENT_PLAN_REMINDER: lambda: contexts.payment_plan_reminder_context(
        PERSON, ORG, URL, installment=USD, due_on="2026-12-15", autopay=True),
    domain.STATEMENT_READY: lambda: contexts.statement_ready_context(
        PERSON, ORG, URL, amount_due=USD, statement_date="2026-12-01"),
    domain.ESTIMATE_READY: lambda: contexts.estimate_ready_context(
        PERSON, ORG, URL, estimate_number="EST-000042", total=USD, good_faith=True),
    domain.ESTIMATE_ISSUED: lambda: contexts.estimate_issued_context(
        PERSON, ORG, URL, estimate={"estimate_id": "est_1", "estimate_number": "EST-000042",
                                    "kind": "gfe", "total": USD}),
    domain.APPOINTMENT_REMINDER: lambda: contexts.appointment_reminder_context(
        PERSON, ORG, URL, TZ, starts_at="2026-12-01T15:30:00.000000Z", telehealth=False,
        address=f"1 Main Street {EVIL}"),
}
# the clinic's name, its location's (treatment-revealing) name, money, numbers, care
FORBIDDEN_IN_SUBJECT = ("Cedar", "Ridge", "Recovery", "Opioid", "Treatment", "Program",
                        "Methadone", "$", "125", "12,345", "INV-", "EST-", "diagnos", "therap",
                        "counsel", "clinic", "<", "\n")
FORBIDDEN_IN_BODY = ("Methadone", "Opioid", "Treatment Program", "diagnos")


def test_every_kind_has_a_context_here():
    assert set(CONTEXTS) == set(domain.KINDS)


@pytest.mark.parametrize("kind", sorted(domain.KINDS))
def test_notifications_template_renders_escaped_and_neutral(kind):
    message = render_message(kind, CONTEXTS[kind]())
    for word in FORBIDDEN_IN_SUBJECT:
        assert word.lower() not in message.subject.lower(), (kind, word)
    assert "{" not in message.subject
    # HTML: autoescaped, branded
    assert "<script>" not in message.html and "&lt;script&gt;alert(1)&lt;/script&gt;" in message.html
    assert "Hello &lt;script&gt;" in message.html
    assert '<img src="https://cdn.test/logo.png" alt="Cedar Ridge &lt;b&gt;Recovery&lt;/b&gt;"' \
        in message.html
    assert "Cedar Ridge &lt;b&gt;Recovery&lt;/b&gt;</strong>" in message.html  # footer
    # plain text: not escaped (it is not HTML), same facts
    assert f"Hello {EVIL}," in message.text and "&lt;" not in message.text
    for body in (message.text, message.html):
        assert "555-0100" in body and "office@cedar.test" in body and "Springfield" in body
        assert "http://portal.test/" in body
        assert "password:" not in body.lower()  # no email ever labels a password
        for word in FORBIDDEN_IN_BODY:
            assert word not in body, (kind, word)
    reminder_note = "you can turn them off in the portal"
    assert (reminder_note in message.text) == domain.can_be_turned_off(kind)


def test_notifications_template_without_logo_shows_the_name():
    org = {**fakes.ORGANIZATION, "logo_url": ""}
    message = render_message(domain.WELCOME, contexts.welcome_context(
        fakes.ACCOUNTS["pa_1"], org, "Riley", LINK, ISSUED, URL, TZ))
    assert "<img" not in message.html
    assert '<div style="font-size:20px;font-weight:bold;">Cedar Ridge Recovery</div>' in message.html


def test_notifications_subject_uses_billing_office_without_a_sender_name():
    org = {**fakes.ORGANIZATION, "email_sender_name": ""}
    context = contexts.invoice_email_context(PERSON, org, INVOICE, {"path": "/pay/t"}, URL)
    assert render_message(domain.INVOICE_EMAIL, context).subject == \
        "You have a new invoice from Billing Office"
    assert domain.sender_name(org) == "Billing Office"


def test_notifications_reminder_and_consent_bodies_say_only_what_they_must():
    consent = render_message(domain.CONSENT_REQUESTED, CONTEXTS[domain.CONSENT_REQUESTED]())
    assert "waiting for your signature" in consent.text
    telehealth = render_message(domain.APPOINTMENT_REMINDER, contexts.appointment_reminder_context(
        PERSON, ORG, URL, TZ, starts_at="2026-12-01T15:30:00.000000Z", telehealth=True,
        address="1 Main Street"))
    assert "December 1, 2026 at 9:30 AM CST" in telehealth.text
    assert "Where: Telehealth" in telehealth.text and "Where: 1 Main" not in telehealth.text
    in_person = render_message(domain.APPOINTMENT_REMINDER, CONTEXTS[domain.APPOINTMENT_REMINDER]())
    assert f"Where: 1 Main Street {EVIL}" in in_person.text
    plan = render_message(domain.PAYMENT_PLAN_REMINDER, CONTEXTS[domain.PAYMENT_PLAN_REMINDER]())
    assert "$125.00" in plan.text and "December 15, 2026" in plan.text
    assert "charged automatically" in plan.text


@pytest.mark.parametrize("since, until, said", [
    ("2026-11-25T10:00:00.000000Z", "2026-11-28T10:00:00.000000Z", "72 hours"),
    ("2026-11-25T10:00:00.000000Z", "2026-11-25T11:00:00.100000Z", "1 hour"),
    ("2026-11-25T10:00:00.000000Z", "2026-11-25T10:30:00.000000Z", "30 minutes"),
    ("2026-11-25T10:00:00.000000Z", "2026-11-25T10:00:10.000000Z", "1 minute")])
def test_link_lifetime_is_said_in_rounded_units(since, until, said):
    assert contexts.duration(since, until) == said


def test_local_time_names_the_zone():
    assert re.fullmatch(r"November 28, 2026 at 4:00 AM CST",
                        contexts.local_time("2026-11-28T10:00:00.000000Z", "America/Chicago"))
