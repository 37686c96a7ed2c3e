"""Superbills: what a client was billed for between two dates, as an insurer
needs it to reimburse them (provider with NPI, tax id and license; the
clinic and the service locations; ICD-10 codes; each service with its date,
CPT code, modifiers, place of service, units, fee and what was paid).

Rules:
- a service is in the range when its date of service (else its invoice's
  date) is between the two days, both included; drafts and void invoices
  are not billed, so not on a superbill;
- a line's fee is its net: amount − its own discount − its share of the
  invoice's discount;
- what was paid on an invoice (payments less refunds, at most its total) is
  allocated over its lines in proportion to their fees, largest remainder
  first (servicekit.money.allocate), so the lines' paid amounts add up to the
  invoice's to the cent.
No I/O but the session; the caller supplies the client and the organization."""
from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from servicekit.errors import InvalidFields
from servicekit.money import allocate

from invoicing import statements
from invoicing.models import BillingProvider, Invoice

PLACE_OF_SERVICE = {"02": "Telehealth (not in the patient's home)",
                    "10": "Telehealth in the patient's home", "11": "Office"}


def dates_input(start, end) -> tuple[date, date]:
    return statements.period_input(start, end, "start", "end", "the first day of service",
                                   "the last day of service")


def line_fee(line) -> int:
    return line.amount - (line.line_discount or 0) - (line.discount_share or 0)


def paid_by_line(invoice: Invoice) -> list[int]:
    fees = [max(line_fee(line), 0) for line in invoice.lines]
    paid = max(min(invoice.amount_paid, invoice.total, sum(fees)), 0)
    if not fees or sum(fees) == 0:
        return [0] * len(fees)
    return allocate(paid, fees)


def gather(session: Session, client_id: str, start: date, end: date) -> dict:
    """The services, providers and diagnoses of the range; InvalidFields when
    there are none (nothing is saved either way)."""
    invoices = session.scalars(select(Invoice).where(
        Invoice.client_id == str(client_id), Invoice.status.not_in(statements.NOT_BILLED))
        .options(selectinload(Invoice.lines)).order_by(Invoice.created_at)).all()
    lines, diagnoses, provider_ids, location_ids = [], [], [], []
    for invoice in invoices:
        for line, paid in zip(invoice.lines, paid_by_line(invoice)):
            served = line.service_date or invoice.created_at.date()
            if not start <= served <= end:
                continue
            lines.append({"date": served.isoformat(), "code": line.service_code,
                          "modifiers": line.modifiers or "", "description": line.description,
                          "place_of_service": line.place_of_service or "",
                          "units": line.units, "fee": line_fee(line), "paid": paid,
                          "invoice_number": invoice.number})
            for code in (invoice.diagnosis_codes or "").split(","):
                if code.strip() and code.strip() not in diagnoses:
                    diagnoses.append(code.strip())
            for found, into in ((invoice.provider_id, provider_ids),
                                (invoice.location_id, location_ids)):
                if found and found not in into:
                    into.append(found)
    if not lines:
        raise InvalidFields({"start": f"There are no services between {_words(start)} and "
                                      f"{_words(end)}. Choose other dates."})
    lines.sort(key=lambda line: (line["date"], line["invoice_number"]))
    providers = session.scalars(select(BillingProvider)
                                .where(BillingProvider.id.in_(provider_ids))).all()
    return {"lines": lines, "diagnosis_codes": diagnoses, "location_ids": location_ids,
            "providers": [{"id": p.id, "name": p.name, "credentials": p.credentials,
                           "npi": p.npi, "tax_id": p.tax_id, "license": p.license}
                          for p in providers],
            "total_fees": sum(line["fee"] for line in lines),
            "total_paid": sum(line["paid"] for line in lines)}


def _words(day: date) -> str:
    return f"{day:%B} {day.day}, {day.year}"


def shown(found: dict, client: dict, organization: dict, start: date, end: date,
          prepared_on: date) -> dict:
    """The superbill as the RPC returns it and the PDF shows it."""
    locations = [{"name": loc.get("name", ""), "address": loc.get("address", "")}
                 for loc in organization.get("locations") or ()
                 if loc.get("id") in found["location_ids"]]
    return {"start": start.isoformat(), "end": end.isoformat(),
            "prepared_on": prepared_on.isoformat(),
            "client": {"id": client.get("id", ""), "name": client.get("name", ""),
                       "date_of_birth": client.get("date_of_birth"),
                       "address": client.get("address", "")},
            "clinic": {"name": organization.get("name", ""),
                       "address": organization.get("address", ""),
                       "phone": organization.get("phone", "")},
            "locations": locations, "providers": found["providers"],
            "diagnosis_codes": found["diagnosis_codes"], "lines": found["lines"],
            "total_fees": found["total_fees"], "total_paid": found["total_paid"],
            "filename": f"superbill-{start.isoformat()}-to-{end.isoformat()}.pdf"}
