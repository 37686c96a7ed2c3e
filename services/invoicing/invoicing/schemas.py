"""Input checks and output shapes for invoicing. Every field is checked and
every problem collected (servicekit.text.FieldChecks), so a form shows them
all at once, next to the field the invoice form names:

    location_id, payment_type, provider_id, diagnosis_codes, due_on, memo,
    no_charge, discount_kind, discount_value, lines, and per line (N is the
    form's line number, `row` in the payload) line<N>_service, line<N>_units,
    line<N>_price, line<N>_discount, line<N>_date, line<N>_modifiers,
    line<N>_pos.

Nothing is written before these checks pass."""
from __future__ import annotations

import re
from datetime import date

from servicekit.errors import InvalidInput
from servicekit.text import FieldChecks, clean

from invoicing.domain import (DISCOUNT_KINDS, FULL_PERCENT_BP, MAX_AMOUNT, MAX_LINES, MAX_UNITS,
                              PAYMENT_TYPE_LABELS, PAYMENT_TYPES, Discount)
from invoicing.models import BillingProvider, Invoice, ServiceItem

ICD10 = re.compile(r"^[A-Z][0-9][A-Z0-9](\.[A-Z0-9]{1,4})?$")
MAX_DIAGNOSES = 12
MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
MAX_MODIFIERS = 4
PLACE_OF_SERVICE = re.compile(r"^[0-9]{2}$")
SERVICE_CODE = re.compile(r"^[A-Z0-9]{4,7}$")


def _whole(value, message: str, minimum: int = 0, maximum: int = MAX_AMOUNT) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise InvalidInput(message)
    return value


def _flag(value) -> bool:
    return value is True or value in ("1", "on", "true", "yes")


def invoice_input(payload) -> tuple[dict, FieldChecks]:
    """The invoice as the use case takes it, and the problems found so far
    (a field at fault is None in the result)."""
    checks = FieldChecks()
    if not isinstance(payload, dict):
        checks.add("form", "The invoice details are missing.")
        return {}, checks
    data = {
        "client_id": checks.run("client_id", clean, payload.get("client_id"), "the client", 40,
                                required=True),
        "location_id": checks.run("location_id", _required, payload.get("location_id"),
                                  "Pick a location."),
        "payment_type": checks.run("payment_type", _choice, payload.get("payment_type"),
                                   PAYMENT_TYPES, "Choose a payment type."),
        "provider_id": checks.run("provider_id", clean, payload.get("provider_id"),
                                  "the provider", 40) or "",
        "diagnosis_codes": checks.run("diagnosis_codes", diagnosis_codes,
                                      payload.get("diagnosis_codes")) or [],
        "due_on": checks.run("due_on", date_input, payload.get("due_on"),
                             "Enter the due date as a date, like 2026-12-31."),
        "memo": checks.run("memo", clean, payload.get("memo"), "the note", 2000,
                           multiline=True) or "",
        "no_charge": _flag(payload.get("no_charge")),
        "finalize": _flag(payload.get("finalize")),
        "discount": _invoice_discount(payload.get("discount"), checks),
        "lines": _lines(payload.get("lines"), checks),
    }
    return data, checks


def _required(value, message: str) -> str:
    """A choice from a list (a location, a service): anything else, pasted
    control characters included, is "choose one"."""
    try:
        chosen = clean(value, "this", 40, required=True)
    except InvalidInput:
        raise InvalidInput(message) from None
    return chosen


def _choice(value, choices, message: str) -> str:
    if value not in choices:
        raise InvalidInput(message)
    return value


def diagnosis_codes(raw) -> list[str]:
    """ICD-10-CM codes ("F32.1"), from a list or text separated by commas or spaces."""
    if raw in (None, ""):
        return []
    if isinstance(raw, str):
        raw = re.split(r"[\s,;]+", clean(raw, "the diagnosis codes", 200))
    if not isinstance(raw, list) or not all(isinstance(code, str) for code in raw):
        raise InvalidInput("Enter diagnosis codes like F32.1, separated by commas.")
    codes = []
    for code in (c.strip().upper() for c in raw):
        if not code:
            continue
        if not ICD10.match(code):
            raise InvalidInput(f"“{code[:12]}” is not an ICD-10 code. Enter codes like F32.1 "
                               "or F41.1, separated by commas.")
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_DIAGNOSES:
        raise InvalidInput(f"Enter at most {MAX_DIAGNOSES} diagnosis codes.")
    return codes


def modifiers(raw, row: int) -> list[str] | None:
    """Up to four two-character CPT/HCPCS modifiers; None when not given (the
    catalog's apply)."""
    if raw is None:
        return None
    if isinstance(raw, str):
        raw = [m for m in re.split(r"[\s,;]+", clean(raw, f"the modifiers on line {row}", 40)) if m]
    if not isinstance(raw, list) or not all(isinstance(m, str) for m in raw):
        raise InvalidInput(f"Enter the modifiers on line {row} like HJ, 95.")
    found = [m.strip().upper() for m in raw if m.strip()]
    if len(found) > MAX_MODIFIERS or not all(MODIFIER.match(m) for m in found):
        raise InvalidInput(f"Enter up to {MAX_MODIFIERS} two-character modifiers on line {row}, "
                           "like HJ, 95.")
    return found


def place_of_service(raw, message: str) -> str | None:
    """Two digits (CMS place-of-service code: 11 office, 02 telehealth…)."""
    if raw is None:
        return None
    value = raw.strip() if isinstance(raw, str) else raw
    if value and (not isinstance(value, str) or not PLACE_OF_SERVICE.match(value)):
        raise InvalidInput(message)
    return value


def date_input(raw, message: str) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw).strip())
    except ValueError:
        raise InvalidInput(message) from None


def discount_input(raw, message: str) -> Discount:
    if raw in (None, {}):
        return Discount()
    if not isinstance(raw, dict) or raw.get("kind", "none") not in DISCOUNT_KINDS:
        raise InvalidInput(message)
    kind = raw.get("kind", "none")
    if kind == "none":
        return Discount()
    value = _whole(raw.get("value"), message)
    if kind == "percent" and value > FULL_PERCENT_BP:
        raise InvalidInput("A percentage discount cannot be over 100 %.")
    return Discount(kind, value)


def _invoice_discount(raw, checks: FieldChecks) -> Discount | None:
    return checks.run("discount_value", discount_input, raw,
                      "Enter the discount as a percentage like 10, or an amount like 25.00.")


def _lines(raw, checks: FieldChecks) -> list[dict] | None:
    if not isinstance(raw, list) or not raw:
        checks.add("lines", "Add at least one service.")
        return None
    if len(raw) > MAX_LINES:
        checks.add("lines", f"An invoice can have at most {MAX_LINES} lines. Split it into two "
                            "invoices.")
        return None
    return [_line(line, position, checks) for position, line in enumerate(raw, start=1)]


def _line(raw, position: int, checks: FieldChecks) -> dict:
    if not isinstance(raw, dict):
        checks.add(f"line{position}_service", f"Choose a service on line {position}.")
        return {"row": position}
    row = raw.get("row") if isinstance(raw.get("row"), int) and 0 < raw["row"] <= 10_000 \
        else position
    name = f"line{row}_"
    line = {"row": row,
            "service_code": checks.run(name + "service", _required, raw.get("service_code"),
                                       f"Choose a service on line {row}."),
            "units": checks.run(name + "units", _whole, raw.get("units", 1),
                                f"Enter units from 1 to {MAX_UNITS} on line {row}.", 1, MAX_UNITS),
            "discount": checks.run(name + "discount", discount_input, raw.get("discount"),
                                   f"Enter the discount on line {row} as a percentage like 10, "
                                   "or an amount like 5.00."),
            "service_date": checks.run(name + "date", date_input, raw.get("service_date"),
                                       f"Enter the date of service on line {row} as a date."),
            "modifiers": checks.run(name + "modifiers", modifiers, raw.get("modifiers"), row),
            "place_of_service": checks.run(
                name + "pos", place_of_service, raw.get("place_of_service"),
                f"Enter the place of service on line {row} as two digits, like 11 or 02.")}
    if raw.get("unit_price") is not None:
        price = raw["unit_price"]
        too_big = isinstance(price, int) and not isinstance(price, bool) and price > MAX_AMOUNT
        line["unit_price"] = checks.run(
            name + "price", _whole, price,
            f"The price on line {row} can be at most $999,999.99." if too_big else
            f"Enter the price on line {row} as an amount like 150.00.")
    return line


# ---- catalog and providers --------------------------------------------------------

def service_input(payload) -> dict:
    checks = FieldChecks()
    if not isinstance(payload, dict):
        payload = {}
    code = checks.run("code", clean, payload.get("code"), "the code", 7, required=True)
    if code is not None and not SERVICE_CODE.match(code.upper()):
        checks.add("code", "Enter a CPT or HCPCS code of 4 to 7 letters and digits, like 90834.")
    data = {"code": (code or "").upper(),
            "description": checks.run("description", clean, payload.get("description"),
                                      "the description", 200, required=True),
            "fee": checks.run("fee", _whole, payload.get("fee"),
                              "Enter the fee as an amount like 150.00."),
            "modifiers": checks.run("modifiers", modifiers, payload.get("modifiers") or "", 0),
            "place_of_service": checks.run("place_of_service", place_of_service,
                                           payload.get("place_of_service") or "",
                                           "Enter the place of service as two digits, like 11 or 02.")}
    if "modifiers" in checks.errors:
        checks.errors["modifiers"] = "Enter up to 4 two-character modifiers, like HJ, 95."
    checks.raise_if_any()
    return data


NPI = re.compile(r"^[0-9]{10}$")
TAX_ID = re.compile(r"^[0-9]{2}-?[0-9]{7}$")


def provider_input(payload) -> dict:
    checks = FieldChecks()
    if not isinstance(payload, dict):
        payload = {}
    data = {"id": checks.run("id", clean, payload.get("id"), "the provider", 40) or "",
            "name": checks.run("name", clean, payload.get("name"), "the provider's name", 200,
                               required=True),
            "credentials": checks.run("credentials", clean, payload.get("credentials"),
                                      "the credentials", 40) or "",
            "npi": checks.run("npi", clean, payload.get("npi"), "the NPI", 10) or "",
            "tax_id": checks.run("tax_id", clean, payload.get("tax_id"), "the tax id", 20) or "",
            "license": checks.run("license", clean, payload.get("license"), "the license", 60) or "",
            "staff_id": checks.run("staff_id", clean, payload.get("staff_id"), "the staff user",
                                   40) or ""}
    if data["npi"] and not NPI.match(data["npi"]):
        checks.add("npi", "An NPI is 10 digits.")
    if data["tax_id"] and not TAX_ID.match(data["tax_id"]):
        checks.add("tax_id", "Enter the tax id (EIN) as 9 digits, like 12-3456789.")
    checks.raise_if_any()
    return data


# ---- output ------------------------------------------------------------------------

def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def _codes(text: str) -> list[str]:
    return [code for code in (text or "").split(",") if code]


def service_out(item: ServiceItem, location_fees: dict | None = None) -> dict:
    return {"code": item.code, "description": item.description, "fee": item.fee,
            "active": item.active, "modifiers": _codes(item.modifiers),
            "place_of_service": item.place_of_service or "",
            "location_fees": dict(location_fees or {})}


def provider_out(provider: BillingProvider | None) -> dict | None:
    if provider is None:
        return None
    return {"id": provider.id, "name": provider.name, "credentials": provider.credentials,
            "npi": provider.npi, "tax_id": provider.tax_id, "license": provider.license,
            "staff_id": provider.staff_id, "active": provider.active}


def invoice_out(invoice: Invoice, activity=(), held: dict | None = None,
                provider: BillingProvider | None = None) -> dict:
    """`held`: what payments in flight hold of it ({"held": n, "pending": n});
    `available` is what may be paid now. subtotal − discount_amount = total,
    where discount_amount = line_discounts + invoice_discount."""
    held = held or {"held": 0, "pending": 0}
    invoice_discount = sum(line.discount_share for line in invoice.lines)
    return {
        "id": invoice.id, "number": invoice.number, "client_id": invoice.client_id,
        "location_id": invoice.location_id, "payment_type": invoice.payment_type,
        "payment_type_label": PAYMENT_TYPE_LABELS.get(invoice.payment_type, invoice.payment_type),
        "discount": {"kind": invoice.discount_kind, "value": invoice.discount_value},
        "status": invoice.status, "currency": invoice.currency,
        "subtotal": invoice.subtotal, "discount_amount": invoice.discount_amount,
        "line_discounts": invoice.discount_amount - invoice_discount,
        "invoice_discount": invoice_discount,
        "total": invoice.total, "amount_paid": invoice.amount_paid, "balance": invoice.balance,
        # ledger: what adjustments, write-offs and credit notes changed, and what is owed now
        "adjustments": invoice.adjustments_total or 0, "owed": invoice.owed,
        "held": held["held"], "pending": held["pending"],
        "available": 0 if held["held"] or invoice.no_charge else invoice.balance,
        "memo": invoice.memo, "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        "provider_id": invoice.provider_id or None, "provider": provider_out(provider),
        "diagnosis_codes": _codes(invoice.diagnosis_codes), "no_charge": invoice.no_charge,
        "void_reason": invoice.void_reason or "",
        "created_at": invoice.created_at.isoformat(), "updated_at": invoice.updated_at.isoformat(),
        "lines": [{"service_code": line.service_code, "description": line.description,
                   "units": line.units, "unit_price": line.unit_price, "amount": line.amount,
                   "discount": {"kind": line.discount_kind, "value": line.discount_value},
                   "line_discount": line.line_discount, "discount_share": line.discount_share,
                   "net": line.amount - line.line_discount - line.discount_share,
                   "service_date": line.service_date.isoformat() if line.service_date else None,
                   "modifiers": _codes(line.modifiers),
                   "place_of_service": line.place_of_service or ""}
                  for line in invoice.lines],
        "activity": [{"at": item.at.isoformat(), "what": item.what} for item in activity],
    }


def summary_out(invoice: Invoice) -> dict:
    """The invoice as an event payload needs it: ids and money, no PHI."""
    return {"invoice_id": invoice.id, "invoice_number": invoice.number,
            "client_id": invoice.client_id}
