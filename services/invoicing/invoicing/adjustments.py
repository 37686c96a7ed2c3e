"""Changing what is owed on an invoice once it stands, and moving credit.
Lines are not edited once money was applied: a correction is an
`adjustment` (+ or −, with a reason), an uncollectible amount a `write_off`,
and a `credit_note` takes an amount off the invoice, what was already paid
over the new amount owed going to the account's credit. Credit on the
account can be applied to an invoice (`apply_credit`). Each is one
transaction with its event in the outbox; the caller commits.

An invoice brought to a zero balance this way is `paid` when something was
paid on it, and `closed` when nothing was (written off, or all of it moved
to credit): neither is offered for payment again."""
from __future__ import annotations

import re
import secrets

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from servicekit.db import is_postgres, iso, utcnow
from servicekit.errors import Conflict, InvalidFields, InvalidInput
from servicekit.money import format_money
from servicekit.outbox import record_event
from servicekit.text import FieldChecks, clean

from invoicing import domain, holds, schemas
from invoicing.models import CreditEntry, Invoice, InvoiceAdjustment, InvoicePayment
from invoicing.usecases import SOURCE, load_invoice, note

KINDS = ("adjustment", "write_off", "credit_note")
KEY = re.compile(r"^[A-Za-z0-9_-]{8,32}$")
WORDS = {"adjustment": "Adjustment", "write_off": "Written off", "credit_note": "Credit note"}
LABELS = {"adjustment": "Adjustment", "write_off": "Write-off", "credit_note": "Credit note"}


# ---- rules (no I/O) ---------------------------------------------------------------------------
def status_for(owed: int, paid: int, was_sent: bool, current: str = "open") -> str:
    """Where an invoice stands after what is owed or paid changed. Unsent with
    something due: a draft stays a draft; a finalized invoice (open, or
    closed or paid before) is `open` — never a draft again."""
    if owed - paid > 0:
        if paid > 0:
            return "partially_paid"
        if was_sent:
            return "sent"
        return "draft" if current == "draft" else "open"
    return "paid" if paid > 0 else "closed"


def check_change(kind: str, amount: int, owed: int, paid: int, number: str) -> tuple[int, int]:
    """(the change of what is owed, the part that moves to credit), or
    InvalidFields saying what is wrong with the amount."""
    due = max(owed - paid, 0)
    if kind == "adjustment":
        if amount == 0:
            raise InvalidFields({"amount": "Enter an amount other than $0.00."})
        if owed + amount < paid:
            raise InvalidFields({"amount": (
                f"That would leave {number} owing less than has been paid ({format_money(paid)}). "
                "Use a credit note to move the difference to the account's credit.")})
        if owed + amount > domain.MAX_AMOUNT:
            raise InvalidFields({"amount": "An invoice cannot be over $999,999.99."})
        return amount, 0
    if amount <= 0:
        raise InvalidFields({"amount": "Enter an amount over $0.00."})
    if kind == "write_off":
        if amount > due:
            raise InvalidFields({"amount": f"{number} has {format_money(due)} open; "
                                           "write off at most that."})
        return -amount, 0
    if amount > owed:
        raise InvalidFields({"amount": f"{number} is for {format_money(owed)}; a credit note "
                                       "can be at most that."})
    return -amount, max(paid - (owed - amount), 0)


def check_key(key) -> str:
    if not isinstance(key, str) or not KEY.match(key):
        raise InvalidInput("This form has expired. Reload the page and try again.")
    return key


def adjustment_input(payload) -> dict:
    """{kind, amount (cents, signed for an adjustment), reason, request_key,
    client_id (optional: the invoice must be this account's)}; every field's
    problem at once."""
    if not isinstance(payload, dict):
        raise InvalidInput("adjustment details must be an object")
    checks = FieldChecks()
    kind = payload.get("kind")
    if kind not in KINDS:
        checks.add("kind", "Choose an adjustment, a write-off or a credit note.")
    amount = payload.get("amount")
    if isinstance(amount, bool) or not isinstance(amount, int):
        checks.add("amount", "Enter an amount like 25.00.")
    elif abs(amount) > domain.MAX_AMOUNT:
        checks.add("amount", "Enter an amount up to $999,999.99.")
    reason = checks.run("reason", clean, payload.get("reason"), "the reason", 500, required=True,
                        multiline=True)
    key = checks.run("form", check_key, payload.get("request_key"))
    checks.raise_if_any()
    return {"kind": kind, "amount": amount, "reason": reason, "request_key": key,
            "client_id": str(payload.get("client_id") or "")}


# ---- use cases ---------------------------------------------------------------------------------
def adjust(session: Session, invoice_id: str, data: dict, actor: str) -> Invoice:
    """Record an adjustment, write-off or credit note (once per request key)."""
    invoice = load_invoice(session, invoice_id, lock=True)
    if data.get("client_id") and invoice.client_id != data["client_id"]:
        raise InvalidFields({"invoice": "That invoice is not on this account."})
    done = session.scalars(select(InvoiceAdjustment).where(
        InvoiceAdjustment.request_key == data["request_key"])).first()
    if done is not None:
        if done.invoice_id != invoice.id:
            raise Conflict("This form was already used for another invoice. Reload and try again.")
        return invoice
    _check_open(session, invoice, "adjust")
    change, credited = check_change(data["kind"], data["amount"], invoice.owed,
                                    invoice.amount_paid, invoice.number)
    now = utcnow()
    adjustment = InvoiceAdjustment(
        id=f"adj_{secrets.token_hex(8)}", invoice_id=invoice.id, client_id=invoice.client_id,
        kind=data["kind"], amount=change, credited=credited, reason=data["reason"], actor=actor,
        request_key=data["request_key"], at=now)
    session.add(adjustment)
    invoice.adjustments_total = (invoice.adjustments_total or 0) + change
    invoice.amount_paid -= credited
    if credited:
        session.add(CreditEntry(client_id=invoice.client_id, amount=credited,
                                source=f"credit_note:{adjustment.id}", at=now))
    shown = format_money(abs(change)) if data["kind"] != "adjustment" else \
        ("+" if change > 0 else "−") + format_money(abs(change))
    moved = f" ({format_money(credited)} to the account's credit)" if credited else ""
    note(session, invoice, f"{WORDS[data['kind']]} {shown}{moved}: {data['reason']}"[:200], actor)
    _settle(session, invoice, now)
    record_event(session, SOURCE, "InvoiceAdjusted", {
        **schemas.summary_out(invoice), "adjustment_id": adjustment.id, "kind": data["kind"],
        "amount": schemas.money(abs(change), invoice.currency),
        "increase": change > 0, "credited": schemas.money(credited, invoice.currency),
        "balance": schemas.money(invoice.balance, invoice.currency), "status": invoice.status,
        "adjusted_at": iso(now)})
    session.flush()
    return invoice


def apply_credit(session: Session, client_id: str, invoice_id: str, amount: int | None,
                 actor: str, request_key: str) -> Invoice:
    """Pay an invoice from the credit on its account (None: as much as both
    allow); the same request key again changes nothing."""
    _lock_credit(session, client_id)
    invoice = load_invoice(session, invoice_id, lock=True)
    source = f"apply:{request_key}"
    if session.scalars(select(CreditEntry.id).where(CreditEntry.source == source)).first():
        return invoice
    if invoice.client_id != client_id:
        raise InvalidInput("That invoice is not on this account.")
    credit = credit_of(session, client_id)
    if credit <= 0:
        raise InvalidFields({"amount": "There is no credit on this account to apply."})
    available = 0 if holds.held_on(session, invoice.id) else invoice.balance
    try:
        amount = domain.check_payable(invoice.status, "staff", invoice.number, available,
                                      min(credit, available) if amount is None else amount)
    except domain.RuleBroken as broken:
        raise InvalidFields({"amount": str(broken)}) from None
    if amount <= 0:
        raise InvalidFields({"amount": "Enter an amount over $0.00."})
    if amount > credit:
        raise InvalidFields({"amount": f"The account has {format_money(credit)} of credit; "
                                       "apply at most that."})
    now = utcnow()
    session.add(CreditEntry(client_id=client_id, amount=-amount, source=source, at=now))
    session.add(InvoicePayment(payment_id=f"credit_{request_key}", invoice_id=invoice.id,
                               amount=amount, method="credit", applied_at=now))
    invoice.amount_paid += amount
    note(session, invoice, f"Credit of {format_money(amount)} applied from the account", actor)
    _settle(session, invoice, now)
    record_event(session, SOURCE, "CreditApplied", {
        **schemas.summary_out(invoice), "amount": schemas.money(amount, invoice.currency),
        "credit_left": schemas.money(credit - amount, invoice.currency), "applied_at": iso(now)})
    session.flush()
    return invoice


def credit_of(session: Session, client_id: str) -> int:
    return session.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))
                          .where(CreditEntry.client_id == client_id))


def listed(session: Session, invoice_id: str) -> list[dict]:
    """An invoice's adjustments, write-offs and credit notes, oldest first
    (the invoice page lists them under its total): one SQL statement."""
    rows = session.scalars(select(InvoiceAdjustment).where(InvoiceAdjustment.invoice_id == invoice_id)
                           .order_by(InvoiceAdjustment.at, InvoiceAdjustment.id))
    return [{"id": row.id, "kind": row.kind, "label": LABELS.get(row.kind, row.kind),
             "amount": row.amount, "credited": row.credited or 0, "reason": row.reason,
             "at": iso(row.at)} for row in rows]


def has_adjustments(session: Session, invoice_id: str) -> bool:
    return session.scalars(select(InvoiceAdjustment.id).where(
        InvoiceAdjustment.invoice_id == invoice_id).limit(1)).first() is not None


def _check_open(session: Session, invoice: Invoice, action: str) -> None:
    if invoice.status == "void":
        raise InvalidFields({"form": f"{invoice.number} is void; there is nothing to {action}."})
    try:
        domain.check_not_held(holds.held_on(session, invoice.id), action)
    except domain.RuleBroken as broken:
        raise InvalidFields({"form": str(broken)}) from None


def _settle(session: Session, invoice: Invoice, now) -> None:
    """The status the new balance puts the invoice in; InvoicePaid when it
    becomes paid (payment links end, receipts may go)."""
    invoice.status = status_for(invoice.owed, invoice.amount_paid, invoice.sent_at is not None,
                                invoice.status)
    invoice.updated_at = now
    if invoice.status != "paid":
        invoice.paid_at = None
    elif invoice.paid_at is None:
        invoice.paid_at = now
        record_event(session, SOURCE, "InvoicePaid", {
            **schemas.summary_out(invoice),
            "total": schemas.money(invoice.total, invoice.currency), "paid_at": iso(now)})


def _lock_credit(session: Session, client_id: str) -> None:
    """One credit movement per account at a time (the sum is read after the
    lock, so two applications never spend the same credit). SQLite, the
    one-machine default, serializes writers by itself."""
    if is_postgres(session):
        session.execute(text("select pg_advisory_xact_lock(hashtext(:key))"),
                        {"key": f"invoicing.credit:{client_id}"})
