"""Invoicing use cases: each takes the session (and what it needs to know),
changes state, and records its event in the same transaction. The caller
commits."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from servicekit import clock
from servicekit.db import utcnow
from servicekit.errors import InvalidInput, NotFound
from servicekit.outbox import record_event
from servicekit.text import FieldChecks, clean

from invoicing import domain, holds, schemas
from invoicing.models import (BillingProvider, Counter, Invoice, InvoiceActivity,
                              InvoiceLine, InvoicePayment, InvoiceRefund,
                              LocationFee, ServiceItem)

SOURCE = "invoicing"
LINE_FIELD = re.compile(r"^line[0-9]+_")


def load_invoice(session: Session, invoice_id, lock: bool = False) -> Invoice:
    query = select(Invoice).where(Invoice.id == str(invoice_id))
    if lock:
        query = query.with_for_update()
    invoice = session.scalars(query).first()
    if invoice is None:
        raise NotFound(f"invoice {invoice_id} not found")
    return invoice


def activity(session: Session, invoice_id: str):
    return session.scalars(select(InvoiceActivity).where(InvoiceActivity.invoice_id == invoice_id)
                           .order_by(InvoiceActivity.id)).all()


def note(session: Session, invoice: Invoice, what: str, actor: str = "") -> None:
    session.add(InvoiceActivity(invoice_id=invoice.id, at=utcnow(), what=what, actor=actor))


def _next_number(session: Session) -> str:
    """The next invoice number; the row lock serializes concurrent saves.
    The counter row is created by the initial migration."""
    value = session.execute(update(Counter).where(Counter.name == "invoice")
                            .values(value=Counter.value + 1).returning(Counter.value)).scalar_one()
    return domain.invoice_number(value)


def _priced_lines(session: Session, data: dict, checks: FieldChecks,
                  keep: set[str]) -> tuple[list[domain.Line], list[dict], bool]:
    """The lines priced from the catalog (`keep`: codes this invoice already
    has, allowed even if deactivated since), what else each line records, and
    whether every line could be priced. A fee left empty is the catalog's fee
    at the invoice's location (LocationFee) or else its default fee; modifiers
    and place of service left out are the catalog's."""
    raw_lines = data["lines"] or []
    codes = {line["service_code"] for line in raw_lines if line.get("service_code")}
    catalog = {item.code: item for item in session.scalars(
        select(ServiceItem).where(ServiceItem.code.in_(codes)))} if codes else {}
    fees = {fee.code: fee.fee for fee in session.scalars(
        select(LocationFee).where(LocationFee.code.in_(codes),
                                  LocationFee.location_id == data["location_id"]))} \
        if codes and data["location_id"] else {}
    lines, extras = [], []
    for raw in raw_lines:
        row = raw["row"]
        if any(field.startswith(f"line{row}_") for field in checks.errors) or \
                not raw.get("service_code"):
            continue
        item = catalog.get(raw["service_code"])
        if item is None or (not item.active and item.code not in keep):
            checks.add(f"line{row}_service",
                       f"The service {raw['service_code'][:20]} on line {row} is "
                       f"{'no longer offered' if item else 'not in the catalog'}. Choose another.")
            continue
        price = raw.get("unit_price")
        lines.append(domain.Line(item.code, item.description, raw["units"],
                                 fees.get(item.code, item.fee) if price is None else price,
                                 raw["discount"], row))
        extras.append({"service_date": raw["service_date"],
                       "modifiers": (item.modifiers if raw["modifiers"] is None
                                     else ",".join(raw["modifiers"])),
                       "place_of_service": (item.place_of_service if raw["place_of_service"] is None
                                            else raw["place_of_service"])})
    return lines, extras, bool(raw_lines) and len(lines) == len(raw_lines)


def _check_provider(session: Session, provider_id: str, checks: FieldChecks) -> None:
    if provider_id:
        provider = session.get(BillingProvider, provider_id)
        if provider is None or not provider.active:
            checks.add("provider_id", "Choose a provider from the list.")


def _price(lines, complete: bool, data: dict, checks: FieldChecks):
    """domain.price over the lines that could be priced. With some lines
    missing, only each line's own problems are kept (the invoice's would be
    guesses)."""
    if not lines or data["discount"] is None:
        return None
    try:
        totals = domain.price(lines, data["discount"])
        if complete:
            domain.check_total(totals.total, data["no_charge"])
    except domain.RuleBroken as broken:
        for field, message in broken.errors.items():
            if complete or LINE_FIELD.match(field):
                checks.add(field, message)
        return None
    return totals if complete else None


def save_invoice(session: Session, data: dict, checks: FieldChecks, actor: str,
                 invoice_id: str | None = None, check_only: bool = False) -> Invoice | None:
    """Every problem with the invoice at once (InvalidFields), or the invoice
    saved: `finalize` moves a new or draft invoice to `open`. `check_only`:
    look for problems, write nothing (the page found some of its own)."""
    invoice = None
    if invoice_id is not None:
        invoice = load_invoice(session, invoice_id, lock=not check_only)
        _check_can_edit(session, invoice, data)
    keep = {line.service_code for line in invoice.lines} if invoice else set()
    lines, extras, complete = _priced_lines(session, data, checks, keep)
    _check_provider(session, data["provider_id"], checks)
    totals = _price(lines, complete, data, checks)
    if invoice is None or data["due_on"] != invoice.due_on:
        try:
            domain.check_due_on(data["due_on"], clock.today())
        except domain.RuleBroken as broken:
            checks.add("due_on", broken.errors["due_on"])
    checks.raise_if_any()
    if check_only or totals is None:
        return None
    invoice = invoice or _new_invoice(session, data)
    _write(session, invoice, data, lines, extras, totals, actor, created=invoice_id is None)
    return invoice


def _check_can_edit(session: Session, invoice: Invoice, data: dict) -> None:
    if data.get("client_id") and data["client_id"] != invoice.client_id:
        raise InvalidInput("An invoice cannot be moved to another client.")
    try:
        domain.check_not_held(holds.held_on(session, invoice.id), "edit")
        if invoice.adjustments_total or _adjusted(session, invoice.id):   # ledger keeps the history
            raise domain.RuleBroken("This invoice has adjustments: change it with another "
                                    "adjustment or a credit note.")
        domain.check_editable(invoice.status, 0, invoice.amount_paid)
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None


def _adjusted(session: Session, invoice_id: str) -> bool:
    from invoicing.adjustments import has_adjustments   # adjustments imports this module
    return has_adjustments(session, invoice_id)


def _new_invoice(session: Session, data: dict) -> Invoice:
    now = utcnow()
    invoice = Invoice(id=f"inv_{secrets.token_hex(8)}", number=_next_number(session),
                      client_id=data["client_id"], status="draft", amount_paid=0,
                      created_at=now, updated_at=now)
    session.add(invoice)
    return invoice


def _write(session, invoice, data, lines, extras, totals, actor, created: bool) -> None:
    invoice.location_id, invoice.payment_type = data["location_id"], data["payment_type"]
    invoice.discount_kind, invoice.discount_value = data["discount"].kind, data["discount"].value
    invoice.memo, invoice.due_on = data["memo"], data["due_on"]
    invoice.provider_id = data["provider_id"]
    invoice.diagnosis_codes = ",".join(data["diagnosis_codes"])
    invoice.no_charge = data["no_charge"]
    invoice.subtotal, invoice.discount_amount, invoice.total = (
        totals.subtotal, totals.discount_amount, totals.total)
    invoice.updated_at = utcnow()
    invoice.lines = [
        InvoiceLine(position=n, service_code=line.service_code, description=line.description,
                    units=line.units, unit_price=line.unit_price, amount=line.amount,
                    discount_kind=line.discount.kind, discount_value=line.discount.value,
                    line_discount=priced.line_discount, discount_share=priced.discount_share,
                    **extra)
        for n, (line, priced, extra) in enumerate(zip(lines, totals.lines, extras), start=1)]
    finalizing = data["finalize"] and invoice.status == "draft"
    if finalizing:
        invoice.status = "open"
    note(session, invoice, "Created" if created else "Saved", actor)
    if finalizing:
        note(session, invoice, "Finalized", actor)
    session.flush()
    record_event(session, SOURCE, "InvoiceSaved", {
        **schemas.summary_out(invoice), "location_id": invoice.location_id,
        "status": invoice.status, "total": schemas.money(invoice.total, invoice.currency),
        "balance": schemas.money(invoice.balance, invoice.currency),
        "line_count": len(invoice.lines)})


def finalize_invoice(session: Session, invoice_id: str, actor: str) -> Invoice:
    """Save and finalize a draft as it stands: it becomes `open`."""
    invoice = load_invoice(session, invoice_id, lock=True)
    if invoice.status != "draft":
        raise InvalidInput("Only a draft can be finalized.")
    if invoice.total == 0 and not invoice.no_charge:
        raise InvalidInput(domain.ZERO_TOTAL)
    invoice.status, invoice.updated_at = "open", utcnow()
    note(session, invoice, "Finalized", actor)
    return invoice


def send_invoice(session: Session, invoice_id: str, channel: str, actor: str) -> Invoice:
    if channel not in ("email", "portal"):
        raise InvalidInput("channel must be email or portal")
    invoice = load_invoice(session, invoice_id, lock=True)
    try:
        domain.check_sendable(invoice.status, invoice.balance, invoice.no_charge)
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    if invoice.status in ("draft", "open"):
        invoice.status = "sent"
    invoice.sent_at = invoice.updated_at = utcnow()
    note(session, invoice, "Sent by email" if channel == "email" else "Posted to the portal", actor)
    record_event(session, SOURCE, "InvoiceSent", {
        **schemas.summary_out(invoice), "channel": channel,
        "balance": schemas.money(invoice.balance, invoice.currency), "sent_by": actor,
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None})
    return invoice


def _money_on_record(session: Session, invoice_id: str) -> tuple[int, int, bool]:
    """(ever paid on it, refunded of that, has an adjustment/write-off/credit note)."""
    paid = session.scalar(select(func.coalesce(func.sum(InvoicePayment.amount), 0))
                          .where(InvoicePayment.invoice_id == invoice_id))
    refunded = session.scalar(select(func.coalesce(func.sum(InvoiceRefund.amount), 0))
                              .where(InvoiceRefund.invoice_id == invoice_id,
                                     InvoiceRefund.failed_at.is_(None)))
    return paid, refunded, _adjusted(session, invoice_id)


def void_invoice(session: Session, invoice_id: str, reason, actor: str) -> Invoice:
    """Void with a reason (kept and shown); only with nothing paid or held,
    and no money on record unless all of it was refunded with no adjustment
    (domain.check_voidable)."""
    invoice = load_invoice(session, invoice_id, lock=True)
    try:
        domain.check_not_held(holds.held_on(session, invoice.id), "void")
        domain.check_voidable(invoice.status, invoice.amount_paid,
                              *_money_on_record(session, invoice.id))
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    checks = FieldChecks()
    reason = checks.run("reason", clean, reason, "the reason", 500, required=True, multiline=True)
    if "reason" in checks.errors and checks.errors["reason"].startswith("Enter"):
        checks.errors["reason"] = "Enter why this invoice is being voided."
    checks.raise_if_any()
    invoice.status, invoice.updated_at, invoice.void_reason = "void", utcnow(), reason
    note(session, invoice, f"Voided: {reason}"[:200], actor)
    record_event(session, SOURCE, "InvoiceVoided", schemas.summary_out(invoice))
    return invoice
