"""Invoice arithmetic: lines, discount and total always add up to the cent
and are never negative."""
import pytest
from hypothesis import given, strategies as st

from invoicing.domain import MAX_AMOUNT, Discount, Line, RuleBroken, balance, price, status_after_payment

lines_st = st.lists(
    st.builds(Line, st.just("90834"), st.just("x"), st.integers(1, 999), st.integers(0, 10**5)),
    min_size=1, max_size=20)


@st.composite
def discounts(draw, subtotal):
    kind = draw(st.sampled_from(["none", "percent", "fixed"]))
    if kind == "percent":
        return Discount(kind, draw(st.integers(0, 10_000)))
    if kind == "fixed":
        return Discount(kind, draw(st.integers(0, subtotal)))
    return Discount()


@given(st.data(), lines_st)
def test_totals_add_up_and_are_never_negative(data, lines):
    subtotal = sum(line.amount for line in lines)
    discount = data.draw(discounts(subtotal))
    if subtotal > MAX_AMOUNT:
        with pytest.raises(RuleBroken):
            price(lines, discount)
        return
    totals = price(lines, discount)
    assert totals.subtotal == subtotal
    assert totals.subtotal - totals.discount_amount == totals.total
    assert sum(totals.line_discounts) == totals.discount_amount
    assert 0 <= totals.discount_amount <= totals.subtotal
    assert totals.total >= 0
    for line, share in zip(lines, totals.line_discounts):
        assert 0 <= share <= line.amount


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
    assert totals.line_discounts == (1500, 1200)


def test_fixed_discount_cents_are_shared_without_losing_one():
    totals = price([Line("a", "x", 1, 100)] * 3, Discount("fixed", 100))
    assert totals.line_discounts == (34, 33, 33)
    assert totals.total == 200


@pytest.mark.parametrize("lines, discount, message", [
    ([], Discount(), "at least one service line"),
    ([Line("a", "x", 1, 1000)], Discount("percent", 10_001), "over 100 %"),
    ([Line("a", "x", 1, 1000)], Discount("fixed", 1001), "more than the subtotal"),
    ([Line("a", "x", 1, 1000)], Discount("fixed", -1), "cannot be negative"),
    ([Line("a", "x", 0, 1000)], Discount(), "units must be"),
    ([Line("a", "x", 1, -5)], Discount(), "cannot be negative"),
    ([Line("a", "x", 1, 1000)], Discount("bogus", 1), "discount kind"),
])
def test_rules_that_refuse(lines, discount, message):
    with pytest.raises(RuleBroken, match=message):
        price(lines, discount)
