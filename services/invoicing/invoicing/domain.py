"""Invoice rules with no I/O: line amounts, discounts, totals, balance and the
status an invoice is in. All money is integer cents."""
from __future__ import annotations

from dataclasses import dataclass

from servicekit.money import allocate, format_money, percent_of

MAX_UNITS = 999
MAX_AMOUNT = 99_999_999  # $999,999.99: Stripe's largest charge, and well inside a 32-bit column
FULL_PERCENT_BP = 10_000
PAYMENT_TYPES = ("private_pay", "copay", "coinsurance", "deductible", "sliding_scale")
DISCOUNT_KINDS = ("none", "percent", "fixed")
EDITABLE = ("draft", "sent")
SENDABLE = ("draft", "sent", "partially_paid")


class RuleBroken(ValueError):
    """The requested change breaks an invoice rule; the message says which."""


@dataclass(frozen=True)
class Line:
    service_code: str
    description: str
    units: int
    unit_price: int

    @property
    def amount(self) -> int:
        return self.units * self.unit_price


@dataclass(frozen=True)
class Discount:
    kind: str = "none"
    value: int = 0  # basis points for percent (10 % = 1000), cents for fixed


@dataclass(frozen=True)
class Totals:
    subtotal: int
    discount_amount: int
    total: int
    line_discounts: tuple[int, ...]


def price(lines: list[Line], discount: Discount) -> Totals:
    if not lines:
        raise RuleBroken("an invoice needs at least one service line")
    for line in lines:
        if not 1 <= line.units <= MAX_UNITS:
            raise RuleBroken(f"units must be between 1 and {MAX_UNITS}")
        if line.unit_price < 0:
            raise RuleBroken("a unit price cannot be negative")
    subtotal = sum(line.amount for line in lines)
    if subtotal > MAX_AMOUNT:
        raise RuleBroken("an invoice cannot be over $999,999.99")
    discount_amount = discount_for(subtotal, discount)
    weights = [line.amount for line in lines]
    shares = allocate(discount_amount, weights) if subtotal else [0] * len(lines)
    return Totals(subtotal, discount_amount, subtotal - discount_amount, tuple(shares))


def discount_for(subtotal: int, discount: Discount) -> int:
    if discount.kind not in DISCOUNT_KINDS:
        raise RuleBroken(f"discount kind must be one of {', '.join(DISCOUNT_KINDS)}")
    if discount.value < 0:
        raise RuleBroken("a discount cannot be negative")
    if discount.kind == "none":
        return 0
    if discount.kind == "percent":
        if discount.value > FULL_PERCENT_BP:
            raise RuleBroken("a percentage discount cannot be over 100 %")
        return percent_of(subtotal, discount.value)
    if discount.value > subtotal:
        raise RuleBroken("a fixed discount cannot be more than the subtotal")
    return discount.value


def balance(total: int, amount_paid: int) -> int:
    return max(total - amount_paid, 0)


def status_after_payment(total: int, amount_paid: int) -> str:
    return "paid" if amount_paid >= total else "partially_paid"


def status_after_refund(total: int, amount_paid: int, was_sent: bool) -> str:
    """Where an invoice stands once money went back: still paid if it was
    overpaid by at least the refund, else partly paid, else as before paying."""
    if amount_paid >= total:
        return "paid"
    if amount_paid > 0:
        return "partially_paid"
    return "sent" if was_sent else "draft"


# Who may pay an invoice in which state: staff may collect on a draft (the
# walkthrough collects before sending); patients see only what was sent.
PAYABLE = {"staff": ("draft", "sent", "partially_paid"),
           "portal": ("sent", "partially_paid"), "pay_link": ("sent", "partially_paid"),
           "autopay": ("sent", "partially_paid")}


def check_payable(status: str, channel: str, number: str, available: int,
                  amount: int | None) -> int:
    """The amount a payment may take from an invoice (None: all that is
    available), or RuleBroken saying why not."""
    if status == "void":
        raise RuleBroken(f"Invoice {number} is void; there is nothing to pay.")
    if status == "paid":
        raise RuleBroken(f"Invoice {number} is already paid.")
    if status == "closed":   # ledger: written off or moved to credit, nothing left to pay
        raise RuleBroken(f"Invoice {number} has nothing left to pay.")
    if status not in PAYABLE.get(channel, ()):
        raise RuleBroken(f"Invoice {number} has not been sent yet.")
    if available <= 0:
        raise RuleBroken(f"A payment for invoice {number} is already in progress. Wait for it "
                         "to finish before paying again.")
    if amount is None:
        return available
    if amount > available:
        raise RuleBroken(f"Invoice {number} has {format_money(available)} due; enter at most that.")
    return amount


HELD_MESSAGE = ("A payment of {amount} is being processed for this invoice. Wait until it "
                "finishes (bank payments take a few days) before you {action} it.")


def check_not_held(held: int, action: str) -> None:
    if held:
        raise RuleBroken(HELD_MESSAGE.format(amount=format_money(held), action=action))


def check_editable(status: str, new_total: int, amount_paid: int) -> None:
    if status not in EDITABLE:
        raise RuleBroken(f"a {status.replace('_', ' ')} invoice cannot be edited")
    if new_total < amount_paid:
        raise RuleBroken("the new total is less than what has already been paid")


def check_sendable(status: str, balance_due: int) -> None:
    if status not in SENDABLE:
        raise RuleBroken(f"a {status.replace('_', ' ')} invoice cannot be sent")
    if balance_due <= 0:
        raise RuleBroken("there is no balance to collect on this invoice")


def check_voidable(status: str, amount_paid: int) -> None:
    if status == "void":
        raise RuleBroken("the invoice is already void")
    if amount_paid > 0:
        raise RuleBroken("an invoice with payments cannot be voided; refund first")


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"
