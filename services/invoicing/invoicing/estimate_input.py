"""What staff submit for a new estimate, checked all at once: every field's
problem is collected (FieldChecks) and raised together as InvalidFields, in
the words the front desk reads next to the field; nothing is written before
this passes. A line's field names follow the form (`line3_service`,
`line3_units`, `line3_date`; the row may be given as `row`)."""
from __future__ import annotations

import re
from datetime import date
from typing import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit import clock
from servicekit.errors import InvalidInput
from servicekit.text import FieldChecks, clean

from invoicing import estimate_rules as rules
from invoicing.models import BillingProvider, LocationFee, ServiceItem

ICD10 = re.compile(r"^[A-Z][0-9][0-9A-Z](\.[0-9A-Z]{1,4})?$")
MAX_DIAGNOSES = 12
MAX_LINES = 30


def parse(session: Session, payload, known_client: Callable[[str], bool],
          known_location: Callable[[str], bool]) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput("estimate details must be an object")
    checks = FieldChecks()
    kind = payload.get("kind")
    if kind not in rules.KINDS:
        checks.add("kind", "Choose Good Faith Estimate or estimate.")
    client_id = checks.run("client_id", clean, payload.get("client_id"), "the client", 40, True)
    if client_id and not known_client(client_id):
        checks.add("client_id", "This client was not found.")
    location_id = checks.run("location_id", clean, payload.get("location_id"), "the location",
                             40) or ""
    if not location_id:
        checks.add("location_id", "Choose the location where the services will be given.")
    elif not known_location(location_id):
        checks.add("location_id", "This location was not found. Choose another one.")
    provider = _provider(session, checks, payload.get("provider_id"), kind)
    diagnoses = checks.run("diagnosis_codes", diagnosis_codes, payload.get("diagnosis_codes"))
    scheduled_on = checks.run("scheduled_on", _date, payload.get("scheduled_on"),
                              "the date it was scheduled or asked for", True)
    memo = checks.run("memo", clean, payload.get("memo"), "the note", 500, multiline=True)
    lines = _lines(session, checks, payload.get("lines"), location_id, kind, scheduled_on)
    checks.raise_if_any()
    first = min((line["expected_on"] for line in lines if line["expected_on"]), default=None)
    return {"client_id": client_id, "kind": kind, "location_id": location_id,
            "provider_id": provider.id if provider else "", "diagnosis_codes": diagnoses or "",
            "requested_by_patient": payload.get("requested_by_patient") is True,
            "scheduled_on": scheduled_on, "first_service_on": first, "memo": memo or "",
            "lines": lines}


def diagnosis_codes(raw) -> str:
    """ICD-10-CM codes, comma separated ("F32.1,F41.1"); none is allowed."""
    items = raw if isinstance(raw, list) else str(raw or "").replace(";", ",").split(",")
    codes = []
    for item in items:
        code = clean(item, "a diagnosis code", 8).upper()
        if not code:
            continue
        if not ICD10.match(code):
            raise InvalidInput(f"“{code}” is not a diagnosis code. Enter codes like F32.1, "
                               "separated by commas.")
        if code not in codes:
            codes.append(code)
    if len(codes) > MAX_DIAGNOSES:
        raise InvalidInput(f"Enter at most {MAX_DIAGNOSES} diagnosis codes.")
    joined = ",".join(codes)
    if len(joined) > 80:
        raise InvalidInput("Too many diagnosis codes to fit; keep the main ones.")
    return joined


def _date(raw, label: str, required: bool = False) -> date | None:
    text = clean(raw, label, 10)
    if not text:
        if required:
            raise InvalidInput(f"Enter {label}.")
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(f"Enter {label} as a date like "
                           f"{clock.today().isoformat()}.") from None


def _provider(session: Session, checks: FieldChecks, raw, kind) -> BillingProvider | None:
    provider_id = str(raw or "").strip()[:40]
    if not provider_id:
        if kind == "gfe":
            checks.add("provider_id", "Choose the provider who will give the services.")
        return None
    provider = session.get(BillingProvider, provider_id)
    if provider is None or not provider.active:
        checks.add("provider_id", "This provider is not available. Choose another one.")
        return None
    return provider


def _lines(session: Session, checks: FieldChecks, raw_lines, location_id: str, kind,
           scheduled_on: date | None) -> list[dict]:
    if not isinstance(raw_lines, list) or not raw_lines:
        checks.add("lines", "Add at least one service.")
        return []
    if len(raw_lines) > MAX_LINES:
        checks.add("lines", f"An estimate can have at most {MAX_LINES} services.")
        return []
    raw_lines = [line if isinstance(line, dict) else {} for line in raw_lines]
    codes = {str(line.get("service_code") or "").strip().upper() for line in raw_lines}
    catalog = {item.code.upper(): item for item in session.scalars(
        select(ServiceItem).where(ServiceItem.code.in_(codes | {c.lower() for c in codes})))}
    fees = {row.code: row.fee for row in session.scalars(
        select(LocationFee).where(LocationFee.location_id == location_id,
                                  LocationFee.code.in_([i.code for i in catalog.values()])))}
    lines = []
    for n, raw in enumerate(raw_lines, start=1):
        row = raw.get("row") if isinstance(raw.get("row"), int) else n
        line = _line(checks, raw, row, catalog, fees, kind, scheduled_on)
        if line:
            lines.append(line)
    return lines


def _line(checks, raw, row, catalog, fees, kind, scheduled_on) -> dict | None:
    code = str(raw.get("service_code") or "").strip().upper()
    item = catalog.get(code)
    ok = True
    if not code:
        checks.add(f"line{row}_service", f"Choose a service on line {row}.")
        ok = False
    elif item is None:
        checks.add(f"line{row}_service", f"Service {code[:20]} on line {row} is not in the "
                                         "catalog. Choose one from the list.")
        ok = False
    elif not item.active:
        checks.add(f"line{row}_service", f"Service {item.code} on line {row} is no longer "
                                         "offered. Choose another one.")
        ok = False
    units = raw.get("units", 1)
    if isinstance(units, bool) or not isinstance(units, int) or not 1 <= units <= rules.MAX_UNITS:
        checks.add(f"line{row}_units", f"Units on line {row} must be a whole number from 1 to "
                                       f"{rules.MAX_UNITS}.")
        ok = False
    expected_on = checks.run(f"line{row}_date", _date, raw.get("expected_on"),
                             f"the expected date on line {row}", kind == "gfe")
    if expected_on and scheduled_on and expected_on < scheduled_on:
        checks.add(f"line{row}_date", f"The expected date on line {row} is before the date "
                                      "it was scheduled.")
        ok = False
    if not ok or f"line{row}_date" in checks.errors:
        return None
    price = rules.unit_price(item.fee, fees.get(item.code))
    return {"service_code": item.code, "description": item.description, "units": units,
            "unit_price": price, "expected_on": expected_on, "modifiers": item.modifiers or "",
            "place_of_service": item.place_of_service or ""}
