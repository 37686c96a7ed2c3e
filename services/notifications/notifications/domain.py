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
from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

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
FORM_ASSIGNED = "form_assigned"       # staff assigned a form or screening (no name of it)
FORM_POSTED = "form_posted"           # the portal inbox message for it (not an email)
CONSENT_POSTED = "consent_posted"     # the portal inbox message for a consent to sign (not an email)

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
    # the form's name (a depression screening, an intake) stays in the portal
    FORM_ASSIGNED: Kind("You have a form to complete", "form_assigned"),
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


def inbox_message_for_form() -> dict:
    """No form name: "PHQ-9" or "intake" says what the care is about."""
    return {"title": "You have a form to complete",
            "body": "A form is waiting for you in your portal, under Documents, then Forms and "
                    "Surveys."}


def inbox_message_for_consent() -> dict:
    """No document title: it can name the treatment."""
    return {"title": "A document is waiting for your signature",
            "body": "A document is waiting for your signature in your portal, under Documents, "
                    "then Consents."}


# ---- appointment reminders: when they go --------------------------------------
# All times naive UTC unless named local; the clinic's zone decides quiet hours.

@dataclass(frozen=True)
class QuietHours:
    """A daily stretch of clinic wall-clock time with no reminders
    ("21:00-08:00" runs over midnight). Equal ends: no quiet hours."""
    start: time
    end: time

    def contains(self, clock: time) -> bool:
        if self.start == self.end:
            return False
        if self.start < self.end:
            return self.start <= clock < self.end
        return clock >= self.start or clock < self.end


_HOURS = re.compile(r"^\s*([01]?\d|2[0-3]):([0-5]\d)\s*-\s*([01]?\d|2[0-3]):([0-5]\d)\s*$")


def parse_quiet_hours(text: str | None) -> QuietHours | None:
    """"21:00-08:00" -> QuietHours; "", "off" or "none" -> None."""
    if text is None or str(text).strip().lower() in ("", "off", "none"):
        return None
    found = _HOURS.match(str(text))
    if not found:
        raise ValueError(f"quiet hours {text!r} must look like 21:00-08:00")
    h1, m1, h2, m2 = (int(part) for part in found.groups())
    return QuietHours(time(h1, m1), time(h2, m2))


def _local(moment: datetime, tz_name: str) -> datetime:
    return moment.replace(tzinfo=timezone.utc).astimezone(ZoneInfo(tz_name))


def _utc(day: date, clock: time, tz_name: str) -> datetime:
    local = datetime.combine(day, clock, tzinfo=ZoneInfo(tz_name))
    return local.astimezone(timezone.utc).replace(tzinfo=None)


def in_quiet_hours(moment: datetime, quiet: QuietHours | None, tz_name: str) -> bool:
    return quiet is not None and quiet.contains(_local(moment, tz_name).time())


_STEP = timedelta(minutes=1)
_DAY_OF_MINUTES = 24 * 60


def reminder_at(starts_at: datetime, lead: timedelta, quiet: QuietHours | None,
                tz_name: str) -> datetime | None:
    """When to remind of an appointment starting at `starts_at`: `lead`
    before it; if that falls in quiet hours, the last minute before those
    quiet hours began (earlier, so it still arrives before the appointment,
    never in the night). None only if no minute of the day is outside quiet
    hours."""
    target = starts_at - lead
    if not in_quiet_hours(target, quiet, tz_name):
        return target
    local = _local(target, tz_name)
    began_on = local.date() if local.time() >= quiet.start else local.date() - timedelta(days=1)
    candidate = min(_utc(began_on, quiet.start, tz_name) - _STEP, target - _STEP)
    candidate = candidate.replace(second=0, microsecond=0)
    for _ in range(2 * _DAY_OF_MINUTES):      # a clock change can move where quiet began
        if not in_quiet_hours(candidate, quiet, tz_name):
            return candidate
        candidate -= _STEP
    return None


def send_time(now: datetime, starts_at: datetime, quiet: QuietHours | None,
              tz_name: str) -> datetime | None:
    """A due reminder found at `now` (late: the service was down, or the
    appointment was booked less than the lead time ahead): now, unless it is
    quiet hours — then when they end, if that is before the start; None
    (not sent) once the appointment has started or quiet hours last until it."""
    if now >= starts_at:
        return None
    if not in_quiet_hours(now, quiet, tz_name):
        return now
    local = _local(now, tz_name)
    ends_on = local.date() if local.time() < quiet.end else local.date() + timedelta(days=1)
    ends = _utc(ends_on, quiet.end, tz_name)
    for _ in range(2 * _DAY_OF_MINUTES):
        if not in_quiet_hours(ends, quiet, tz_name):
            break
        ends += _STEP
    return ends if ends < starts_at else None
