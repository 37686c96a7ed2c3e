"""Invoice rules with no I/O: line amounts, discounts, totals, balance and the
status an invoice is in. All money is integer cents.

Pricing, in this order (the invoice form's script, `static/invoice_form.js`,
follows exactly the same steps):
1. a line's amount is units × unit price;
2. its own discount: a percentage (basis points, rounded half up to the cent)
   or a fixed amount, never more than the amount;
3. the invoice's discount, on the sum of what the lines come to after their
   own discounts (percentage rounded half up; fixed never more than that sum);
4. that discount is shared over the lines in proportion to what each comes
   to (servicekit.money.allocate: largest remainder, earlier lines win ties),
   so no share is more than its line and the shares add up to the discount.
A line's net = amount − its discount − its share; the nets add up to the
total, and subtotal − line discounts − invoice discount = total, to the cent."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from servicekit.money import allocate, format_money, percent_of

MAX_UNITS = 999
MAX_LINES = 50
MAX_AMOUNT = 99_999_999  # $999,999.99: Stripe's largest charge, and well inside a 32-bit column
FULL_PERCENT_BP = 10_000
DUE_DATE_PAST_DAYS = 365
PAYMENT_TYPES = ("private_pay", "copay", "coinsurance", "deductible", "sliding_scale",
                 "payment_plan")
PAYMENT_TYPE_LABELS = {"private_pay": "Self-pay", "sliding_scale": "Sliding scale",
                       "copay": "Insurance copay", "coinsurance": "Insurance coinsurance",
                       "deductible": "Insurance deductible", "payment_plan": "Payment plan"}
DISCOUNT_KINDS = ("none", "percent", "fixed")
# draft: being written; open: finalized, not yet sent to the patient (staff may
# collect on it); sent: emailed or posted to the portal (patients see it).
STATUSES = ("draft", "open", "sent", "partially_paid", "paid", "void")
EDITABLE = ("draft", "open", "sent")
SENDABLE = ("draft", "open", "sent", "partially_paid")
ZERO_TOTAL = ("This invoice comes to $0.00. Add a service with a fee, or mark it "
              "“No charge”.")
PAID_LINES = ("This invoice has a payment applied, so its lines cannot be changed. "
              "Use “Add an adjustment” on the invoice instead.")


class RuleBroken(ValueError):
    """The requested change breaks an invoice rule; the message says which.
    `errors` names the form field of each problem ({field: words})."""

    def __init__(self, message: str, errors: dict | None = None):
        super().__init__(message)
        self.errors = errors or {"form": message}


def broken(errors: dict) -> RuleBroken:
    return RuleBroken(" ".join(errors.values()), errors)


@dataclass(frozen=True)
class Discount:
    kind: str = "none"
    value: int = 0  # basis points for percent (10 % = 1000), cents for fixed


@dataclass(frozen=True)
class Line:
    service_code: str
    description: str
    units: int
    unit_price: int
    discount: Discount = Discount()
    row: int = 0          # the form's line number, for messages (0: its position)

    @property
    def amount(self) -> int:
        return self.units * self.unit_price


@dataclass(frozen=True)
class LinePrice:
    amount: int
    line_discount: int    # its own discount
    discount_share: int   # its share of the invoice's discount

    @property
    def net(self) -> int:
        return self.amount - self.line_discount - self.discount_share


@dataclass(frozen=True)
class Totals:
    subtotal: int          # the lines' amounts
    line_discounts: int    # the lines' own discounts
    invoice_discount: int  # the invoice's discount (shared over the lines)
    total: int
    lines: tuple[LinePrice, ...]

    @property
    def discount_amount(self) -> int:
        """Every discount: subtotal − discount_amount = total."""
        return self.line_discounts + self.invoice_discount

    @property
    def shares(self) -> tuple[int, ...]:
        return tuple(line.discount_share for line in self.lines)


def price(lines: list[Line], discount: Discount) -> Totals:
    """The invoice's totals, or RuleBroken naming every field at fault."""
    errors: dict[str, str] = {}
    if not lines:
        errors["lines"] = "Add at least one service."
    if len(lines) > MAX_LINES:
        errors["lines"] = f"An invoice can have at most {MAX_LINES} lines."
    own = []
    for position, line in enumerate(lines, start=1):
        row = line.row or position
        if not 1 <= line.units <= MAX_UNITS:
            errors[f"line{row}_units"] = f"Enter units from 1 to {MAX_UNITS} on line {row}."
        if line.unit_price < 0:
            errors[f"line{row}_price"] = f"The price on line {row} cannot be negative."
        try:
            own.append(line_discount(line.amount, line.discount, row))
        except RuleBroken as problem:
            errors.update(problem.errors)
            own.append(0)
    if errors:
        raise broken(errors)
    subtotal = sum(line.amount for line in lines)
    if subtotal > MAX_AMOUNT:
        raise broken({"lines": "An invoice cannot be over $999,999.99."})
    after_own = [line.amount - mine for line, mine in zip(lines, own)]
    invoice_discount = discount_for(sum(after_own), discount)
    shares = allocate(invoice_discount, after_own) if sum(after_own) else [0] * len(lines)
    priced = tuple(LinePrice(line.amount, mine, share)
                   for line, mine, share in zip(lines, own, shares))
    return Totals(subtotal, sum(own), invoice_discount, subtotal - sum(own) - invoice_discount,
                  priced)


def line_discount(amount: int, discount: Discount, row: int) -> int:
    field = f"line{row}_discount"
    if discount.kind not in DISCOUNT_KINDS or discount.value < 0:
        raise broken({field: f"Enter the discount on line {row} as a percentage or an amount."})
    if discount.kind == "none":
        return 0
    if discount.kind == "percent":
        if discount.value > FULL_PERCENT_BP:
            raise broken({field: f"The discount on line {row} cannot be over 100 %."})
        return percent_of(amount, discount.value)
    if discount.value > amount:
        raise broken({field: f"The discount on line {row} is more than the line "
                             f"({format_money(amount)})."})
    return discount.value


def discount_for(base: int, discount: Discount) -> int:
    """The invoice's discount on `base` (what the lines come to after their own)."""
    field = "discount_value"
    if discount.kind not in DISCOUNT_KINDS:
        raise broken({"discount_kind": "Choose a kind of discount."})
    if discount.value < 0:
        raise broken({field: "A discount cannot be negative."})
    if discount.kind == "none":
        return 0
    if discount.kind == "percent":
        if discount.value > FULL_PERCENT_BP:
            raise broken({field: "A percentage discount cannot be over 100 %."})
        return percent_of(base, discount.value)
    if discount.value > base:
        raise broken({field: f"The discount is more than the invoice ({format_money(base)})."})
    return discount.value


def check_total(total: int, no_charge: bool) -> None:
    """A $0 invoice is refused unless marked no charge; a no-charge one is $0."""
    if no_charge and total:
        raise broken({"no_charge": f"A no-charge invoice must come to $0.00 (this one is "
                                   f"{format_money(total)}). Untick “No charge” or remove the fees."})
    if not no_charge and total == 0:
        raise broken({"lines": ZERO_TOTAL})


def check_due_on(due_on: date | None, today: date) -> None:
    if due_on is not None and due_on < today - timedelta(days=DUE_DATE_PAST_DAYS):
        raise broken({"due_on": "The due date can be at most a year in the past."})


def balance(total: int, amount_paid: int) -> int:
    return max(total - amount_paid, 0)


def status_after_payment(total: int, amount_paid: int) -> str:
    return "paid" if amount_paid >= total else "partially_paid"


def status_after_refund(total: int, amount_paid: int, was_sent: bool) -> str:
    """Where an invoice stands once money went back: still paid if it was
    overpaid by at least the refund, else partly paid, else sent (or open:
    an invoice that took money is final, never a draft again)."""
    if amount_paid >= total:
        return "paid"
    if amount_paid > 0:
        return "partially_paid"
    return "sent" if was_sent else "open"


# Who may pay an invoice in which state: staff may collect on a draft or an
# open (finalized, unsent) invoice; patients see only what was sent.
PAYABLE = {"staff": ("draft", "open", "sent", "partially_paid"),
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
    if amount_paid > 0 or status in ("partially_paid", "paid"):
        raise RuleBroken(PAID_LINES)
    if status not in EDITABLE:
        raise RuleBroken(f"A {status.replace('_', ' ')} invoice cannot be edited.")
    if new_total < amount_paid:
        raise RuleBroken("The new total is less than what has already been paid.")


def check_sendable(status: str, balance_due: int, no_charge: bool = False) -> None:
    if no_charge:
        raise RuleBroken("A no-charge invoice is not sent: there is nothing to pay.")
    if status not in SENDABLE:
        raise RuleBroken(f"A {status.replace('_', ' ')} invoice cannot be sent.")
    if balance_due <= 0:
        raise RuleBroken("There is no balance to collect on this invoice.")


def check_voidable(status: str, amount_paid: int, paid_on_record: int = 0, refunded: int = 0,
                   adjusted: bool = False) -> None:
    """Void only what no money ever stayed on: nothing paid now, and either
    nothing ever paid, or every payment refunded with no adjustment, write-off
    or credit note (a voided invoice leaves statements, and with it the
    credit a credit note moved — b8-fixrefunds)."""
    if status == "void":
        raise RuleBroken("The invoice is already void.")
    if amount_paid > 0:
        raise RuleBroken("An invoice with payments cannot be voided: refund the payments first.")
    if paid_on_record > 0 and (adjusted or refunded < paid_on_record):
        raise RuleBroken("This invoice has payments or adjustments on record; use an adjustment "
                         "or credit note instead.")


def invoice_number(sequence: int) -> str:
    return f"INV-{sequence:06d}"
