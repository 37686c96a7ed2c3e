"""Turning submitted HTML forms into RPC payloads. Numbers typed by people
(dollars, percents) become integer cents and basis points here, exactly,
without floats; anything that is not a number is refused with a message."""
from __future__ import annotations

import re

from servicekit.errors import InvalidInput

MONEY = re.compile(r"^\s*\$?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$")
PERCENT = re.compile(r"^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%?\s*$")


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


# ---- invoices (core area) ----------------------------------------------------------
# The invoice form has any number of service lines, each field named
# line<N>_<part>; the page reads every N submitted (not 1..6), in order.
LINE_FIELD = re.compile(r"^line([1-9][0-9]{0,2})_(service|units|price|discount|date|modifiers|pos)$")
MAX_FORM_ROWS = 60   # more than the 50 an invoice may have, so "too many" is said, not dropped
LINE_PARTS = ("service", "units", "price", "discount", "date", "modifiers", "pos")


def line_rows(form) -> list[int]:
    """Every line number the form submitted, in order."""
    found = {int(m.group(1)) for m in (LINE_FIELD.match(key) for key in form.keys()) if m}
    return sorted(found)


def _blank_row(form, row: int) -> bool:
    return not any((form.get(f"line{row}_{part}") or "").strip()
                   for part in LINE_PARTS if part != "units")


def line_discount(text: str, row: int) -> dict | None:
    """"10%" is a percentage, "5.00" (or "$5") an amount; empty is none."""
    text = (text or "").strip()
    if not text:
        return None
    if text.endswith("%"):
        return {"kind": "percent", "value": basis_points(text, f"the discount on line {row}")}
    return {"kind": "fixed", "value": cents(text, f"the discount on line {row}")}


def invoice_payload(form, client_id: str) -> tuple[dict, dict]:
    """The invoice a submitted form describes, and what the page itself could
    not read (a price that is not an amount…): {field: words}. Empty lines
    are left out; every other line goes to invoicing, which names the rest."""
    errors: dict[str, str] = {}
    lines = []
    for row in line_rows(form)[:MAX_FORM_ROWS]:
        if _blank_row(form, row):
            continue
        lines.append(_line(form, row, errors))
    if len(line_rows(form)) > MAX_FORM_ROWS:
        errors["lines"] = "An invoice can have at most 50 lines. Split it into two invoices."
    payload = {"client_id": client_id, "location_id": form.get("location_id", ""),
               "payment_type": form.get("payment_type", ""),
               "provider_id": form.get("provider_id", ""),
               "diagnosis_codes": form.get("diagnosis_codes", ""),
               "discount": _invoice_discount(form, errors), "lines": lines,
               "memo": form.get("memo", ""), "due_on": form.get("due_on", ""),
               "no_charge": bool(form.get("no_charge")),
               "finalize": form.get("action") == "finalize"}
    return payload, errors


def _invoice_discount(form, errors: dict) -> dict | None:
    kind = form.get("discount_kind", "none") or "none"
    text = form.get("discount_value", "").strip()
    if kind == "none":
        return {"kind": "none"}
    if kind not in ("percent", "fixed"):
        errors["discount_kind"] = "Choose a kind of discount."
        return None
    if not text:
        errors["discount_value"] = "Enter the discount, or choose “No discount”."
        return None
    try:
        value = basis_points(text, "the discount") if kind == "percent" else cents(text, "the discount")
    except InvalidInput:
        errors["discount_value"] = ("Enter the discount as a percentage like 10 or 12.5."
                                    if kind == "percent" else
                                    "Enter the discount as an amount like 25.00.")
        return None
    return {"kind": kind, "value": value}


def _line(form, row: int, errors: dict) -> dict:
    get = lambda part: (form.get(f"line{row}_{part}") or "").strip()   # noqa: E731
    line = {"row": row, "service_code": get("service"), "service_date": get("date") or None,
            "modifiers": get("modifiers") or None, "place_of_service": get("pos") or None}
    try:
        line["units"] = units(get("units") or "1", row)
    except InvalidInput:
        errors[f"line{row}_units"] = f"Enter units from 1 to 999 on line {row}."
    if get("price"):
        try:
            line["unit_price"] = cents(get("price"), f"the price on line {row}")
        except InvalidInput:
            errors[f"line{row}_price"] = f"Enter the price on line {row} as an amount like 150.00."
    try:
        line["discount"] = line_discount(get("discount"), row)
    except InvalidInput:
        errors[f"line{row}_discount"] = (f"Enter the discount on line {row} as a percentage "
                                         "like 10% or an amount like 5.00.")
    return line


def _dollars(amount: int) -> str:
    return f"{amount // 100}.{amount % 100:02d}"


def _percent(basis: int) -> str:
    whole, fraction = divmod(basis, 100)
    return f"{whole}.{fraction:02d}".rstrip("0").rstrip(".")


def form_from_invoice(invoice: dict) -> dict:
    """The edit form pre-filled from a saved invoice."""
    discount = invoice["discount"]
    value = ""
    if discount["kind"] == "percent":
        value = _percent(discount["value"])
    elif discount["kind"] == "fixed":
        value = _dollars(discount["value"])
    form = {"location_id": invoice["location_id"], "payment_type": invoice["payment_type"],
            "provider_id": invoice.get("provider_id") or "",
            "diagnosis_codes": ", ".join(invoice.get("diagnosis_codes") or ()),
            "no_charge": "1" if invoice.get("no_charge") else "",
            "discount_kind": discount["kind"], "discount_value": value,
            "memo": invoice["memo"], "due_on": invoice["due_on"] or ""}
    for row, line in enumerate(invoice["lines"], start=1):
        own = line.get("discount") or {"kind": "none"}
        form[f"line{row}_service"] = line["service_code"]
        form[f"line{row}_units"] = str(line["units"])
        form[f"line{row}_price"] = _dollars(line["unit_price"])
        form[f"line{row}_discount"] = (_percent(own["value"]) + "%" if own["kind"] == "percent"
                                       else _dollars(own["value"]) if own["kind"] == "fixed"
                                       else "")
        form[f"line{row}_date"] = line.get("service_date") or ""
        form[f"line{row}_modifiers"] = ", ".join(line.get("modifiers") or ())
        form[f"line{row}_pos"] = line.get("place_of_service") or ""
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
    # "Make it the default" ticked alone still means keep it on file: a card
    # cannot be the default without being kept
    default = bool(form.get("make_default"))
    return {"payment_method": form.get("payment_method"),
            "save": bool(form.get("save")) or default, "make_default": default}


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
