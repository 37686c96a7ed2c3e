"""Money as integer minor units. Rounding rule: half up, and remainders are
allocated (largest remainder first) so parts always add up to the whole."""
from __future__ import annotations

from typing import Sequence

BASIS_POINTS_PER_WHOLE = 10_000  # 100.00 % == 10_000 basis points


def require_minor_units(value: object, what: str = "amount") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"{what} must be a whole number of cents")
    if value < 0:
        raise ValueError(f"{what} must not be negative")
    return value


def percent_of(amount: int, basis_points: int) -> int:
    """`basis_points` (1 % = 100) of `amount`, rounded half up to the cent."""
    require_minor_units(amount)
    require_minor_units(basis_points, "percentage")
    return (amount * basis_points * 2 + BASIS_POINTS_PER_WHOLE) // (2 * BASIS_POINTS_PER_WHOLE)


def allocate(total: int, weights: Sequence[int]) -> list[int]:
    """Split `total` in proportion to `weights`; the parts sum to `total` exactly.

    Each part gets the floor of its exact share; the cents left over go one
    each to the parts with the largest remainders (earlier parts win ties).
    """
    require_minor_units(total, "total")
    if not weights:
        raise ValueError("cannot allocate over no parts")
    for weight in weights:
        require_minor_units(weight, "weight")
    weight_sum = sum(weights)
    if weight_sum == 0:
        if total:
            raise ValueError("cannot allocate a non-zero total over zero weights")
        return [0] * len(weights)
    floors = [total * w // weight_sum for w in weights]
    remainders = [total * w % weight_sum for w in weights]
    leftover = total - sum(floors)
    by_remainder = sorted(range(len(weights)), key=lambda i: (-remainders[i], i))
    for index in by_remainder[:leftover]:
        floors[index] += 1
    return floors


def as_money(amount: int, currency: str = "usd") -> dict:
    return {"amount": require_minor_units(amount), "currency": currency}


def format_money(amount: int, currency: str = "usd") -> str:
    sign = "-" if amount < 0 else ""
    whole, cents = divmod(abs(amount), 100)
    symbol = "$" if currency == "usd" else currency.upper() + " "
    return f"{sign}{symbol}{whole:,}.{cents:02d}"
