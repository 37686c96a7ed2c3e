"""Invoicing use cases: each takes the session (and what it needs to know),
changes state, and records its event in the same transaction. The caller
commits."""
from __future__ import annotations

import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import InvalidInput, NotFound
from servicekit.outbox import record_event

from invoicing import domain, holds, schemas
from invoicing.models import Counter, Invoice, InvoiceActivity, InvoiceLine, ServiceItem

SOURCE = "invoicing"


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


def _priced_lines(session: Session, raw_lines: list[dict]) -> list[domain.Line]:
    codes = {line["service_code"] for line in raw_lines}
    catalog = {item.code: item for item in session.scalars(
        select(ServiceItem).where(ServiceItem.code.in_(codes), ServiceItem.active))}
    lines = []
    for raw in raw_lines:
        item = catalog.get(raw["service_code"])
        if item is None:
            raise InvalidInput(f"service {raw['service_code']!r} is not in the catalog")
        lines.append(domain.Line(item.code, item.description, raw["units"],
                                 raw.get("unit_price", item.fee)))
    return lines


def save_invoice(session: Session, data: dict, actor: str, invoice_id: str | None = None) -> Invoice:
    lines = _priced_lines(session, data["lines"])
    try:
        totals = domain.price(lines, data["discount"])
        invoice = _invoice_for_edit(session, invoice_id, data, totals)
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    invoice.location_id, invoice.payment_type = data["location_id"], data["payment_type"]
    invoice.discount_kind, invoice.discount_value = data["discount"].kind, data["discount"].value
    invoice.memo, invoice.due_on = data["memo"], data["due_on"]
    invoice.subtotal, invoice.discount_amount, invoice.total = (
        totals.subtotal, totals.discount_amount, totals.total)
    invoice.updated_at = utcnow()
    invoice.lines = [
        InvoiceLine(position=n, service_code=line.service_code, description=line.description,
                    units=line.units, unit_price=line.unit_price, amount=line.amount,
                    discount_share=share)
        for n, (line, share) in enumerate(zip(lines, totals.line_discounts), start=1)]
    note(session, invoice, "Saved" if invoice_id else "Created", actor)
    session.flush()
    record_event(session, SOURCE, "InvoiceSaved", {
        **schemas.summary_out(invoice), "location_id": invoice.location_id,
        "status": invoice.status, "total": schemas.money(invoice.total, invoice.currency),
        "balance": schemas.money(invoice.balance, invoice.currency),
        "line_count": len(invoice.lines)})
    return invoice


def _invoice_for_edit(session, invoice_id, data, totals) -> Invoice:
    if invoice_id is None:
        now = utcnow()
        invoice = Invoice(id=f"inv_{secrets.token_hex(8)}", number=_next_number(session),
                          client_id=data["client_id"], status="draft", amount_paid=0,
                          created_at=now, updated_at=now)
        session.add(invoice)
        return invoice
    invoice = load_invoice(session, invoice_id, lock=True)
    if data["client_id"] != invoice.client_id:
        raise InvalidInput("an invoice cannot be moved to another client")
    domain.check_not_held(holds.held_on(session, invoice.id), "edit")
    if invoice.adjustments_total or _adjusted(session, invoice.id):   # ledger keeps the history
        raise domain.RuleBroken("this invoice has adjustments: change it with another adjustment "
                                "or a credit note")
    domain.check_editable(invoice.status, totals.total, invoice.amount_paid)
    return invoice


def _adjusted(session: Session, invoice_id: str) -> bool:
    from invoicing.adjustments import has_adjustments   # adjustments imports this module
    return has_adjustments(session, invoice_id)


def send_invoice(session: Session, invoice_id: str, channel: str, actor: str) -> Invoice:
    if channel not in ("email", "portal"):
        raise InvalidInput("channel must be email or portal")
    invoice = load_invoice(session, invoice_id, lock=True)
    try:
        domain.check_sendable(invoice.status, invoice.balance)
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    if invoice.status == "draft":
        invoice.status = "sent"
    invoice.sent_at = invoice.updated_at = utcnow()
    note(session, invoice, "Sent by email" if channel == "email" else "Posted to the portal", actor)
    record_event(session, SOURCE, "InvoiceSent", {
        **schemas.summary_out(invoice), "channel": channel,
        "balance": schemas.money(invoice.balance, invoice.currency), "sent_by": actor,
        "due_on": invoice.due_on.isoformat() if invoice.due_on else None})
    return invoice


def void_invoice(session: Session, invoice_id: str, actor: str) -> Invoice:
    invoice = load_invoice(session, invoice_id, lock=True)
    try:
        domain.check_not_held(holds.held_on(session, invoice.id), "void")
        domain.check_voidable(invoice.status, invoice.amount_paid)
    except domain.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    invoice.status, invoice.updated_at = "void", utcnow()
    note(session, invoice, "Voided", actor)
    record_event(session, SOURCE, "InvoiceVoided", schemas.summary_out(invoice))
    return invoice
