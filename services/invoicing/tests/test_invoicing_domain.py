"""Invoice arithmetic: lines, their own discounts, the invoice's discount
shared over them and the total always add up to the cent and are never
negative; the rules that refuse name the field at fault in people's words."""
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from invoicing.domain import (MAX_AMOUNT, PAID_LINES, PAYABLE, ZERO_TOTAL, Discount, Line,
                              RuleBroken, balance, check_due_on, check_editable, check_sendable,
                              check_total, price, status_after_payment, status_after_refund)
from servicekit.money import percent_of


@st.composite
def discounts(draw, base):
    kind = draw(st.sampled_from(["none", "percent", "fixed"]))
    if kind == "percent":
        return Discount(kind, draw(st.integers(0, 10_000)))
    if kind == "fixed":
        return Discount(kind, draw(st.integers(0, base)))
    return Discount()


@st.composite
def lines_with_discounts(draw):
    lines = []
    for _ in range(draw(st.integers(1, 20))):
        units, unit_price = draw(st.integers(1, 999)), draw(st.integers(0, 10**5))
        lines.append(Line("90834", "x", units, unit_price, draw(discounts(units * unit_price))))
    return lines


@given(st.data(), lines_with_discounts())
def test_lines_discounts_and_totals_always_add_up(data, lines):
    subtotal = sum(line.amount for line in lines)
    after_own = subtotal - sum(
        percent_of(l.amount, l.discount.value) if l.discount.kind == "percent"
        else l.discount.value if l.discount.kind == "fixed" else 0 for l in lines)
    discount = data.draw(discounts(after_own))
    if subtotal > MAX_AMOUNT:
        with pytest.raises(RuleBroken):
            price(lines, discount)
        return
    totals = price(lines, discount)
    assert totals.subtotal == subtotal
    assert totals.subtotal - totals.line_discounts - totals.invoice_discount == totals.total
    assert totals.subtotal - totals.discount_amount == totals.total
    assert sum(totals.shares) == totals.invoice_discount
    assert sum(p.net for p in totals.lines) == totals.total
    assert sum(p.line_discount for p in totals.lines) == totals.line_discounts
    assert totals.subtotal - totals.line_discounts == after_own
    for line, priced in zip(lines, totals.lines):
        assert priced.amount == line.amount
        assert 0 <= priced.line_discount <= line.amount
        # a share never takes more than what the line comes to after its own discount
        assert 0 <= priced.discount_share <= line.amount - priced.line_discount
        assert priced.net >= 0


@given(st.lists(st.integers(1, 10**5), min_size=1, max_size=30), st.integers(0, 10_000))
def test_a_percentage_discount_is_rounded_half_up_on_what_the_lines_come_to(prices, bp):
    lines = [Line("a", "x", 1, p) for p in prices]
    totals = price(lines, Discount("percent", bp))
    exact_twice = sum(prices) * bp * 2 / 10_000   # in half-cents
    assert totals.invoice_discount == (sum(prices) * bp * 2 + 10_000) // 20_000
    assert abs(totals.invoice_discount * 2 - exact_twice) <= 1


@given(st.integers(1, 10**6), st.integers(0, 10_000))
def test_a_line_percentage_rounds_half_up(amount, bp):
    totals = price([Line("a", "x", 1, amount, Discount("percent", bp))], Discount())
    assert totals.line_discounts == (amount * bp * 2 + 10_000) // 20_000


@given(st.lists(st.integers(1, 10**5), min_size=1, max_size=30), st.data())
def test_shares_follow_the_lines_within_a_cent(prices, data):
    fixed = data.draw(st.integers(0, sum(prices)))
    totals = price([Line("a", "x", 1, p) for p in prices], Discount("fixed", fixed))
    for p, share in zip(prices, totals.shares):
        assert abs(share - fixed * p / sum(prices)) < 1


@given(st.integers(0, 10**8), st.integers(0, 10**8))
def test_balance_never_negative_and_status_follows_it(total, paid):
    assert balance(total, paid) >= 0
    assert (status_after_payment(total, paid) == "paid") == (balance(total, paid) == 0)


def test_an_invoice_cannot_exceed_the_largest_charge():
    price([Line("a", "x", 1, 99_999_999)], Discount())
    with pytest.raises(RuleBroken, match="over \\$999,999.99"):
        price([Line("a", "x", 2, 50_000_000)], Discount())


def test_ten_percent_off_two_lines():
    totals = price([Line("90834", "x", 1, 15000), Line("90853", "y", 2, 6000)],
                   Discount("percent", 1000))
    assert (totals.subtotal, totals.discount_amount, totals.total) == (27000, 2700, 24300)
    assert totals.shares == (1500, 1200)


def test_fixed_discount_cents_are_shared_without_losing_one():
    totals = price([Line("a", "x", 1, 100)] * 3, Discount("fixed", 100))
    assert totals.shares == (34, 33, 33)
    assert totals.total == 200


def test_the_invoice_discount_applies_after_the_lines_own():
    lines = [Line("a", "x", 1, 10000, Discount("fixed", 4000)), Line("b", "y", 1, 5000)]
    totals = price(lines, Discount("percent", 1000))
    # lines come to 60.00 + 50.00 = 110.00; 10 % of that is 11.00, shared 6.00 / 5.00
    assert (totals.line_discounts, totals.invoice_discount, totals.total) == (4000, 1100, 9900)
    assert totals.shares == (600, 500)
    assert [p.net for p in totals.lines] == [5400, 4500]


def test_a_fully_discounted_line_takes_no_share():
    lines = [Line("a", "x", 1, 10000, Discount("percent", 10_000)), Line("b", "y", 1, 5000)]
    totals = price(lines, Discount("fixed", 5000))
    assert totals.shares == (0, 5000) and totals.total == 0


@pytest.mark.parametrize("lines, discount, field, message", [
    ([], Discount(), "lines", "Add at least one service"),
    ([Line("a", "x", 1, 1000)], Discount("percent", 10_001), "discount_value", "over 100 %"),
    ([Line("a", "x", 1, 1000)], Discount("fixed", 1001), "discount_value",
     "more than the invoice"),
    ([Line("a", "x", 1, 1000)], Discount("fixed", -1), "discount_value", "cannot be negative"),
    ([Line("a", "x", 0, 1000)], Discount(), "line1_units", "Enter units from 1 to 999 on line 1"),
    ([Line("a", "x", 1, -5)], Discount(), "line1_price", "cannot be negative"),
    ([Line("a", "x", 1, 1000)], Discount("bogus", 1), "discount_kind", "Choose a kind"),
    ([Line("a", "x", 1, 1000), Line("b", "y", 1, 500, Discount("fixed", 501))], Discount(),
     "line2_discount", r"The discount on line 2 is more than the line \(\$5.00\)"),
    ([Line("b", "y", 1, 500, Discount("percent", 10_001), row=7)], Discount(),
     "line7_discount", "The discount on line 7 cannot be over 100 %"),
])
def test_rules_that_refuse_name_the_field(lines, discount, field, message):
    with pytest.raises(RuleBroken, match=message) as refused:
        price(lines, discount)
    assert field in refused.value.errors


def test_every_line_problem_is_named_at_once():
    with pytest.raises(RuleBroken) as refused:
        price([Line("a", "x", 0, 100), Line("b", "y", 1, 100, Discount("fixed", 200))], Discount())
    assert set(refused.value.errors) == {"line1_units", "line2_discount"}


def test_a_zero_invoice_is_refused_unless_no_charge():
    with pytest.raises(RuleBroken) as refused:
        check_total(0, no_charge=False)
    assert refused.value.errors == {"lines": ZERO_TOTAL}
    check_total(0, no_charge=True)
    with pytest.raises(RuleBroken, match="must come to \\$0.00"):
        check_total(100, no_charge=True)
    with pytest.raises(RuleBroken, match="no-charge invoice is not sent"):
        check_sendable("open", 0, no_charge=True)


def test_a_due_date_at_most_a_year_ago():
    today = date(2026, 12, 1)
    check_due_on(None, today)
    check_due_on(today - timedelta(days=365), today)
    check_due_on(today + timedelta(days=900), today)
    with pytest.raises(RuleBroken, match="at most a year in the past"):
        check_due_on(today - timedelta(days=366), today)


def test_open_invoices_are_for_staff_until_sent():
    assert "open" in PAYABLE["staff"]
    assert all("open" not in PAYABLE[c] for c in ("portal", "pay_link", "autopay"))
    check_sendable("open", 100)
    assert status_after_refund(1000, 0, was_sent=False) == "open"


def test_lines_with_a_payment_go_through_adjustments():
    check_editable("sent", 1000, 0)
    for status, paid in (("partially_paid", 100), ("paid", 1000), ("sent", 100)):
        with pytest.raises(RuleBroken, match="Add an adjustment") as refused:
            check_editable(status, 1000, paid)
        assert str(refused.value) == PAID_LINES
