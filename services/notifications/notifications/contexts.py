"""What each template is given, built from what the other services told us.
Pure functions, no I/O. Every context carries the clinic's branding (logo,
name and contact details for the footer), the neutral sender name (for the
subject) and the portal sign-in link; none carries a diagnosis, a service or
a location's name (it can describe the treatment)."""
from __future__ import annotations

from datetime import date, datetime, timezone
from zoneinfo import ZoneInfo

from servicekit.money import format_money

from notifications.domain import sender_name

PORTAL_LOGIN_PATH = "/portal/login"
PORTAL_BILLING_PATH = "/portal/billing"   # signs in first, then lands on billing

_CARD_BRANDS = {"visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
                "discover": "Discover", "diners": "Diners Club", "jcb": "JCB",
                "unionpay": "UnionPay"}


# ---- formatting ----------------------------------------------------------

def join_url(base: str, path: str) -> str:
    return base.rstrip("/") + "/" + path.lstrip("/")


def long_date(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def due_date(iso_day: str | None) -> str | None:
    return long_date(date.fromisoformat(iso_day)) if iso_day else None


def _moment(timestamp: str) -> datetime:
    """An envelope timestamp (`…Z` or with an offset) as an aware datetime."""
    moment = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def local_date(timestamp: str, tz_name: str) -> str:
    """A UTC timestamp as a date in the clinic's zone."""
    return long_date(_moment(timestamp).astimezone(ZoneInfo(tz_name)).date())


def local_time(timestamp: str, tz_name: str) -> str:
    """`November 28, 2026 at 4:00 AM CST`, in the clinic's zone."""
    moment = _moment(timestamp).astimezone(ZoneInfo(tz_name))
    clock = f"{moment:%I:%M %p}".lstrip("0")
    return f"{long_date(moment.date())} at {clock} {moment:%Z}"


def duration(since: str, until: str) -> str:
    """How long a link lasts, rounded: `72 hours`, `1 hour`, `30 minutes`."""
    minutes = round((_moment(until) - _moment(since)).total_seconds() / 60)
    if minutes >= 90:
        hours = round(minutes / 60)
        return f"{hours} hours"
    if minutes >= 45:
        return "1 hour"
    minutes = max(minutes, 1)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"


def amount(money: dict) -> str:
    return format_money(money["amount"], money["currency"])


def payment_method(data: dict) -> str:
    method = data["method"]
    last4 = data.get("card_last4") if method == "card" else data.get("bank_last4")
    if method == "card":
        brand = data.get("card_brand")
        label = _CARD_BRANDS.get(brand, brand.title()) if brand else "Card"
    elif method == "check" and data.get("check_number"):
        return f"Check #{data['check_number']}"
    else:
        label = {"us_bank_account": "Bank account", "check": "Check", "cash": "Cash",
                 "terminal": "Card"}[method]
    return f"{label} ending in {last4}" if last4 else label


# ---- what every message has ----------------------------------------------

def clinic(org: dict) -> dict:
    """What the templates show about the clinic (body only, never subjects)."""
    return {"name": org.get("name") or sender_name(org), "logo_url": org.get("logo_url") or "",
            "phone": org.get("phone") or "", "email": org.get("email") or "",
            "address_lines": [line.strip() for line in (org.get("address") or "").splitlines()
                              if line.strip()]}


def common(person: dict, org: dict, public_url: str) -> dict:
    return {"first_name": person.get("first_name") or "there", "clinic": clinic(org),
            "sender_name": sender_name(org),
            "portal_url": join_url(public_url, PORTAL_LOGIN_PATH)}


# ---- transactional -------------------------------------------------------

def invoice_email_context(contact: dict, org: dict, invoice: dict, link: dict,
                          public_url: str) -> dict:
    return {**common(contact, org, public_url),
            "invoice_number": invoice["number"],
            "amount_due": format_money(invoice["balance"], invoice["currency"]),
            "due_on": due_date(invoice.get("due_on")),
            "pay_url": join_url(public_url, link["path"])}


def portal_notice_context(contact: dict, org: dict, public_url: str) -> dict:
    return common(contact, org, public_url)


def receipt_context(contact: dict, org: dict, invoices: list[dict], payment: dict,
                    public_url: str, tz_name: str) -> dict:
    """Only what the payment itself says: the invoices' balances may not yet
    reflect this payment, so no balance is shown."""
    unapplied = payment.get("unapplied") or {"amount": 0, "currency": "usd"}
    return {**common(contact, org, public_url),
            "invoice_numbers": [invoice["number"] for invoice in invoices],
            "amount_paid": amount(payment["amount"]),
            "credit": amount(unapplied) if unapplied["amount"] else None,
            "method": payment_method(payment),
            "paid_on": local_date(payment["captured_at"], tz_name)}


def payment_pending_context(contact: dict, org: dict, invoices: list[dict], payment: dict,
                            public_url: str, tz_name: str) -> dict:
    """A bank payment accepted but not cleared: no receipt yet, and a plea
    not to pay twice."""
    return {**common(contact, org, public_url),
            "invoice_numbers": [invoice["number"] for invoice in invoices],
            "amount": amount(payment["amount"]), "method": payment_method(payment),
            "clears_by": local_date(payment["expected_by"], tz_name)}


def payment_returned_context(contact: dict, org: dict, invoices: list[dict], payment: dict,
                             public_url: str) -> dict:
    return {**common(contact, org, public_url),
            "invoice_numbers": [invoice["number"] for invoice in invoices],
            "amount": amount(payment["amount"]),
            "reason": (payment.get("failure_message") or "").strip()}


def refund_context(contact: dict, org: dict, refund: dict, public_url: str) -> dict:
    return {**common(contact, org, public_url), "amount": amount(refund["amount"]),
            "to_card": refund["method"] in ("card", "terminal"),
            "to_bank": refund["method"] == "us_bank_account"}


def _link(link: dict, issued_at: str, public_url: str, tz_name: str) -> dict:
    return {"link_url": join_url(public_url, link["path"]),
            "expires_in": duration(issued_at, link["expires_at"]),
            "expires_at": local_time(link["expires_at"], tz_name)}


def welcome_context(account: dict, org: dict, invited_by_name: str, link: dict,
                    issued_at: str, public_url: str, tz_name: str) -> dict:
    """The portal invitation: who invited them, their username and a
    single-use set-password link. Never a password."""
    return {**common(account, org, public_url), **_link(link, issued_at, public_url, tz_name),
            "invited_by_name": invited_by_name,
            "username": account.get("username") or account["email"],
            "welcome_lines": [line.strip() for line in
                              (org.get("welcome_message") or "").splitlines() if line.strip()],
            "has_handbook": bool(org.get("has_handbook"))}


def password_reset_context(person: dict, org: dict, link: dict, issued_at: str,
                           public_url: str, tz_name: str, staff: bool = False,
                           welcome: bool = False) -> dict:
    return {**common(person, org, public_url), **_link(link, issued_at, public_url, tz_name),
            "staff": staff, "welcome": welcome,
            "username": "" if staff else person.get("username") or ""}


def payment_failed_context(contact: dict, org: dict, invoices: list[dict], payment: dict,
                           public_url: str) -> dict:
    """An automatic payment that did not go through: what, for which invoices,
    why (the processor's short reason) and where to pay instead."""
    return {**common(contact, org, public_url),
            "invoice_numbers": [invoice["number"] for invoice in invoices],
            "amount": amount(payment["amount"]),
            "reason": (payment.get("failure_message") or "").strip()}


def installment_failed_context(contact: dict, org: dict, data: dict, public_url: str) -> dict:
    """Payment plans: an installment's autopay failed; when it is tried
    again (none: the clinic will be in touch) and where to pay now."""
    return {**common(contact, org, public_url), "amount": amount(data["amount"]),
            "installment_number": data["installment_number"],
            "next_attempt_on": due_date(data.get("next_attempt_on")),
            "pay_url": join_url(public_url, PORTAL_BILLING_PATH)}
def estimate_issued_context(contact: dict, org: dict, public_url: str, *, estimate: dict) -> dict:
    """A new estimate: its number and total, a link to it in the portal (the
    sign-in page first); no services, diagnoses or provider."""
    return {**common(contact, org, public_url), "estimate_number": estimate["estimate_number"],
            "total": amount(estimate["total"]), "good_faith": estimate["kind"] == "gfe",
            "estimate_url": join_url(public_url, f"/portal/estimates/{estimate['estimate_id']}")}


def form_assigned_context(contact: dict, org: dict, public_url: str) -> dict:
    """Only that a form waits: its name (a screening, an intake) stays in the portal."""
    return common(contact, org, public_url)


def location_address(org: dict, location_id: str | None) -> str:
    """One line: the location's address, else the clinic's."""
    found = next((loc for loc in org.get("locations") or [] if loc.get("id") == location_id), {})
    text = (found.get("address") or "").strip() or (org.get("address") or "").strip()
    return ", ".join(line.strip() for line in text.splitlines() if line.strip())


def consent_requested_context(contact: dict, org: dict, public_url: str) -> dict:
    """Only that something waits to be signed: a document's title can name
    the treatment, so it stays in the portal."""
    return common(contact, org, public_url)


# ---- reminders (a person may turn these off) ------------------------------

def payment_plan_reminder_context(contact: dict, org: dict, public_url: str, *,
                                  installment: dict, due_on: str, autopay: bool) -> dict:
    return {**common(contact, org, public_url), "amount": amount(installment),
            "due_on": due_date(due_on), "autopay": autopay}


def statement_ready_context(contact: dict, org: dict, public_url: str, *,
                            amount_due: dict, statement_date: str) -> dict:
    return {**common(contact, org, public_url), "amount_due": amount(amount_due),
            "statement_date": due_date(statement_date)}


def estimate_ready_context(contact: dict, org: dict, public_url: str, *,
                           estimate_number: str, total: dict, good_faith: bool = False) -> dict:
    return {**common(contact, org, public_url), "estimate_number": estimate_number,
            "total": amount(total), "good_faith": good_faith}


def appointment_reminder_context(contact: dict, org: dict, public_url: str, tz_name: str, *,
                                 starts_at: str, telehealth: bool, address: str = "") -> dict:
    """When, and where (an address, or telehealth); no provider, service or
    location name."""
    return {**common(contact, org, public_url), "starts_at": local_time(starts_at, tz_name),
            "telehealth": telehealth, "address": address if not telehealth else ""}
