"""Payment plan rules with no I/O: the installment schedule from a balance
(amounts that always add up to the balance, dates by frequency) and the
retry schedule after a failed charge. All money is integer cents."""
from __future__ import annotations

import calendar
import os
from dataclasses import dataclass
from datetime import date, timedelta

FREQUENCIES = {"weekly": "Weekly", "biweekly": "Every two weeks", "monthly": "Monthly"}
MIN_INSTALLMENTS, MAX_INSTALLMENTS = 2, 36
MIN_INSTALLMENT = 50           # Stripe's smallest card charge: $0.50
MAX_DAYS_TO_FIRST = 366
DEFAULT_RETRY_DAYS = (1, 3, 7)
DEFAULT_STUCK_HOURS = 6.0
CONSENT_VERSION = "plan-autopay-v1"


class PlanRuleBroken(ValueError):
    """The plan asked for breaks a rule; `field` says which input."""

    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Planned:
    number: int
    due_on: date
    amount: int


def amounts(total: int, count: int) -> list[int]:
    """`count` amounts that add up to `total` exactly; they differ by at
    most a cent and the earlier ones take the extra cents."""
    if count < 1:
        raise ValueError("count must be at least 1")
    base, extra = divmod(total, count)
    return [base + 1 if n < extra else base for n in range(count)]


def add_months(day: date, months: int, anchor_day: int | None = None) -> date:
    """`months` later on the anchor day, clamped to the month's end
    (Jan 31 → Feb 28/29 → Mar 31: the anchor is kept, not the clamped day)."""
    anchor = anchor_day or day.day
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    return date(year, month, min(anchor, calendar.monthrange(year, month)[1]))


def due_dates(first: date, count: int, frequency: str) -> list[date]:
    if frequency == "weekly":
        return [first + timedelta(weeks=n) for n in range(count)]
    if frequency == "biweekly":
        return [first + timedelta(weeks=2 * n) for n in range(count)]
    if frequency == "monthly":
        return [add_months(first, n, first.day) for n in range(count)]
    raise ValueError(f"unknown frequency {frequency!r}")


def schedule(total: int, count: int, frequency: str, first: date, today: date) -> list[Planned]:
    """The installments, or PlanRuleBroken naming the field at fault."""
    if frequency not in FREQUENCIES:
        raise PlanRuleBroken("frequency", "Choose how often to charge.")
    if isinstance(count, bool) or not isinstance(count, int) or \
            not MIN_INSTALLMENTS <= count <= MAX_INSTALLMENTS:
        raise PlanRuleBroken("installments", f"Choose between {MIN_INSTALLMENTS} and "
                                             f"{MAX_INSTALLMENTS} installments.")
    if first < today:
        raise PlanRuleBroken("first_due_on", "The first payment date cannot be in the past.")
    if total < MIN_INSTALLMENT * count:
        raise PlanRuleBroken("installments", "Each installment must be at least $0.50: "
                                             "choose fewer installments.")
    return [Planned(n, day, amount) for n, (day, amount) in
            enumerate(zip(due_dates(first, count, frequency), amounts(total, count)), start=1)]


def check_amounts(total: int, given: list[int]) -> None:
    """Installment amounts a person typed must add up to the balance."""
    if sum(given) != total:
        raise PlanRuleBroken("amounts", "The installments must add up to the balance "
                                        "being paid.")
    if any(amount < MIN_INSTALLMENT for amount in given):
        raise PlanRuleBroken("amounts", "Each installment must be at least $0.50.")


def allocate_oldest_first(amount: int, balances: list[tuple[str, int]]) -> list[tuple[str, int]]:
    """Spread a charge over invoices (oldest first) without overpaying any;
    what cannot be placed is left out (the caller charges only the sum)."""
    shares = []
    for invoice_id, balance in balances:
        share = min(amount, max(balance, 0))
        if share > 0:
            shares.append((invoice_id, share))
            amount -= share
    return shares


def retry_days(raw: str | None = None) -> tuple[int, ...]:
    """Days after a failed charge to try again (CAIRN_INSTALLMENT_RETRY_DAYS,
    "1,3,7": one day after the first failure, then 3, then 7)."""
    raw = os.environ.get("CAIRN_INSTALLMENT_RETRY_DAYS", "") if raw is None else raw
    try:
        days = tuple(int(part) for part in raw.split(",") if part.strip())
    except ValueError:
        return DEFAULT_RETRY_DAYS
    return days if all(d > 0 for d in days) and raw.strip() else DEFAULT_RETRY_DAYS


def stuck_hours(raw: str | None = None) -> float:
    """CAIRN_AUTOPAY_STUCK_HOURS (default 6): how long a charge may go
    unanswered before the plan needs attention."""
    raw = os.environ.get("CAIRN_AUTOPAY_STUCK_HOURS", "") if raw is None else raw
    try:
        hours = float(raw)
    except ValueError:
        return DEFAULT_STUCK_HOURS
    return hours if 0 < hours < float("inf") else DEFAULT_STUCK_HOURS


def next_retry(failed_attempts: int, failed_on: date, days: tuple[int, ...]) -> date | None:
    """When to charge again after the `failed_attempts`-th failure, or None
    when the retries are used up (the plan then needs attention)."""
    if failed_attempts < 1 or failed_attempts > len(days):
        return None
    return failed_on + timedelta(days=days[failed_attempts - 1])


def plan_status_after(installment_statuses: list[str], current: str) -> str:
    """A plan is completed once nothing is left to charge."""
    if current in ("cancelled", "awaiting_signature"):
        return current
    if installment_statuses and all(s in ("paid", "cancelled") for s in installment_statuses):
        return "completed"
    return current
