"""Rules that need no I/O: which message a fact becomes, its neutral subject,
what the templates are given, and how addresses are masked for operators.

Privacy rules (42 CFR Part 2 / HIPAA minimum necessary): a subject line and a
From name never carry an amount, a service, a diagnosis or the clinic's own
name (it can reveal treatment); they use the organization's neutral
`email_sender_name`. Emails carry no line items or service descriptions."""
from __future__ import annotations

import re
import secrets
from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from servicekit.money import format_money

INVOICE_EMAIL = "invoice_sent"      # the invoice email with the pay link
INVOICE_POSTED = "invoice_posted"   # the portal inbox message for a new invoice
PORTAL_NOTICE = "portal_notice"     # the neutral "you have a new message" email
RECEIPT = "receipt"                 # the payment receipt email

EMAIL_CHANNEL, PORTAL_CHANNEL = "email", "portal"
DEFAULT_SENDER_NAME = "Billing Office"
PORTAL_LOGIN_PATH = "/portal/login"

_SUBJECTS = {
    INVOICE_EMAIL: "You have a new invoice from {sender}",
    PORTAL_NOTICE: "You have a new message in your portal",
    RECEIPT: "Your payment receipt",
}
_CARD_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
                "discover": "Discover", "diners": "Diners Club", "jcb": "JCB",
                "unionpay": "UnionPay"}
_EMAIL_IN_TEXT = re.compile(r"[^\s<>\"'(),;:]+@[^\s<>\"'(),;:]+")


class Undeliverable(Exception):
    """The notification can never go out as things stand (no address on file,
    client unknown). Recorded as failed; retrying would not help. The message
    is a reason safe to store: no names, addresses or amounts."""


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def email_kind_for_invoice(channel: str) -> str:
    """Channel `email` sends the invoice itself; `portal` posts it to the
    inbox and only tells the person to sign in."""
    return INVOICE_EMAIL if channel == EMAIL_CHANNEL else PORTAL_NOTICE


def sender_name(org: dict) -> str:
    """The neutral display name for From and subjects; one line, no quotes."""
    name = " ".join(str(org.get("email_sender_name") or "").split())
    return name.replace('"', "") or DEFAULT_SENDER_NAME


def subject(kind: str, org: dict) -> str:
    return _SUBJECTS[kind].format(sender=sender_name(org))


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


def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def due_date(iso_day: str | None) -> str | None:
    return long_date(date.fromisoformat(iso_day)) if iso_day else None


def local_date(timestamp: str, tz_name: str) -> str:
    """An envelope timestamp (`…Z`, UTC) as a date in the clinic's zone."""
    moment = datetime.fromisoformat(timestamp.removesuffix("Z")).replace(tzinfo=timezone.utc)
    return long_date(moment.astimezone(ZoneInfo(tz_name)).date())


def payment_method(data: dict) -> str:
    method, last4 = data["method"], data.get("card_last4")
    if method == "card":
        brand = data.get("card_brand")
        label = _CARD_BRANDS.get(brand, brand.title()) if brand else "Card"
    else:
        label = {"us_bank_account": "Bank account", "check": "Check", "cash": "Cash"}[method]
    return f"{label} ending in {last4}" if last4 and method in ("card", "us_bank_account") else label


def clinic(org: dict) -> dict:
    """What the templates show about the clinic (body only, never subjects)."""
    return {"name": org.get("name") or sender_name(org), "logo_url": org.get("logo_url") or "",
            "phone": org.get("phone") or "", "email": org.get("email") or "",
            "address_lines": [line.strip() for line in (org.get("address") or "").splitlines()
                              if line.strip()]}


def _common(contact: dict, org: dict, public_url: str) -> dict:
    return {"first_name": contact.get("first_name") or "there", "clinic": clinic(org),
            "portal_url": join_url(public_url, PORTAL_LOGIN_PATH)}


def invoice_email_context(contact: dict, org: dict, invoice: dict, link: dict,
                          public_url: str) -> dict:
    return {**_common(contact, org, public_url),
            "invoice_number": invoice["number"],
            "amount_due": format_money(invoice["balance"], invoice["currency"]),
            "due_on": due_date(invoice.get("due_on")),
            "pay_url": join_url(public_url, link["path"])}


def portal_notice_context(contact: dict, org: dict, public_url: str) -> dict:
    return _common(contact, org, public_url)


def receipt_context(contact: dict, org: dict, invoice: dict, payment: dict,
                    public_url: str, tz_name: str) -> dict:
    """Only what the payment itself says: the invoice's balance may not yet
    reflect this payment, so no balance is shown."""
    amount = payment["amount"]
    return {**_common(contact, org, public_url),
            "invoice_number": invoice["number"],
            "amount_paid": format_money(amount["amount"], amount["currency"]),
            "method": payment_method(payment),
            "paid_on": local_date(payment["captured_at"], tz_name)}


def inbox_message_for_invoice(data: dict) -> dict:
    return {"title": "A new invoice has been posted to your portal",
            "body": f"Invoice {data['invoice_number']} is ready to view and pay in your portal.",
            "invoice_id": data["invoice_id"]}
