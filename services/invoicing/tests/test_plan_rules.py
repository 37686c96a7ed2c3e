"""Installment schedules: amounts always add up to the balance and differ by
at most a cent (earlier ones take the extra cents); monthly dates keep their
day, clamped to the month's end; retries follow the configured days."""
from datetime import date, timedelta

import pytest
from hypothesis import given, strategies as st

from invoicing.plan_rules import (
    FREQUENCIES, PlanRuleBroken, add_months, allocate_oldest_first, amounts, check_amounts,
    due_dates, next_retry, plan_status_after, retry_days, schedule, stuck_hours,
)

TODAY = date(2026, 12, 1)
days_st = st.dates(min_value=date(2026, 1, 1), max_value=date(2030, 12, 31))


@given(st.integers(0, 10**8), st.integers(1, 36))
def test_amounts_add_up_differ_by_a_cent_and_earlier_take_the_extra(total, count):
    parts = amounts(total, count)
    assert sum(parts) == total and len(parts) == count
    assert max(parts) - min(parts) <= 1
    assert parts == sorted(parts, reverse=True)


@given(st.integers(100, 10**8), st.integers(2, 36), st.sampled_from(sorted(FREQUENCIES)), days_st)
def test_a_schedule_sums_to_the_balance_with_dates_in_order(total, count, frequency, first):
    if total < 50 * count:
        return
    planned = schedule(total, count, frequency, first, today=first)
    assert sum(p.amount for p in planned) == total
    assert [p.number for p in planned] == list(range(1, count + 1))
    assert planned[0].due_on == first
    dates = [p.due_on for p in planned]
    assert dates == sorted(set(dates))
    if frequency != "monthly":
        step = 7 if frequency == "weekly" else 14
        assert all((b - a).days == step for a, b in zip(dates, dates[1:]))


@given(days_st, st.integers(1, 36))
def test_monthly_dates_keep_the_day_or_the_months_last_day(first, count):
    for n, day in enumerate(due_dates(first, count, "monthly")):
        assert (day.year * 12 + day.month) - (first.year * 12 + first.month) == n
        assert day.day == first.day or (day.day < first.day and (day + timedelta(days=1)).day == 1)


def test_month_end_clamps_and_comes_back():
    assert due_dates(date(2027, 1, 31), 3, "monthly") == [
        date(2027, 1, 31), date(2027, 2, 28), date(2027, 3, 31)]
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 11, 30), 2) == date(2027, 1, 30)


@pytest.mark.parametrize("total,count,frequency,first,field", [
    (30000, 1, "monthly", TODAY, "installments"),
    (30000, 37, "monthly", TODAY, "installments"),
    (30000, 3, "daily", TODAY, "frequency"),
    (30000, 3, "monthly", TODAY - timedelta(days=1), "first_due_on"),
    (100, 3, "monthly", TODAY, "installments"),
])
def test_a_bad_plan_names_the_field(total, count, frequency, first, field):
    with pytest.raises(PlanRuleBroken) as broken:
        schedule(total, count, frequency, first, TODAY)
    assert broken.value.field == field


def test_typed_amounts_must_add_up_to_the_balance():
    check_amounts(30000, [10000, 10000, 10000])
    with pytest.raises(PlanRuleBroken, match="add up") as broken:
        check_amounts(30000, [10000, 10000, 9999])
    assert broken.value.field == "amounts"


@given(st.integers(0, 10**6), st.lists(st.integers(0, 10**5), max_size=6))
def test_allocation_oldest_first_never_overpays(amount, balances):
    named = [(f"inv_{n}", b) for n, b in enumerate(balances)]
    shares = allocate_oldest_first(amount, named)
    assert sum(s for _, s in shares) == min(amount, sum(balances))
    for invoice_id, share in shares:
        assert 0 < share <= dict(named)[invoice_id]


def test_retry_schedule_from_the_setting():
    assert retry_days("") == (1, 3, 7) and retry_days("2, 5") == (2, 5)
    assert retry_days("x") == (1, 3, 7) and retry_days("0,1") == (1, 3, 7)
    days = (1, 3, 7)
    assert next_retry(1, TODAY, days) == TODAY + timedelta(days=1)
    assert next_retry(3, TODAY, days) == TODAY + timedelta(days=7)
    assert next_retry(4, TODAY, days) is None


def test_a_plan_completes_when_nothing_is_left_to_charge():
    assert plan_status_after(["paid", "cancelled"], "active") == "completed"
    assert plan_status_after(["paid", "scheduled"], "active") == "active"
    assert plan_status_after(["paid", "paid"], "cancelled") == "cancelled"


def test_the_stuck_charge_setting_falls_back_to_six_hours():
    assert stuck_hours("2.5") == 2.5
    assert [stuck_hours(raw) for raw in ("", "0", "-3", "soon", "nan", "inf")] == [6.0] * 6
