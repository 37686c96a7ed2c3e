"""A statement's arithmetic, with no I/O. Everything that changed what a
client owes is an `Entry` with a signed amount (cents; + owes more):

| kind       | amount | from |
| ---------- | ------ | ---- |
| charge     | +total of an invoice (after its discounts), on the day it was made |
| payment    | −what a payment applied to an invoice |
| refund     | +money given back on an invoice |
| credit     | −a payment's part left on the account (+ when refunded out of it) |
| adjustment | ± what adjustments, write-offs (−) and credit notes (−) change of what is owed |

An entry may also move money between its invoice and the account's credit
(`credit_delta`, + more credit): a credit note moves what was already paid
over the new amount owed to the credit. That part changes neither the
balance nor any line of the summary: the invoice's own balance changes by
`amount + credit_delta`, the credit by `credit_delta` (as the ledger's
movements do, `ledger.Movement`).

Drafts and void invoices are not on a statement (with their payments).

    opening  = every entry before the period
    closing  = opening + charges − payments + refunds − credits + adjustments
             = every entry up to the period's last day
    aging    = each invoice's own balance at the period's end (its charge,
               payments, refunds and adjustments), by days past its due date
               (or its invoice date when it has none) — the ledger's rule,
               `ledger.aging_start` / `ledger.bucket_for`: current (not yet
               due or up to 30 days past due), 31–60, 61–90, over 90
    credit_on_account = what the client has paid beyond its invoices
    closing  = sum(aging) − credit_on_account
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from invoicing import ledger

KINDS = ("charge", "payment", "refund", "credit", "adjustment")
AGING = ("current", "31_60", "61_90", "over_90")


@dataclass(frozen=True)
class Entry:
    on: date
    kind: str
    amount: int                  # signed effect on what the client owes
    invoice_id: str | None = None
    label: str = ""
    credit_delta: int = 0        # moved from the invoice to the account's credit (+)
    due_on: date | None = None   # a charge's due date (aging counts from it)


@dataclass(frozen=True)
class Statement:
    period_start: date
    period_end: date
    opening_balance: int
    charges: int
    payments: int        # shown as a positive number, subtracted
    refunds: int
    credits: int         # net credit added to the account, subtracted
    adjustments: int     # signed
    closing_balance: int
    aging: dict = field(default_factory=dict)    # bucket -> cents (positive balances)
    credit_on_account: int = 0
    activity: tuple = ()  # ({on, kind, label, amount, balance}, ...) in the period

    @property
    def amount_due(self) -> int:
        return max(self.closing_balance, 0)

    @property
    def has_activity(self) -> bool:
        return bool(self.activity)


def aging_bucket(start: date, as_of: date) -> str:
    """The bucket of an invoice whose aging starts on `start` (its due date,
    else its invoice date: `ledger.aging_start`)."""
    return ledger.bucket_for((as_of - start).days)


def statement(period_start: date, period_end: date, entries) -> Statement:
    """The statement of `entries` (one client's, any order, any dates; those
    after the period are ignored) for the period, both days included."""
    if period_end < period_start:
        raise ValueError("a period cannot end before it starts")
    known = [entry for entry in entries if entry.on <= period_end]
    for entry in known:
        if entry.kind not in KINDS:
            raise ValueError(f"unknown entry kind {entry.kind!r}")
    before = [entry for entry in known if entry.on < period_start]
    during = sorted((entry for entry in known if entry.on >= period_start),
                    key=lambda entry: (entry.on, KINDS.index(entry.kind)))
    opening = sum(entry.amount for entry in before)
    total = {kind: sum(entry.amount for entry in during if entry.kind == kind) for kind in KINDS}
    closing = opening + sum(total.values())
    running, activity = opening, []
    for entry in during:
        running += entry.amount
        activity.append({"on": entry.on.isoformat(), "kind": entry.kind, "label": entry.label,
                         "amount": entry.amount, "balance": running})
    aging, credit = _aging(known, period_end)
    return Statement(period_start, period_end, opening, charges=total["charge"],
                     payments=-total["payment"], refunds=total["refund"],
                     credits=-total["credit"], adjustments=total["adjustment"],
                     closing_balance=closing, aging=aging, credit_on_account=credit,
                     activity=tuple(activity))


def _aging(known, as_of: date) -> tuple[dict, int]:
    """Positive invoice balances by age; whatever is owed the other way
    (credit entries, an overpaid invoice, an entry on no invoice) is credit."""
    balances: dict[str, int] = {}
    aging_from: dict[str, date] = {}
    loose = 0
    for entry in known:
        if entry.invoice_id is None:
            loose += entry.amount
            continue
        balances[entry.invoice_id] = (balances.get(entry.invoice_id, 0) + entry.amount
                                      + entry.credit_delta)
        loose -= entry.credit_delta
        if entry.kind == "charge":
            aging_from[entry.invoice_id] = ledger.aging_start(entry.due_on, entry.on)
    aging = dict.fromkeys(AGING, 0)
    credit = -loose
    for invoice_id, owed in balances.items():
        if owed > 0:
            aging[aging_bucket(aging_from.get(invoice_id, as_of), as_of)] += owed
        else:
            credit -= owed
    return aging, credit
