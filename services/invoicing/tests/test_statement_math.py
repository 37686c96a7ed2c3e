"""A statement's arithmetic: opening + activity = closing, and the aging
adds up to what is owed, to the cent, for any history."""
from datetime import date, datetime, time, timedelta

import pytest
from hypothesis import given, strategies as st

from invoicing.statement_math import Entry, aging_bucket, statement

NOV1, NOV30 = date(2026, 11, 1), date(2026, 11, 30)


def test_a_month_with_a_charge_a_payment_and_a_credit():
    entries = [Entry(date(2026, 10, 5), "charge", 15000, "inv_1", "Invoice INV-000001"),
               Entry(date(2026, 10, 20), "payment", -5000, "inv_1"),
               Entry(date(2026, 11, 3), "charge", 12000, "inv_2", "Invoice INV-000002"),
               Entry(date(2026, 11, 10), "payment", -12000, "inv_2"),
               Entry(date(2026, 11, 10), "credit", -2500),
               Entry(date(2026, 12, 2), "charge", 9900, "inv_3")]          # after the period
    shown = statement(NOV1, NOV30, entries)
    assert shown.opening_balance == 10000
    assert (shown.charges, shown.payments, shown.credits) == (12000, 12000, 2500)
    assert shown.closing_balance == 10000 + 12000 - 12000 - 2500 == 7500
    assert shown.aging == {"current": 0, "31_60": 10000, "61_90": 0, "over_90": 0}
    assert shown.credit_on_account == 2500 and shown.amount_due == 7500
    assert [a["balance"] for a in shown.activity] == [22000, 10000, 7500]


def test_a_refund_reopens_and_a_quiet_month_has_no_activity():
    entries = [Entry(date(2026, 9, 1), "charge", 8000, "inv_1"),
               Entry(date(2026, 9, 2), "payment", -8000, "inv_1"),
               Entry(date(2026, 11, 15), "refund", 3000, "inv_1")]
    assert statement(NOV1, NOV30, entries).closing_balance == 3000
    quiet = statement(date(2026, 10, 1), date(2026, 10, 31), entries)
    assert not quiet.has_activity and quiet.closing_balance == 0


def test_aging_buckets_by_days_since_the_invoice():
    assert [aging_bucket(NOV30 - timedelta(days=d), NOV30) for d in (0, 30, 31, 60, 61, 90, 91)] \
        == ["current", "current", "31_60", "31_60", "61_90", "61_90", "over_90"]


def test_aging_counts_from_the_due_date_as_the_ledger_does():
    """One rule everywhere: from the due date, else the invoice date."""
    from invoicing import ledger
    made = date(2026, 8, 1)                                   # 121 days before Nov 30
    entries = [Entry(made, "charge", 5000, "due_later", due_on=date(2026, 10, 20)),   # 41 days past due
               Entry(made, "charge", 7000, "no_due_date"),                            # 121 days
               Entry(made, "charge", 900, "not_yet_due", due_on=date(2026, 12, 15))]
    shown = statement(NOV1, NOV30, entries)
    assert shown.aging == {"current": 900, "31_60": 5000, "61_90": 0, "over_90": 7000}
    facts = [ledger.InvoiceFacts(e.invoice_id, "", datetime.combine(e.on, time(9)), e.due_on,
                                 e.amount) for e in entries]
    assert ledger.build(facts, [], NOV30).aging == shown.aging


def test_adjustments_write_offs_and_credit_notes_change_the_balance_and_aging():
    """A credit note takes $50 off an invoice paid in full: the $50 paid over
    the new amount moves to the credit; the balance falls by $50 once."""
    entries = [Entry(date(2026, 10, 5), "charge", 15000, "inv_1"),
               Entry(date(2026, 10, 6), "payment", -15000, "inv_1"),
               Entry(date(2026, 11, 2), "adjustment", -5000, "inv_1", "Credit note",
                     credit_delta=5000),
               Entry(date(2026, 11, 3), "charge", 8000, "inv_2"),
               Entry(date(2026, 11, 4), "adjustment", -3000, "inv_2", "Write-off"),
               Entry(date(2026, 11, 5), "adjustment", 1000, "inv_2", "Adjustment")]
    shown = statement(NOV1, NOV30, entries)
    assert (shown.opening_balance, shown.charges, shown.adjustments) == (0, 8000, -7000)
    assert shown.closing_balance == 8000 - 7000 == 1000        # 6000 on inv_2 less 5000 credit
    assert shown.aging["current"] == 6000 and shown.credit_on_account == 5000
    assert [a["balance"] for a in shown.activity] == [-5000, 3000, 0, 1000]


def test_a_period_cannot_end_before_it_starts():
    with pytest.raises(ValueError):
        statement(NOV30, NOV1, [])


days = st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 3, 31))
entry = st.one_of(
    st.builds(Entry, days, st.just("charge"), st.integers(0, 10**7), st.sampled_from(["a", "b", "c"])),
    st.builds(Entry, days, st.just("payment"), st.integers(-10**7, 0), st.sampled_from(["a", "b", "c"])),
    st.builds(Entry, days, st.just("refund"), st.integers(0, 10**6), st.sampled_from(["a", "b"])),
    st.builds(Entry, days, st.just("credit"), st.integers(-10**6, 10**6), st.none()),
    st.builds(Entry, days, st.just("adjustment"), st.integers(-10**6, 10**6),
              st.sampled_from(["a", None])),
    st.builds(Entry, days, st.just("adjustment"), st.integers(-10**6, 0), st.sampled_from(["a", "b"]),
              credit_delta=st.integers(0, 10**6)),
    st.builds(Entry, days, st.just("charge"), st.integers(0, 10**6), st.just("d"),
              due_on=st.one_of(st.none(), days)))


@given(st.lists(entry, max_size=40), days, st.integers(0, 120))
def test_opening_plus_activity_is_closing_and_aging_adds_up(entries, start, length):
    end = start + timedelta(days=length)
    shown = statement(start, end, entries)
    assert shown.closing_balance == (shown.opening_balance + shown.charges - shown.payments
                                     + shown.refunds - shown.credits + shown.adjustments)
    assert shown.closing_balance == sum(e.amount for e in entries if e.on <= end)
    assert shown.opening_balance == sum(e.amount for e in entries if e.on < start)
    assert sum(shown.aging.values()) - shown.credit_on_account == shown.closing_balance
    assert all(amount >= 0 for amount in shown.aging.values())
    final = shown.activity[-1]["balance"] if shown.activity else shown.opening_balance
    assert final == shown.closing_balance


@given(st.lists(entry, max_size=30), days)
def test_next_periods_opening_is_this_periods_closing(entries, start):
    end = start + timedelta(days=29)
    this = statement(start, end, entries)
    following = statement(end + timedelta(days=1), end + timedelta(days=30), entries)
    assert following.opening_balance == this.closing_balance


class _Line:
    def __init__(self, amount, line_discount, share):
        self.amount, self.line_discount, self.discount_share = amount, line_discount, share


class _Invoice:
    def __init__(self, lines, paid):
        self.lines, self.amount_paid = lines, paid
        self.total = sum(line.amount - line.line_discount - line.discount_share for line in lines)


line_st = st.integers(0, 10**6).flatmap(lambda amount: st.builds(
    _Line, st.just(amount), st.integers(0, amount // 2), st.integers(0, amount // 2)))


@given(st.lists(line_st, min_size=1, max_size=8), st.integers(0, 10**7))
def test_a_superbills_paid_amounts_add_up_to_the_invoices_paid_to_the_cent(lines, paid):
    from invoicing.superbills import line_fee, paid_by_line
    invoice = _Invoice(lines, paid)
    shares = paid_by_line(invoice)
    assert sum(shares) == min(paid, invoice.total)
    assert all(0 <= share <= line_fee(line) for share, line in zip(shares, lines))
