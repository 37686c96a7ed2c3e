"""The ledger's arithmetic: whatever happens to a client's invoices (payments,
refunds, adjustments, write-offs, credit notes, credit applied and refunded,
bank payments pending, voids), the aging buckets add up to what the open
invoices owe, the running balance ends at the balance, and the order of
entries does not depend on the order the facts were read in."""
import random
from datetime import date, datetime, timedelta

import pytest
from hypothesis import given, settings, strategies as st

from invoicing.ledger import BUCKETS, InvoiceFacts, Movement, bucket_for, build, ledger_out

TODAY = date(2026, 12, 1)
START = datetime(2026, 6, 1, 9, 0)


@pytest.mark.parametrize("days, bucket", [
    (-10, "current"), (0, "current"), (30, "current"), (31, "31_60"), (60, "31_60"),
    (61, "61_90"), (90, "61_90"), (91, "over_90"), (400, "over_90")])
def test_the_buckets_start_after_30_60_and_90_days_past_due(days, bucket):
    assert bucket_for(days) == bucket


def test_an_invoice_without_a_due_date_ages_from_its_date():
    invoices = [InvoiceFacts("a", "INV-1", datetime(2026, 10, 15), None, 5000),
                InvoiceFacts("b", "INV-2", datetime(2026, 7, 1), date(2026, 11, 20), 7000),
                InvoiceFacts("c", "INV-3", datetime(2026, 6, 1), None, 100, void=True)]
    ledger = build(invoices, [], TODAY)
    assert ledger.aging == {"current": 7000, "31_60": 5000, "61_90": 0, "over_90": 0}
    assert [row["bucket"] for row in ledger_out(ledger)["aging"]] == list(BUCKETS)


@st.composite
def histories(draw):
    """Invoices and what happened to them, following invoicing's rules (no
    payment over what is due, no refund over what was paid, …), with the
    state a careful bookkeeper would have at the end."""
    count = draw(st.integers(1, 5))
    invoices, owed, paid, void = [], {}, {}, set()
    for n in range(count):
        created = START + timedelta(days=draw(st.integers(0, 170)))
        due = draw(st.one_of(st.none(), st.dates(date(2026, 6, 1), date(2027, 1, 31))))
        total = draw(st.integers(0, 100_000))
        invoices.append(InvoiceFacts(f"inv_{n}", f"INV-{n:06d}", created, due, total))
        owed[f"inv_{n}"], paid[f"inv_{n}"] = total, 0
    moves, credit = [], 0
    steps = draw(st.integers(0, 25))
    at = START
    for step in range(steps):
        # often the same instant as the step before: ties must still order stably
        at += timedelta(minutes=draw(st.sampled_from([0, 0, 1, 60 * 24 * 7])))
        inv = draw(st.sampled_from(sorted(owed)))
        due_now = owed[inv] - paid[inv]
        kind = draw(st.sampled_from(["payment", "refund", "adjustment", "write_off",
                                     "credit_note", "credit_applied", "credit_refund",
                                     "pending", "void"]))
        key = f"m{step}"
        if inv in void and kind != "credit_refund":
            continue
        if kind == "payment" and due_now > 0:
            x = draw(st.integers(1, due_now))
            left = draw(st.integers(0, 5000))
            paid[inv] += x
            moves.append(Movement(at, "payment", key, x, inv, -x))
            if left:
                credit += left
                moves.append(Movement(at, "credit", key + "c", left, None, 0, left))
        elif kind == "refund" and paid[inv] > 0:
            x = draw(st.integers(1, paid[inv]))
            paid[inv] -= x
            moves.append(Movement(at, "refund", key, x, inv, x))
        elif kind == "adjustment":
            d = draw(st.integers(paid[inv] - owed[inv], 50_000))
            if d:
                owed[inv] += d
                moves.append(Movement(at, "adjustment", key, abs(d), inv, d))
        elif kind == "write_off" and due_now > 0:
            x = draw(st.integers(1, due_now))
            owed[inv] -= x
            moves.append(Movement(at, "write_off", key, x, inv, -x))
        elif kind == "credit_note" and owed[inv] > 0:
            x = draw(st.integers(1, owed[inv]))
            owed[inv] -= x
            moved = max(paid[inv] - owed[inv], 0)
            paid[inv] -= moved
            credit += moved
            moves.append(Movement(at, "credit_note", key, x, inv, -x + moved, moved))
        elif kind == "credit_applied" and credit > 0 and due_now > 0:
            x = draw(st.integers(1, min(credit, due_now)))
            paid[inv] += x
            credit -= x
            moves.append(Movement(at, "credit_applied", key, x, inv, -x, -x))
        elif kind == "credit_refund" and credit > 0:
            x = draw(st.integers(1, credit))
            credit -= x
            moves.append(Movement(at, "credit_refund", key, x, None, 0, -x))
        elif kind == "pending" and due_now > 0:
            moves.append(Movement(at, "pending", key, draw(st.integers(1, due_now)), inv))
        elif kind == "void" and paid[inv] == 0:
            moves.append(Movement(at, "void", key, owed[inv], inv, -owed[inv]))
            void.add(inv)
    invoices = [InvoiceFacts(i.id, i.number, i.created_at, i.due_on, i.total, i.id in void)
                for i in invoices]
    open_ = {i: (0 if i in void else owed[i] - paid[i]) for i in owed}
    return invoices, moves, open_, credit


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_buckets_add_up_to_what_the_open_invoices_owe(history):
    invoices, moves, open_, credit = history
    ledger = build(invoices, moves, TODAY)
    assert ledger.open_by_invoice == open_
    assert sum(ledger.aging.values()) == ledger.open_balance == sum(open_.values())
    assert all(amount >= 0 for amount in ledger.aging.values())
    assert ledger.credit == credit


@settings(max_examples=300, deadline=None)
@given(histories())
def test_the_running_balance_ends_at_the_balance(history):
    invoices, moves, open_, credit = history
    ledger = build(invoices, moves, TODAY)
    assert ledger.balance == sum(open_.values()) - credit
    assert ledger.entries[-1].running == ledger.balance
    running = 0
    for entry in ledger.entries:
        running += entry.effect
        assert entry.running == running
    pending = [e for e in ledger.entries if e.kind == "pending"]
    assert all(e.effect == 0 for e in pending)     # shown, not in the balance
    assert ledger.pending == sum(e.amount for e in pending)


@settings(max_examples=200, deadline=None)
@given(histories(), st.randoms(use_true_random=False))
def test_the_order_does_not_depend_on_the_order_things_were_read(history, rnd: random.Random):
    invoices, moves, _, _ = history
    first = build(invoices, moves, TODAY)
    shuffled_moves, shuffled_invoices = list(moves), list(invoices)
    rnd.shuffle(shuffled_moves)
    rnd.shuffle(shuffled_invoices)
    again = build(shuffled_invoices, shuffled_moves, TODAY)
    assert again.entries == first.entries
    dates = [entry.at for entry in first.entries]
    assert dates == sorted(dates)
    # a charge comes before anything else that happened to its invoice at the same time
    seen = set()
    for entry in first.entries:
        if entry.kind == "charge":
            seen.add(entry.invoice_id)
        elif entry.invoice_id:
            assert entry.invoice_id in seen or entry.at < next(
                i.created_at for i in invoices if i.id == entry.invoice_id)


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(["adjustment", "write_off", "credit_note"]), st.integers(-200_000, 200_000),
       st.integers(0, 100_000), st.integers(0, 100_000))
def test_a_change_never_leaves_less_owed_than_paid_nor_makes_money(kind, amount, owed, paid):
    """Whatever is accepted: what is owed stays at or above what stays paid,
    the credit note moves no more than it takes off, and the status says
    whether anything is still due."""
    from servicekit.errors import InvalidFields
    from invoicing.adjustments import check_change, status_for
    paid = min(paid, owed)
    try:
        change, credited = check_change(kind, amount, owed, paid, "INV-000001")
    except InvalidFields as refused:
        assert set(refused.errors) == {"amount"}
        return
    new_owed, new_paid = owed + change, paid - credited
    assert new_owed >= new_paid >= 0 and 0 <= credited <= abs(change)
    if kind == "write_off":
        assert 0 < -change <= owed - paid
    status = status_for(new_owed, new_paid, was_sent=True)
    assert (status in ("paid", "closed")) == (new_owed == new_paid)
    assert (status == "closed") == (new_owed == new_paid == 0)


def test_an_adjusted_invoice_keeps_its_place_finalized_invoices_never_become_drafts():
    from invoicing.adjustments import status_for
    assert status_for(5000, 0, was_sent=False, current="open") == "open"
    assert status_for(5000, 0, was_sent=False, current="closed") == "open"    # reopened
    assert status_for(5000, 0, was_sent=False, current="draft") == "draft"
    assert status_for(5000, 0, was_sent=True, current="closed") == "sent"
    assert status_for(5000, 1000, was_sent=False, current="open") == "partially_paid"
    assert status_for(0, 0, was_sent=False, current="open") == "closed"
