"""Statements: batched reads of what changed each client's balance, the
statement rows and their `StatementIssued` events. Use cases take the
session; the caller commits. No RPC here (who a statement is addressed to is
given, from clients' `billing_directory`)."""
from __future__ import annotations

import hashlib
import json
import secrets
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, insert, select
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.errors import Conflict, NotFound
from servicekit.outbox import record_events
from servicekit.text import FieldChecks

from invoicing import statement_math
from invoicing.models import (
    CreditEntry, Invoice, InvoiceAdjustment, InvoicePayment, InvoiceRefund, Statement,
)

SOURCE = "invoicing"
NOT_BILLED = ("draft", "void")
ADJUSTMENT_WORDS = {"adjustment": "Adjustment", "write_off": "Write-off",
                    "credit_note": "Credit note"}
# credit entries told by another entry: a credit note's move (its adjustment)
TOLD_ELSEWHERE = ("credit_note:",)
RECENT = 12          # statements shown on the Financial tab and in the portal


# ---- input ---------------------------------------------------------------------------

def _day(value, what: str) -> date:
    if isinstance(value, date):
        return value
    text = str(value or "").strip()
    if not text:
        raise ValueError(f"Enter {what}.")
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"Enter {what} as a date, like 2026-11-30.") from None


def period_input(start, end, start_field="period_start", end_field="period_end",
                 start_words="the first day", end_words="the last day") -> tuple[date, date]:
    """Both days of a period, or InvalidFields naming each field wrong."""
    checks = FieldChecks()
    days = {}
    for field, value, words in ((start_field, start, start_words), (end_field, end, end_words)):
        try:
            days[field] = _day(value, words)
        except ValueError as problem:
            checks.add(field, str(problem))
    if len(days) == 2 and days[end_field] < days[start_field]:
        checks.add(end_field, "The last day is before the first day. Choose a later date.")
    checks.raise_if_any()
    return days[start_field], days[end_field]


# ---- batched reads -------------------------------------------------------------------

def _next_day(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time.min)


def entries_for(session: Session, client_ids: list[str], until: date) -> dict[str, list]:
    """Every client's entries up to `until`: five SQL statements for any
    number of clients."""
    ids, end = list(client_ids), _next_day(until)
    entries: dict[str, list] = {client_id: [] for client_id in ids}
    billed = and_(Invoice.client_id.in_(ids), Invoice.status.not_in(NOT_BILLED))
    for row in session.execute(select(Invoice.id, Invoice.client_id, Invoice.number,
                                      Invoice.created_at, Invoice.total, Invoice.due_on)
                               .where(billed, Invoice.created_at < end)):
        entries[row.client_id].append(statement_math.Entry(
            row.created_at.date(), "charge", row.total, row.id, f"Invoice {row.number}",
            due_on=row.due_on))
    for row in session.execute(select(InvoicePayment.invoice_id, Invoice.client_id, Invoice.number,
                                      InvoicePayment.amount, InvoicePayment.applied_at,
                                      InvoicePayment.method)
                               .join(Invoice, Invoice.id == InvoicePayment.invoice_id)
                               .where(billed, InvoicePayment.applied_at < end)):
        entries[row.client_id].append(statement_math.Entry(
            row.applied_at.date(), "payment", -row.amount, row.invoice_id,
            f"Payment ({_method(row.method)}), invoice {row.number}"))
    for row in session.execute(select(InvoiceRefund.invoice_id, Invoice.client_id, Invoice.number,
                                      InvoiceRefund.amount, InvoiceRefund.refunded_at)
                               .join(Invoice, Invoice.id == InvoiceRefund.invoice_id)
                               .where(billed, InvoiceRefund.refunded_at < end,
                                      InvoiceRefund.failed_at.is_(None))):
        entries[row.client_id].append(statement_math.Entry(
            row.refunded_at.date(), "refund", row.amount, row.invoice_id,
            f"Refund, invoice {row.number}"))
    # adjustments, write-offs and credit notes: what they change of what is
    # owed (the reason is staff's note, not shown to the patient); a credit
    # note's move of paid money to the credit rides on it (credit_delta)
    for row in session.execute(select(InvoiceAdjustment.invoice_id, Invoice.client_id,
                                      Invoice.number, InvoiceAdjustment.kind,
                                      InvoiceAdjustment.amount, InvoiceAdjustment.credited,
                                      InvoiceAdjustment.at)
                               .join(Invoice, Invoice.id == InvoiceAdjustment.invoice_id)
                               .where(billed, InvoiceAdjustment.at < end)):
        words = ADJUSTMENT_WORDS.get(row.kind, "Adjustment")
        moved = " (paid amount moved to your credit)" if row.credited else ""
        entries[row.client_id].append(statement_math.Entry(
            row.at.date(), "adjustment", row.amount, row.invoice_id,
            f"{words}, invoice {row.number}{moved}", credit_delta=row.credited or 0))
    for row in session.execute(select(CreditEntry.client_id, CreditEntry.amount, CreditEntry.at,
                                      CreditEntry.source)
                               .where(CreditEntry.client_id.in_(ids), CreditEntry.at < end)):
        if (row.source or "").startswith(TOLD_ELSEWHERE):
            continue
        entries[row.client_id].append(statement_math.Entry(
            row.at.date(), "credit", -row.amount, None, _credit_words(row.source, row.amount)))
    return entries


def _credit_words(source: str | None, amount: int) -> str:
    if (source or "").startswith("apply:"):
        return "Credit used to pay an invoice"
    return "Credit kept on the account" if amount > 0 else "Refund from the account credit"


def _method(method: str) -> str:
    return {"us_bank_account": "bank account", "terminal": "card terminal",
            "credit": "account credit"}.get(method, method)


# ---- writing -------------------------------------------------------------------------

def new_row(client_id: str, figures: statement_math.Statement, bill_to: dict, actor: str,
            run_id: str | None = None, now: datetime | None = None) -> dict:
    """A `statements` row (a dict, for bulk inserts)."""
    return {"id": f"stm_{secrets.token_hex(8)}", "client_id": client_id, "run_id": run_id,
            "period_start": figures.period_start, "period_end": figures.period_end,
            "opening_balance": figures.opening_balance, "charges": figures.charges,
            "payments": figures.payments, "refunds": figures.refunds,
            "credits": figures.credits, "adjustments": figures.adjustments,
            "closing_balance": figures.closing_balance,
            "aging_current": figures.aging["current"], "aging_31_60": figures.aging["31_60"],
            "aging_61_90": figures.aging["61_90"], "aging_over_90": figures.aging["over_90"],
            "credit_on_account": figures.credit_on_account,
            "activity": json.dumps(list(figures.activity)),
            "bill_to_name": (bill_to.get("name") or "")[:200],
            "bill_to_address": bill_to.get("address") or "", "currency": "usd",
            "issued_by": actor or "", "issued_at": now or utcnow()}


def event_data(row: dict) -> dict:
    """StatementIssued: ids, the period and what is due; no name, no address."""
    data = {"statement_id": row["id"], "client_id": row["client_id"],
            "period_start": row["period_start"].isoformat(),
            "period_end": row["period_end"].isoformat(),
            "amount_due": {"amount": max(row["closing_balance"], 0), "currency": row["currency"]},
            "issued_at": iso(row["issued_at"])}
    if row["run_id"]:
        data["run_id"] = row["run_id"]
    return data


def write(session: Session, rows: list[dict]) -> None:
    """The statements and their StatementIssued events, in the caller's
    transaction: one INSERT each, however many rows."""
    if not rows:
        return
    session.execute(insert(Statement), rows)
    record_events(session, SOURCE, "StatementIssued", [event_data(row) for row in rows])


def key_id(request_key: str) -> str:
    return "stm_" + hashlib.sha256(f"statement:{request_key}".encode()).hexdigest()[:16]


def issue_one(session: Session, client_id: str, start: date, end: date, bill_to: dict,
              actor: str, request_key: str | None = None) -> Statement:
    """One client's statement for a period, issued now (even with nothing in it).
    With the staff form's request key, the statement's id comes from it: the
    same key again (a double click, a retry) returns that statement and
    issues no second one (nor a second email)."""
    statement_id = key_id(request_key) if request_key else None
    if statement_id is not None:
        done = session.get(Statement, statement_id)
        if done is not None:
            if done.client_id != client_id:
                raise Conflict("This form was already used for another client. Reload the page.")
            return done
    figures = statement_math.statement(start, end, entries_for(session, [client_id], end)[client_id])
    row = new_row(client_id, figures, bill_to, actor)
    if statement_id is not None:
        row["id"] = statement_id
    write(session, [row])
    return session.get(Statement, row["id"])


# ---- reading -------------------------------------------------------------------------

def load(session: Session, statement_id: str, client_id: str | None = None) -> Statement:
    """A statement; NotFound for another client's (as for none)."""
    found = session.get(Statement, str(statement_id))
    if found is None or (client_id is not None and found.client_id != str(client_id)):
        raise NotFound("statement not found")
    return found


def recent(session: Session, client_id: str, limit: int = RECENT) -> list[Statement]:
    return list(session.scalars(select(Statement).where(Statement.client_id == str(client_id))
                                .order_by(Statement.period_end.desc(), Statement.issued_at.desc())
                                .limit(limit)))


def summary_for(session: Session, client_id: str) -> list[dict]:
    """The Financial tab's `summary.statements`: one SQL statement."""
    return [out(row, with_activity=False) for row in recent(session, client_id)]


def out(row: Statement, with_activity: bool = True) -> dict:
    shown = {
        "id": row.id, "client_id": row.client_id, "run_id": row.run_id,
        "period_start": row.period_start.isoformat(), "period_end": row.period_end.isoformat(),
        "opening_balance": row.opening_balance, "charges": row.charges, "payments": row.payments,
        "refunds": row.refunds, "credits": row.credits, "adjustments": row.adjustments,
        "closing_balance": row.closing_balance, "amount_due": max(row.closing_balance, 0),
        "credit_on_account": row.credit_on_account,
        "aging": {"current": row.aging_current, "31_60": row.aging_31_60,
                  "61_90": row.aging_61_90, "over_90": row.aging_over_90},
        "currency": row.currency, "issued_at": iso(row.issued_at),
        "filename": filename(row)}
    if with_activity:
        shown["activity"] = json.loads(row.activity)
        shown["bill_to"] = {"name": row.bill_to_name, "address": row.bill_to_address}
    return shown


def filename(row: Statement) -> str:
    """No PHI: the period only."""
    return f"statement-{row.period_start.isoformat()}-to-{row.period_end.isoformat()}.pdf"
