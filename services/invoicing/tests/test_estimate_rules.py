"""Good Faith Estimate rules: business days, delivery deadlines, totals and
the $400 dispute threshold (properties over many dates and amounts)."""
from datetime import date, timedelta

import pytest
from hypothesis import example, given, strategies as st

from invoicing import estimate_rules as rules
from invoicing import gfe_notice

days = st.dates(min_value=date(2024, 1, 1), max_value=date(2030, 12, 31))


@pytest.mark.parametrize("holiday", [date(2026, 1, 1), date(2026, 1, 19), date(2026, 2, 16),
                                     date(2026, 5, 25), date(2026, 6, 19), date(2026, 7, 3),
                                     date(2026, 9, 7), date(2026, 10, 12), date(2026, 11, 11),
                                     date(2026, 11, 26), date(2026, 12, 25), date(2027, 12, 31)])
def test_federal_holidays_as_observed_are_not_business_days(holiday):
    # 2026-07-04 is a Saturday (observed Friday the 3rd); 2028-01-01 is a Saturday too
    assert not rules.is_business_day(holiday)


def test_a_gfe_for_a_service_next_week_is_due_the_next_business_day():
    # scheduled Friday 2026-11-20 for Monday 11-30 (5 business days ahead; Thanksgiving skipped)
    assert rules.delivery_deadline(date(2026, 11, 20), date(2026, 11, 30), False) == date(2026, 11, 23)
    # scheduled Wednesday 11-25: the next business day is Friday (Thursday is Thanksgiving)
    assert rules.delivery_deadline(date(2026, 11, 25), date(2026, 12, 4), False) == date(2026, 11, 27)


def test_far_ahead_or_requested_gives_three_business_days_and_short_notice_none():
    assert rules.delivery_deadline(date(2026, 12, 1), date(2026, 12, 31), False) == date(2026, 12, 4)
    assert rules.delivery_deadline(date(2026, 12, 1), None, True) == date(2026, 12, 4)
    assert rules.delivery_deadline(date(2026, 12, 1), date(2026, 12, 3), False) is None
    assert rules.delivery_deadline(date(2026, 12, 1), date(2026, 12, 3), True) == date(2026, 12, 4)


@given(days, st.integers(min_value=0, max_value=40))
@example(date(2024, 11, 8), 37)   # four holidays between: 59 calendar days
def test_adding_business_days_lands_on_a_business_day_that_many_days_on(start, n):
    end = rules.add_business_days(start, n)
    assert rules.business_days_between(start, end) == n
    assert end >= start and (n == 0 or rules.is_business_day(end))
    # every calendar day after the start is a business day, a weekend day or a
    # weekday holiday, and the end is the n-th business day (nothing skipped)
    after = [start + timedelta(days=k) for k in range(1, (end - start).days + 1)]
    holidays = federal_holidays_over(start, end)
    skipped = [d for d in after if d.weekday() >= 5 or d in holidays]
    assert (end - start).days == n + len(skipped)


def federal_holidays_over(start, end):
    return set().union(*(rules.federal_holidays(year) for year in range(start.year, end.year + 1)))


@given(days, st.integers(min_value=0, max_value=60), st.booleans())
def test_the_deadline_follows_how_far_ahead_the_service_is(scheduled, ahead_days, requested):
    service = scheduled + timedelta(days=ahead_days)
    ahead = rules.business_days_between(scheduled, service)
    deadline = rules.delivery_deadline(scheduled, service, requested)
    if 3 <= ahead < 10:
        assert deadline == rules.add_business_days(scheduled, 1)
    elif ahead >= 10 or requested:
        assert deadline == rules.add_business_days(scheduled, 3)
    else:
        assert deadline is None
    if deadline is not None:
        assert deadline > scheduled and rules.is_business_day(deadline)
        # the estimate always arrives before the first service when it was due
        assert ahead < 3 or deadline < service


@given(days, days, days)
def test_delivery_state_is_due_until_the_deadline_passes(deadline, delivered, today):
    assert rules.delivery_state(deadline, None, today) == ("due" if today <= deadline else "late")
    assert rules.delivery_state(deadline, delivered, today) == (
        "on_time" if delivered <= deadline else "delivered_late")
    assert rules.delivery_state(None, None, today) == "not_required"


lines = st.lists(st.builds(rules.EstimateLine, st.just("90834"), st.integers(1, 999),
                           st.integers(0, 100_000)), min_size=1, max_size=20)


@given(lines)
def test_the_total_is_units_times_fee_summed_in_cents(estimate_lines):
    expected = sum(line.units * line.unit_price for line in estimate_lines)
    if expected > rules.MAX_TOTAL:
        with pytest.raises(rules.RuleBroken):
            rules.total(estimate_lines)
    else:
        assert rules.total(estimate_lines) == expected


def test_a_location_fee_replaces_the_default_fee():
    assert rules.unit_price(15000, 12000) == 12000
    assert rules.unit_price(15000, None) == 15000
    assert rules.unit_price(15000, 0) == 0


amounts = st.integers(min_value=0, max_value=10_000_000)


@given(amounts, amounts, amounts)
def test_the_warning_comes_exactly_when_billing_would_reach_400_over(estimated, billed, proposed):
    figures = rules.Variance(estimated, billed, proposed)
    assert figures.variance == billed - estimated
    assert figures.over == billed + proposed - estimated
    text = rules.warning(figures, "Dr. Rivera")
    assert bool(text) == (billed + proposed - estimated >= 40_000)
    if text:
        assert "Dr. Rivera" in text and "$400" in text


def test_the_threshold_is_reached_at_400_dollars_not_only_past_it():
    assert rules.warning(rules.Variance(50_000, 89_999, 0), "Dr. Rivera") == ""
    assert rules.warning(rules.Variance(50_000, 50_000, 40_000), "Dr. Rivera") == (
        "This would bill $400.00 more than the Good Faith Estimate for Dr. Rivera — at $400 "
        "over, the patient may dispute it.")


def test_decisions_and_invoicing_follow_the_status():
    assert rules.decided_status("issued", "approve") == "approved"
    assert rules.decided_status("issued", "decline") == "declined"
    for status, decision in [("draft", "approve"), ("approved", "decline"), ("issued", "maybe")]:
        with pytest.raises(rules.RuleBroken):
            rules.decided_status(status, decision)
    rules.check_invoiceable("approved")
    for status in ("draft", "issued", "declined", "invoiced"):
        with pytest.raises(rules.RuleBroken):
            rules.check_invoiceable(status)


def test_the_gfe_wording_is_versioned_and_names_the_dispute_process():
    words = gfe_notice.wording(gfe_notice.CURRENT, "gfe")
    text = " ".join(words["right_to_estimate"] + words["disclaimer"])
    assert "You have the right to receive a “Good Faith Estimate”" in text
    assert "at least $400 more" in text and "120 calendar days" in text
    assert "www.cms.gov/nosurprises" in text
    assert gfe_notice.wording(gfe_notice.CURRENT, "estimate")["right_to_estimate"] == []
