"""Estimate and Good Faith Estimate rules with no I/O (No Surprises Act,
45 CFR 149.610 and 149.620): business days, when a GFE must be delivered and
whether it was, an estimate's total, and how far what was billed has gone
past the estimate. Money is integer cents.

The dispute rule, as CMS words it: a self-pay patient may dispute a bill that
is "at least $400 more" than the Good Faith Estimate for that provider or
facility. So the threshold is *reached* at $400.00 over (>= 40000 cents), not
only past it; staff are warned before a bill would reach it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from servicekit.money import format_money

KINDS = ("gfe", "estimate")
KIND_WORDS = {"gfe": "Good Faith Estimate", "estimate": "Estimate"}
STATUSES = ("draft", "issued", "approved", "declined", "invoiced")
DECISIONS = {"approve": "approved", "decline": "declined"}
CHANNELS = ("portal", "email")
MAX_UNITS = 999
MAX_TOTAL = 99_999_999
DISPUTE_THRESHOLD = 40_000           # $400.00: "at least $400 more" than the GFE
SHORT_NOTICE_DAYS = 3                # scheduled >= 3 business days ahead: 1 business day
LONG_NOTICE_DAYS = 10                # scheduled >= 10 ahead (or asked for): 3 business days


class RuleBroken(ValueError):
    """The change breaks an estimate rule; the message says which, in words
    for the person at the desk."""


# ---- business days ----------------------------------------------------------

def _nth_weekday(year: int, month: int, weekday: int, n: int) -> date:
    """The n-th `weekday` (Monday 0) of a month; n = -1 for the last one."""
    if n > 0:
        first = date(year, month, 1)
        return first + timedelta(days=(weekday - first.weekday()) % 7 + 7 * (n - 1))
    following = date(year + (month == 12), month % 12 + 1, 1)
    last = following - timedelta(days=1)
    return last - timedelta(days=(last.weekday() - weekday) % 7)


def _observed(day: date) -> date:
    """A fixed-date holiday on a Saturday is observed on Friday, on a Sunday on Monday."""
    if day.weekday() == 5:
        return day - timedelta(days=1)
    if day.weekday() == 6:
        return day + timedelta(days=1)
    return day


def federal_holidays(year: int) -> frozenset[date]:
    """The eleven US federal holidays (5 U.S.C. 6103), as observed."""
    fixed = [date(year, 1, 1), date(year, 6, 19), date(year, 7, 4), date(year, 11, 11),
             date(year, 12, 25)]
    floating = [_nth_weekday(year, 1, 0, 3), _nth_weekday(year, 2, 0, 3),
                _nth_weekday(year, 5, 0, -1), _nth_weekday(year, 9, 0, 1),
                _nth_weekday(year, 10, 0, 2), _nth_weekday(year, 11, 3, 4)]
    observed = {_observed(day) for day in fixed} | set(floating)
    # next New Year's Day on a Saturday is observed on this year's December 31
    if date(year + 1, 1, 1).weekday() == 5:
        observed.add(date(year, 12, 31))
    return frozenset(observed)


def is_business_day(day: date) -> bool:
    return day.weekday() < 5 and day not in federal_holidays(day.year)


def add_business_days(start: date, days: int) -> date:
    """The `days`-th business day after `start` (start itself never counts)."""
    day, left = start, days
    while left > 0:
        day += timedelta(days=1)
        if is_business_day(day):
            left -= 1
    return day


def business_days_between(start: date, end: date) -> int:
    """Business days after `start` up to and including `end` (0 if end <= start)."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_business_day(day)
    return count


# ---- delivery deadline --------------------------------------------------------

def delivery_deadline(scheduled_on: date, first_service_on: date | None,
                      requested: bool) -> date | None:
    """When a Good Faith Estimate must reach the patient (45 CFR 149.610(b)(1)(vi)):
    - service scheduled at least 3 business days ahead: within 1 business day of scheduling;
    - scheduled at least 10 business days ahead: within 3 business days;
    - asked for by the patient (no service scheduled, or one more than 10 days out): within
      3 business days of the request.
    Scheduled fewer than 3 business days ahead and not asked for: none is required (None).
    When both a schedule and a request apply, the earlier deadline binds."""
    ahead = (business_days_between(scheduled_on, first_service_on)
             if first_service_on is not None else None)
    if ahead is not None and SHORT_NOTICE_DAYS <= ahead < LONG_NOTICE_DAYS:
        return add_business_days(scheduled_on, 1)
    if requested or (ahead is not None and ahead >= LONG_NOTICE_DAYS):
        return add_business_days(scheduled_on, 3)
    return None


def delivery_state(deadline: date | None, delivered_on: date | None, today: date) -> str:
    """`not_required`, `due` (not yet delivered, still in time), `late` (not
    delivered, the deadline passed), `on_time` or `delivered_late`."""
    if deadline is None:
        return "not_required"
    if delivered_on is None:
        return "due" if today <= deadline else "late"
    return "on_time" if delivered_on <= deadline else "delivered_late"


STATE_WORDS = {"not_required": "No delivery deadline", "due": "Due", "late": "Late",
               "on_time": "Delivered on time", "delivered_late": "Delivered late"}


# ---- totals ---------------------------------------------------------------------

@dataclass(frozen=True)
class EstimateLine:
    service_code: str
    units: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.units * self.unit_price


def unit_price(default_fee: int, location_fee: int | None) -> int:
    """The catalog's fee at this location if it has one, else its default fee."""
    return default_fee if location_fee is None else location_fee


def total(lines: list[EstimateLine]) -> int:
    if not lines:
        raise RuleBroken("Add at least one service.")
    for line in lines:
        if not 1 <= line.units <= MAX_UNITS:
            raise RuleBroken(f"Units must be between 1 and {MAX_UNITS}.")
        if line.unit_price < 0:
            raise RuleBroken("A fee cannot be negative.")
    amount = sum(line.amount for line in lines)
    if amount > MAX_TOTAL:
        raise RuleBroken("An estimate cannot be over $999,999.99.")
    return amount


# ---- status ---------------------------------------------------------------------

def check_issuable(status: str) -> None:
    if status not in ("draft", "issued"):
        raise RuleBroken(f"This estimate was {status} and cannot be sent again.")


def decided_status(status: str, decision: str) -> str:
    if decision not in DECISIONS:
        raise RuleBroken("Choose approve or decline.")
    if status == "draft":
        raise RuleBroken("This estimate has not been sent yet.")
    if status != "issued":
        raise RuleBroken(f"This estimate was already {status}.")
    return DECISIONS[decision]


def check_invoiceable(status: str) -> None:
    if status == "invoiced":
        raise RuleBroken("An invoice was already created from this estimate.")
    if status != "approved":
        raise RuleBroken("Only an approved estimate can become an invoice.")


# ---- billed versus estimated ---------------------------------------------------

@dataclass(frozen=True)
class Variance:
    estimated: int
    billed: int
    proposed: int

    @property
    def variance(self) -> int:
        """Billed so far minus estimated (negative: still under the estimate)."""
        return self.billed - self.estimated

    @property
    def over(self) -> int:
        """How far past the estimate billing would be with the proposed amount."""
        return self.billed + self.proposed - self.estimated

    @property
    def disputable(self) -> bool:
        """The patient could dispute: at least $400 more than the estimate."""
        return self.over >= DISPUTE_THRESHOLD


def warning(variance: Variance, provider_name: str) -> str:
    """Words for staff when billing would reach the dispute threshold, else ""."""
    if not variance.disputable:
        return ""
    return (f"This would bill {format_money(variance.over)} more than the Good Faith Estimate "
            f"for {provider_name} — at $400 over, the patient may dispute it.")


def estimate_number(sequence: int) -> str:
    return f"EST-{sequence:06d}"
