"""Input checks and output shapes for invoicing. A bad field raises
InvalidInput naming it; nothing is written before these checks pass."""
from __future__ import annotations

from datetime import date

from servicekit.errors import InvalidInput

from invoicing.domain import DISCOUNT_KINDS, PAYMENT_TYPES, Discount
from invoicing.models import Invoice, ServiceItem


def _whole(value, field: str, minimum: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(f"{field} must be a whole number")
    if value < minimum:
        raise InvalidInput(f"{field} must be at least {minimum}")
    return value


def _text(payload: dict, field: str) -> str:
    value = payload.get(field)
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{field} is required")
    return value.strip()


def invoice_input(payload) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput("invoice details must be an object")
    payment_type = _text(payload, "payment_type")
    if payment_type not in PAYMENT_TYPES:
        raise InvalidInput(f"payment_type must be one of {', '.join(PAYMENT_TYPES)}")
    lines = payload.get("lines")
    if not isinstance(lines, list) or not lines:
        raise InvalidInput("an invoice needs at least one service line")
    return {
        "client_id": _text(payload, "client_id"),
        "location_id": _text(payload, "location_id"),
        "payment_type": payment_type,
        "discount": discount_input(payload.get("discount") or {"kind": "none"}),
        "lines": [line_input(line, n) for n, line in enumerate(lines, start=1)],
        "memo": str(payload.get("memo") or "")[:500],
        "due_on": due_on_input(payload.get("due_on")),
    }


def discount_input(raw) -> Discount:
    if not isinstance(raw, dict):
        raise InvalidInput("discount must be an object with kind and value")
    kind = raw.get("kind", "none")
    if kind not in DISCOUNT_KINDS:
        raise InvalidInput(f"discount kind must be one of {', '.join(DISCOUNT_KINDS)}")
    value = 0 if kind == "none" else _whole(raw.get("value"), "discount value")
    return Discount(kind, value)


def line_input(raw, position: int) -> dict:
    if not isinstance(raw, dict):
        raise InvalidInput(f"line {position} must be an object")
    line = {"service_code": _text(raw, "service_code"),
            "units": _whole(raw.get("units", 1), f"line {position} units", minimum=1)}
    if raw.get("unit_price") is not None:
        line["unit_price"] = _whole(raw["unit_price"], f"line {position} unit_price")
    return line


def due_on_input(raw) -> date | None:
    if raw in (None, ""):
        return None
    try:
        return date.fromisoformat(str(raw))
    except ValueError:
        raise InvalidInput("due_on must be a date like 2026-12-31") from None


def money(amount: int, currency: str) -> dict:
    return {"amount": amount, "currency": currency}


def service_out(item: ServiceItem) -> dict:
    return {"code": item.code, "description": item.description, "fee": item.fee}


def invoice_out(invoice: Invoice, activity=(), held: dict | None = None) -> dict:
    """`held`: what payments in flight hold of it ({"held": n, "pending": n});
    `available` is what may be paid now."""
    held = held or {"held": 0, "pending": 0}
    return {
        "id": invoice.id, "number": invoice.number, "client_id": invoice.client_id,
        "location_id": invoice.location_id, "payment_type": invoice.payment_type,
        "discount": {"kind": invoice.discount_kind, "value": invoice.discount_value},
        "status": invoice.status, "currency": invoice.currency,
        "subtotal": invoice.subtotal, "discount_amount": invoice.discount_amount,
        "total": invoice.total, "amount_paid": invoice.amount_paid, "balance": invoice.balance,
        # ledger: what adjustments, write-offs and credit notes changed, and what is owed now
        "adjustments": invoice.adjustments_total or 0, "owed": invoice.owed,
        "held": held["held"], "pending": held["pending"],
        "available": 0 if held["held"] else invoice.balance,
        "memo": invoice.memo, "due_on": invoice.due_on.isoformat() if invoice.due_on else None,
        "created_at": invoice.created_at.isoformat(), "updated_at": invoice.updated_at.isoformat(),
        "lines": [{"service_code": line.service_code, "description": line.description,
                   "units": line.units, "unit_price": line.unit_price, "amount": line.amount,
                   "discount_share": line.discount_share} for line in invoice.lines],
        "activity": [{"at": item.at.isoformat(), "what": item.what} for item in activity],
    }


def summary_out(invoice: Invoice) -> dict:
    """The invoice as an event payload needs it: ids and money, no PHI."""
    return {"invoice_id": invoice.id, "invoice_number": invoice.number,
            "client_id": invoice.client_id}
