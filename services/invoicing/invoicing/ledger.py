"""A client's or account's ledger, with no I/O: every charge and every
movement of money in one dated list with a running balance, and the open
balance aged by how long it has been past due. All money is integer cents.

Each movement says what it does to one invoice's net (what is owed on it
less what was paid) and to the credit on the account; what it does to the
account's balance is the first less the second. So applying credit to an
invoice (invoice −, credit −) leaves the account's balance as it was, and a
bank payment still clearing (pending) changes nothing until it clears.

The balance is what the open invoices owe less the credit on the account;
the running balance of the last entry equals it whenever no invoice is
overpaid (an overpayment shows as the invoice's negative net)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

# the order of kinds on the same instant: the charge first, then what it owes,
# then money in, money out, and what only shows
KINDS = ("charge", "adjustment", "write_off", "credit_note", "payment", "credit_applied",
         "credit", "refund", "credit_refund", "void", "pending")
BUCKETS = ("current", "31_60", "61_90", "over_90")
BUCKET_LABELS = {"current": "Current", "31_60": "31–60 days", "61_90": "61–90 days",
                 "over_90": "Over 90 days"}


@dataclass(frozen=True)
class InvoiceFacts:
    id: str
    number: str
    created_at: datetime
    due_on: date | None
    total: int
    void: bool = False


@dataclass(frozen=True)
class Movement:
    """Something that happened to an invoice or to the account's credit.
    `amount` is what the ledger shows (positive); the deltas are its effect."""
    at: datetime
    kind: str
    key: str                      # stable and unique: ties on `at` are ordered by it
    amount: int
    invoice_id: str | None = None
    invoice_delta: int = 0        # + the client owes more on the invoice
    credit_delta: int = 0         # + more credit on the account
    note: str = ""

    @property
    def effect(self) -> int:
        return self.invoice_delta - self.credit_delta


@dataclass(frozen=True)
class Entry:
    at: datetime
    kind: str
    amount: int
    effect: int                   # on the account's balance (0: shown, not counted)
    running: int
    invoice_id: str | None
    invoice_number: str
    note: str


@dataclass(frozen=True)
class Ledger:
    entries: tuple[Entry, ...]
    balance: int                  # open invoice balances less the credit
    open_balance: int             # what the open invoices owe
    credit: int
    pending: int                  # bank payments clearing (still in the open balance)
    aging: dict
    open_by_invoice: dict


def bucket_for(days_past_due: int) -> str:
    """current: not yet due or up to 30 days past due; then 31–60, 61–90, over 90."""
    if days_past_due <= 30:
        return "current"
    if days_past_due <= 60:
        return "31_60"
    if days_past_due <= 90:
        return "61_90"
    return "over_90"


def aging_start(due_on: date | None, invoice_day: date) -> date:
    """THE aging rule, for the ledger, the Financial tab and statements alike:
    an invoice ages from its due date, or from its invoice date when it has
    none."""
    return due_on or invoice_day


def days_past_due(invoice: InvoiceFacts, today: date) -> int:
    """Days since the due date, or since the invoice date when it has none."""
    return (today - aging_start(invoice.due_on, invoice.created_at.date())).days


def charges(invoices: list[InvoiceFacts]) -> list[Movement]:
    return [Movement(i.created_at, "charge", f"{i.id}:charge", i.total, i.id, i.total)
            for i in invoices]


def build(invoices: list[InvoiceFacts], movements: list[Movement], today: date) -> Ledger:
    """The ledger of these invoices (their charges are added here) and movements."""
    numbers = {invoice.id: invoice.number for invoice in invoices}
    ordered = sorted(charges(invoices) + list(movements),
                     key=lambda m: (m.at, KINDS.index(m.kind), m.key))
    running, entries = 0, []
    net = {invoice.id: 0 for invoice in invoices}
    credit = pending = 0
    for movement in ordered:
        running += movement.effect
        credit += movement.credit_delta
        if movement.invoice_id in net:
            net[movement.invoice_id] += movement.invoice_delta
        if movement.kind == "pending":
            pending += movement.amount
        entries.append(Entry(movement.at, movement.kind, movement.amount, movement.effect,
                             running, movement.invoice_id,
                             numbers.get(movement.invoice_id or "", ""), movement.note))
    open_by_invoice = {i.id: (0 if i.void else max(net[i.id], 0)) for i in invoices}
    aging = dict.fromkeys(BUCKETS, 0)
    for invoice in invoices:
        if open_by_invoice[invoice.id]:
            aging[bucket_for(days_past_due(invoice, today))] += open_by_invoice[invoice.id]
    open_balance = sum(open_by_invoice.values())
    return Ledger(tuple(entries), open_balance - credit, open_balance, credit, pending, aging,
                  open_by_invoice)


def ledger_out(ledger: Ledger) -> dict:
    """The ledger as an RPC answers it: entries oldest first, aging buckets
    in order (current, 31–60, 61–90, over 90)."""
    return {
        "balance": ledger.balance, "open_balance": ledger.open_balance,
        "credit": ledger.credit, "pending": ledger.pending,
        "aging": [{"bucket": name, "label": BUCKET_LABELS[name], "amount": ledger.aging[name]}
                  for name in BUCKETS],
        "entries": [{"at": e.at.isoformat(), "date": e.at.date().isoformat(), "kind": e.kind,
                     "amount": e.amount, "effect": e.effect, "running": e.running,
                     "invoice_id": e.invoice_id, "invoice_number": e.invoice_number,
                     "note": e.note} for e in ledger.entries],
    }
