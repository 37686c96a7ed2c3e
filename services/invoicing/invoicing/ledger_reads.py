"""Reading a client's ledger: everything that moved money on the client's
invoices or credit, in ONE SQL statement (a UNION ALL over payments applied,
refunds, adjustments, credit entries and payments in flight), turned into the
pure `ledger.Movement`s. The payments in flight also give each invoice's
held and pending amounts, so the Financial tab needs no other query."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Integer, String, Text, cast, literal, null, select, union_all
from sqlalchemy.orm import Session

from servicekit import clock

from invoicing import ledger
from invoicing.holds import ACTIVE
from invoicing.models import (
    CreditEntry, Invoice, InvoiceAdjustment, InvoicePayment, InvoiceRefund, PaymentHold,
)

METHOD_WORDS = {"card": "Card", "us_bank_account": "Bank account", "check": "Check",
                "cash": "Cash", "terminal": "Outside card terminal"}
# credit entries another row already tells (the credit note, the payment from credit)
TOLD_ELSEWHERE = ("credit_note:", "apply:")


@dataclass(frozen=True)
class ClientLedger:
    ledger: ledger.Ledger
    held: dict        # invoice id → {"held": n, "pending": n}


def _row(kind: str, ref, invoice_id, amount, at, detail, extra, note):
    return select(literal(kind, String).label("kind"), cast(ref, String).label("ref"),
                  cast(invoice_id, String).label("invoice_id"), cast(amount, Integer).label("amount"),
                  at.label("at"), cast(detail, String).label("detail"),
                  cast(extra, Integer).label("extra"), cast(note, Text).label("note"))


def movements_query(client_id: str):
    mine = select(Invoice.id).where(Invoice.client_id == client_id)
    return union_all(
        _row("payment", InvoicePayment.payment_id, InvoicePayment.invoice_id,
             InvoicePayment.amount, InvoicePayment.applied_at, InvoicePayment.method,
             literal(0), literal("")).where(InvoicePayment.invoice_id.in_(mine)),
        _row("refund", InvoiceRefund.refund_id, InvoiceRefund.invoice_id, InvoiceRefund.amount,
             InvoiceRefund.refunded_at, literal(""), literal(0), literal(""))
        .where(InvoiceRefund.invoice_id.in_(mine), InvoiceRefund.failed_at.is_(None)),
        _row("adjusted", InvoiceAdjustment.id, InvoiceAdjustment.invoice_id,
             InvoiceAdjustment.amount, InvoiceAdjustment.at, InvoiceAdjustment.kind,
             InvoiceAdjustment.credited, InvoiceAdjustment.reason)
        .where(InvoiceAdjustment.client_id == client_id),
        _row("credit", CreditEntry.source, null(), CreditEntry.amount, CreditEntry.at,
             literal(""), CreditEntry.id, literal("")).where(CreditEntry.client_id == client_id),
        _row("hold", PaymentHold.payment_id, PaymentHold.invoice_id, PaymentHold.amount,
             PaymentHold.created_at, PaymentHold.status, literal(0), PaymentHold.method)
        .where(PaymentHold.invoice_id.in_(mine), PaymentHold.status.in_(ACTIVE)))


def read(session: Session, client_id: str, invoices: list[Invoice]) -> ClientLedger:
    """The ledger of these invoices (all of the client's) and the client's credit."""
    moves, held = [], {}
    for row in session.execute(movements_query(client_id)):
        if row.kind == "hold":
            entry = held.setdefault(row.invoice_id, {"held": 0, "pending": 0})
            entry["held"] += row.amount
            if row.detail == "processing":
                entry["pending"] += row.amount
                moves.append(ledger.Movement(row.at, "pending", f"h:{row.ref}:{row.invoice_id}",
                                             row.amount, row.invoice_id,
                                             note=METHOD_WORDS.get(row.note, "")))
            continue
        move = _movement(row)
        if move is not None:
            moves.append(move)
    for invoice in invoices:
        if invoice.status == "void":
            moves.append(ledger.Movement(invoice.updated_at, "void", f"v:{invoice.id}",
                                         invoice.owed, invoice.id, -invoice.owed))
    facts = [ledger.InvoiceFacts(i.id, i.number, i.created_at, i.due_on, i.total,
                                 i.status == "void") for i in invoices]
    return ClientLedger(ledger.build(facts, moves, clock.today()), held)


def _movement(row) -> ledger.Movement | None:
    key, amount = f"{row.kind}:{row.ref}:{row.invoice_id}", row.amount
    if row.kind == "payment":
        if row.detail == "credit":
            return ledger.Movement(row.at, "credit_applied", key, amount, row.invoice_id,
                                   -amount, -amount, "From the account's credit")
        return ledger.Movement(row.at, "payment", key, amount, row.invoice_id, -amount,
                               note=METHOD_WORDS.get(row.detail, row.detail))
    if row.kind == "refund":
        return ledger.Movement(row.at, "refund", key, amount, row.invoice_id, amount)
    if row.kind == "adjusted":
        credited = row.extra or 0
        return ledger.Movement(row.at, row.detail, key, abs(amount), row.invoice_id,
                               amount + credited, credited, row.note or "")
    if row.ref.startswith(TOLD_ELSEWHERE):
        return None
    key = f"credit:{row.extra}"
    if amount >= 0:
        note = "Left over from a payment" if row.ref.startswith("payment:") else \
            "A refund that failed: the money stayed" if row.ref.startswith("refund-failed:") else ""
        return ledger.Movement(row.at, "credit", key, amount, None, 0, amount, note)
    return ledger.Movement(row.at, "credit_refund", key, -amount, None, 0, amount,
                           "Refunded from the account's credit")
