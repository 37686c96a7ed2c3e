import pytest
from hypothesis import given, strategies as st

from servicekit.money import allocate, format_money, percent_of, require_minor_units

amounts = st.integers(min_value=0, max_value=10**10)


@given(amounts, st.lists(st.integers(min_value=0, max_value=10**6), min_size=1, max_size=30))
def test_allocation_adds_up_to_the_cent(total, weights):
    if sum(weights) == 0:
        weights[0] = 1
    parts = allocate(total, weights)
    assert sum(parts) == total
    assert all(part >= 0 for part in parts)
    exact = [total * w / sum(weights) for w in weights]
    assert all(abs(part - share) < 1 for part, share in zip(parts, exact))


def test_leftover_cents_go_to_largest_remainders_first():
    assert allocate(100, [1, 1, 1]) == [34, 33, 33]
    assert allocate(5, [1, 3]) == [1, 4]


@given(amounts, st.integers(min_value=0, max_value=10_000))
def test_percent_is_rounded_half_up_and_never_exceeds_amount(amount, basis_points):
    part = percent_of(amount, basis_points)
    assert 0 <= part <= amount
    assert abs(part - amount * basis_points / 10_000) <= 0.5


def test_half_a_cent_rounds_up():
    assert percent_of(1, 5_000) == 1      # 50 % of 1 cent
    assert percent_of(333, 1_000) == 33   # 33.3 cents


@pytest.mark.parametrize("bad", [1.5, "10", -1, True, None])
def test_amounts_must_be_whole_non_negative_cents(bad):
    with pytest.raises(ValueError):
        require_minor_units(bad)


def test_format():
    assert format_money(123456) == "$1,234.56"
    assert format_money(5) == "$0.05"
