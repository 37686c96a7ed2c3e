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
