"""Turning submitted HTML forms into RPC payloads. Numbers typed by people
(dollars, percents) become integer cents and basis points here, exactly,
without floats; anything that is not a number is refused with a message."""
from __future__ import annotations

import re

from servicekit.errors import InvalidInput

MONEY = re.compile(r"^\s*\$?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$")
PERCENT = re.compile(r"^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%?\s*$")
LINE_ROWS = 6


def cents(text: str, field: str) -> int:
    match = MONEY.match(text or "")
    if not match:
        raise InvalidInput(f"{field} must be an amount like 12.50")
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def optional_cents_field(text: str | None) -> int | None:
    """A hidden amount in cents the page itself filled in."""
    text = (text or "").strip()
    if not text:
        return None
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        raise InvalidInput("The amount on this page is not valid. Reload it and try again.")
    return int(text)


def basis_points(text: str, field: str) -> int:
    match = PERCENT.match(text or "")
    if not match:
        raise InvalidInput(f"{field} must be a percentage like 10 or 12.5")
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def units(text: str, row: int) -> int:
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()):
        raise InvalidInput(f"units on line {row} must be a whole number")
    return int(text)


def invoice_payload(form, client_id: str) -> dict:
    kind = form.get("discount_kind", "none")
    raw_value = form.get("discount_value", "").strip()
    discount = {"kind": kind}
    if kind == "percent":
        discount["value"] = basis_points(raw_value, "the discount")
    elif kind == "fixed":
        discount["value"] = cents(raw_value, "the discount")
    lines = []
    for row in range(1, LINE_ROWS + 1):
        code = form.get(f"line{row}_service", "").strip()
        if not code:
            continue
        line = {"service_code": code, "units": units(form.get(f"line{row}_units", "1"), row)}
        price = form.get(f"line{row}_price", "").strip()
        if price:
            line["unit_price"] = cents(price, f"the price on line {row}")
        lines.append(line)
    return {"client_id": client_id, "location_id": form.get("location_id", ""),
            "payment_type": form.get("payment_type", ""), "discount": discount,
            "lines": lines, "memo": form.get("memo", ""), "due_on": form.get("due_on", "")}


def form_from_invoice(invoice: dict) -> dict:
    """The edit form pre-filled from a saved invoice."""
    discount = invoice["discount"]
    value = ""
    if discount["kind"] == "percent":
        whole, fraction = divmod(discount["value"], 100)
        value = f"{whole}.{fraction:02d}".rstrip("0").rstrip(".")
    elif discount["kind"] == "fixed":
        value = f"{discount['value'] // 100}.{discount['value'] % 100:02d}"
    form = {"location_id": invoice["location_id"], "payment_type": invoice["payment_type"],
            "discount_kind": discount["kind"], "discount_value": value,
            "memo": invoice["memo"], "due_on": invoice["due_on"] or ""}
    for row, line in enumerate(invoice["lines"], start=1):
        form[f"line{row}_service"] = line["service_code"]
        form[f"line{row}_units"] = str(line["units"])
        form[f"line{row}_price"] = f"{line['unit_price'] // 100}.{line['unit_price'] % 100:02d}"
    return form


# ---- payments ------------------------------------------------------------------

class FormErrors(Exception):
    """Everything wrong with a submitted form at once: field name → words."""

    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(errors.values()))
        self.errors = errors


def payment_form(form) -> dict:
    """What a payment form submitted, kept to show it again on an error."""
    kept = {key: value.strip() for key, value in form.items()
            if key not in ("csrf", "invoice", "payment_method")}
    kept["invoices"] = form.getlist("invoice")
    kept["payment_method"] = form.get("payment_method", "").strip()
    return kept


def _shares(form: dict, errors: dict) -> list[dict]:
    chosen = form.get("invoices") or []
    if not chosen:
        errors["invoices"] = "Choose at least one invoice to pay."
    shares = []
    for invoice_id in chosen:
        field = f"amount_{invoice_id}"
        text = form.get(field, "")
        try:
            amount = cents(text, "The amount")
        except InvalidInput:
            errors[field] = "Enter an amount like 45.00."
            continue
        if amount <= 0:
            errors[field] = "Enter more than $0.00."
            continue
        shares.append({"invoice_id": invoice_id, "amount": amount})
    return shares


def _method(form: dict, errors: dict, manual=()) -> dict:
    chosen = form.get("method") or "new"
    if chosen.startswith("saved:") and len(chosen) > 6:
        return {"saved_method_id": chosen[6:]}
    if chosen in manual:
        return {"method": chosen}
    if chosen != "new":
        errors["method"] = "Choose how to pay."
        return {}
    if not form.get("payment_method"):
        errors["method"] = "Enter the card or bank account details in the secure form."
    return {"payment_method": form.get("payment_method"), "save": bool(form.get("save")),
            "make_default": bool(form.get("make_default"))}


def _request_key(form: dict, errors: dict) -> str:
    key = form.get("request_key", "")
    if not 8 <= len(key) <= 80:
        errors["form"] = "This form has expired. Reload the page and try again."
    return key


def portal_payment_payload(form: dict) -> dict:
    errors: dict[str, str] = {}
    payload = {"allocations": _shares(form, errors), **_method(form, errors),
               "request_key": _request_key(form, errors)}
    if errors:
        raise FormErrors(errors)
    return payload


def staff_payment_payload(form: dict) -> dict:
    """Staff Collect Payment: as the portal's, plus credit, payer's name and
    the manual methods (check with its number, cash, outside terminal)."""
    errors: dict[str, str] = {}
    shares = _shares(form, errors)
    choice = _method(form, errors, manual=("check", "cash", "terminal"))
    payload = {"allocations": shares, "request_key": _request_key(form, errors),
               "payer_name": form.get("payer_name", "")[:120]}
    if "saved_method_id" in choice:
        payload.update(method="saved", saved_method_id=choice["saved_method_id"])
    elif "method" in choice:
        payload.update(method=choice["method"], check_number=form.get("check_number", ""),
                       reference=form.get("reference", ""))
        if choice["method"] == "check" and not form.get("check_number"):
            errors["check_number"] = "Enter the check number."
    elif choice:
        payload.update(method="new", **choice)
    credit_text = form.get("credit", "")
    if credit_text:
        try:
            payload["credit"] = cents(credit_text, "The credit")
        except InvalidInput:
            errors["credit"] = "Enter an amount like 10.00, or leave it empty."
    if errors:
        raise FormErrors(errors)
    return payload


def new_method_payload(form) -> dict:
    errors: dict[str, str] = {}
    method = form.get("payment_method", "").strip()
    if not method:
        errors["method"] = "Enter the card or bank account details in the secure form."
    key = _request_key({"request_key": form.get("request_key", "")}, errors)
    if errors:
        raise FormErrors(errors)
    return {"payment_method": method, "make_default": bool(form.get("make_default")),
            "request_key": key}


REFUND_REASONS = {"requested_by_customer": "The payer asked for it",
                  "duplicate": "Paid twice", "fraudulent": "Not authorized by the card holder"}


def refund_payload(form) -> dict:
    errors: dict[str, str] = {}
    try:
        amount = cents(form.get("amount", ""), "The amount")
        if amount <= 0:
            errors["amount"] = "Enter more than $0.00."
    except InvalidInput:
        errors["amount"] = "Enter an amount like 45.00."
        amount = 0
    reason = form.get("reason", "")
    if reason not in REFUND_REASONS:
        errors["reason"] = "Choose why the money is going back."
    source = form.get("source", "")
    key = _request_key({"request_key": form.get("request_key", "")}, errors)
    if errors:
        raise FormErrors(errors)
    return {"amount": amount, "reason": reason, "invoice_id": None if source == "credit" else source,
            "note": form.get("note", "")[:300], "request_key": key}
