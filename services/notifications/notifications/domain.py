"""Rules that need no I/O: the kinds of message, their neutral subjects,
which ones a person may turn off, and how addresses are masked for operators.
What the templates are given lives in `contexts.py`.

Privacy rules (42 CFR Part 2 / HIPAA minimum necessary): a subject line and a
From name never carry an amount, a service, a diagnosis or the clinic's own
name (it can reveal treatment); they use the organization's neutral
`email_sender_name`. Emails carry no line items or service descriptions."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

INVOICE_EMAIL = "invoice_sent"      # the invoice email with the pay link
INVOICE_POSTED = "invoice_posted"   # the portal inbox message for a new invoice (not an email)
STATEMENT_POSTED = "statement_posted"  # the portal inbox message for a new statement (not an email)
PORTAL_NOTICE = "portal_notice"     # the neutral "you have a new message" email
RECEIPT = "receipt"                 # the payment receipt email
WELCOME = "welcome"                 # portal invitation with a set-password link
PASSWORD_RESET = "password_reset"   # portal account password reset
STAFF_PASSWORD_RESET = "staff_password_reset"
STAFF_WELCOME = "staff_welcome"      # a new staff member sets their first password
PAYMENT_FAILED = "payment_failed"   # a charge of a method on file failed: action required
PAYMENT_PENDING = "payment_pending"  # a bank payment was accepted; it clears in a few days
PAYMENT_RETURNED = "payment_returned"  # a bank payment came back after it was accepted
REFUND_ISSUED = "refund_issued"     # money went back to the payer
CONSENT_REQUESTED = "consent_requested"
PAYMENT_PLAN_REMINDER = "payment_plan_reminder"
INSTALLMENT_FAILED = "installment_failed"  # payment plans: an installment's autopay did not go through
STATEMENT_READY = "statement_ready"
ESTIMATE_READY = "estimate_ready"
APPOINTMENT_REMINDER = "appointment_reminder"
ESTIMATE_ISSUED = "estimate_issued"   # an estimate or Good Faith Estimate sent (transactional)
ESTIMATE_POSTED = "estimate_posted"   # the portal inbox message for a new estimate (not an email)

EMAIL_CHANNEL, PORTAL_CHANNEL = "email", "portal"
DEFAULT_SENDER_NAME = "Billing Office"
REMINDERS = "reminders"             # the one switch a person has


@dataclass(frozen=True)
class Kind:
    subject: str            # may use {sender}, the neutral sender name, and nothing else
    template: str           # templates/<template>.html and .txt
    reminder: bool = False  # a reminder the person may turn off; all else is transactional


KINDS: dict[str, Kind] = {
    INVOICE_EMAIL: Kind("You have a new invoice from {sender}", "invoice_sent"),
    PORTAL_NOTICE: Kind("You have a new message in your portal", "portal_notice"),
    RECEIPT: Kind("Your payment receipt", "receipt"),
    WELCOME: Kind("Set up your portal account", "welcome"),
    PASSWORD_RESET: Kind("Reset your password", "password_reset"),
    STAFF_PASSWORD_RESET: Kind("Reset your password", "password_reset"),
    STAFF_WELCOME: Kind("Set up your staff account", "password_reset"),
    PAYMENT_FAILED: Kind("Action required: a payment from your card on file did not go through",
                         "payment_failed"),
    PAYMENT_PENDING: Kind("We received your payment", "payment_pending"),
    PAYMENT_RETURNED: Kind("Action required: a payment did not go through", "payment_returned"),
    REFUND_ISSUED: Kind("Your refund", "refund_issued"),
    CONSENT_REQUESTED: Kind("A document is waiting for your signature", "consent_requested"),
    PAYMENT_PLAN_REMINDER: Kind("Upcoming payment reminder", "payment_plan_reminder",
                                reminder=True),
    INSTALLMENT_FAILED: Kind("Action required: a scheduled payment did not go through",
                             "installment_failed"),
    STATEMENT_READY: Kind("Your statement from {sender} is ready", "statement_ready",
                          reminder=True),
    ESTIMATE_READY: Kind("Your estimate is ready", "estimate_ready", reminder=True),
    APPOINTMENT_REMINDER: Kind("Reminder: you have an upcoming appointment",
                               "appointment_reminder", reminder=True),
    # a Good Faith Estimate must reach the patient: not a reminder one can turn off
    ESTIMATE_ISSUED: Kind("You have a new estimate from {sender}", "estimate_issued"),
}
REMINDER_KINDS = tuple(name for name, kind in KINDS.items() if kind.reminder)
TRANSACTIONAL_KINDS = tuple(name for name, kind in KINDS.items() if not kind.reminder)

_EMAIL_IN_TEXT = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


class Undeliverable(Exception):
    """The notification can never go out as things stand (no address on file,
    client unknown). Recorded as failed; retrying would not help. The message
    is a reason safe to store: no names, addresses or amounts."""


class PreferenceError(ValueError):
    """A preference change that is not allowed; the message names it."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def email_kind_for_invoice(channel: str) -> str:
    """Channel `email` sends the invoice itself; `portal` posts it to the
    inbox and only tells the person to sign in."""
    return INVOICE_EMAIL if channel == EMAIL_CHANNEL else PORTAL_NOTICE


def sender_name(org: dict) -> str:
    """The neutral display name for From and subjects; one line, no quotes.
    Never the clinic's name unless the clinic chose it as its sender name."""
    name = " ".join(str(org.get("email_sender_name") or "").split())
    return name.replace('"', "") or DEFAULT_SENDER_NAME


def subject_for(kind: str, sender: str) -> str:
    return KINDS[kind].subject.format(sender=sender)


def subject(kind: str, org: dict) -> str:
    return subject_for(kind, sender_name(org))


def can_be_turned_off(kind: str) -> bool:
    """Reminders go only while the person has them on; transactional mail
    always goes."""
    return KINDS[kind].reminder


def preference_changes(changes) -> dict:
    """Validate `set_preferences` input: `{"reminders": bool}`. Transactional
    kinds (or "transactional") may be named only to keep them on."""
    if not isinstance(changes, dict) or not changes:
        raise PreferenceError('preferences must be an object such as {"reminders": false}')
    accepted = {}
    for name, value in changes.items():
        if not isinstance(value, bool):
            raise PreferenceError(f"{name} must be true or false")
        if name == REMINDERS:
            accepted[REMINDERS] = value
        elif name == "transactional" or name in TRANSACTIONAL_KINDS:
            if not value:
                raise PreferenceError(
                    f"{name} emails cannot be turned off: they are transactional")
        elif name in REMINDER_KINDS:
            raise PreferenceError(f"{name} is switched with {REMINDERS!r}, not on its own")
        else:
            raise PreferenceError(f"unknown preference {name!r}")
    return accepted


def mask_email(address: str | None) -> str:
    """`alice@demo.test` -> `a***@demo.test`; anything else is shown as is
    only when it holds no `@` (a client id for portal deliveries)."""
    if not address:
        return ""
    local, at, domain = address.rpartition("@")
    if not at:
        return address
    return f"{local[:1]}***@{domain}"


def scrub(text: str, limit: int = 200) -> str:
    """An error text safe to store and log: addresses masked, one line, short."""
    masked = _EMAIL_IN_TEXT.sub(lambda m: mask_email(m.group(0)), str(text))
    return " ".join(masked.split())[:limit] or "unknown error"


def inbox_message_for_invoice(data: dict) -> dict:
    return {"title": "A new invoice has been posted to your portal",
            "body": f"Invoice {data['invoice_number']} is ready to view and pay in your portal.",
            "invoice_id": data["invoice_id"]}


def inbox_message_for_statement(data: dict) -> dict:
    """No amount: the statement itself is behind the sign-in."""
    end = data["period_end"]
    return {"title": "Your statement is ready",
            "body": f"Your statement for the period ending {end} is ready to view and download "
                    "in Billing, under Statements.",
            "invoice_id": None}
def inbox_message_for_estimate(data: dict) -> dict:
    what = "Good Faith Estimate" if data["kind"] == "gfe" else "estimate"
    return {"title": f"A new {what} has been posted to your portal",
            "body": f"Estimate {data['estimate_number']} is ready to review, approve or decline "
                    "in your portal."}
