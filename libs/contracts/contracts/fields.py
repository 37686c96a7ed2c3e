"""A tiny field-spec language: enough to state an event's payload exactly."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable


class ContractError(ValueError):
    """A payload or envelope that does not match its contract."""


@dataclass(frozen=True)
class Field:
    check: Callable[[Any], bool]
    description: str
    required: bool = True


def _is_str(value: Any) -> bool:
    return isinstance(value, str) and value != ""


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_money(value: Any) -> bool:
    return (
        isinstance(value, dict)
        and set(value) == {"amount", "currency"}
        and _is_int(value["amount"])
        and value["amount"] >= 0
        and isinstance(value["currency"], str)
        and len(value["currency"]) == 3
        and value["currency"].islower()
    )


def _is_timestamp(value: Any) -> bool:
    if not isinstance(value, str) or not value.endswith("Z"):
        return False
    try:
        datetime.fromisoformat(value[:-1])
    except ValueError:
        return False
    return True


def text(required: bool = True) -> Field:
    return Field(_is_str, "non-empty string", required)


def integer(required: bool = True) -> Field:
    return Field(_is_int, "integer", required)


def money(required: bool = True) -> Field:
    return Field(_is_money, '{"amount": int >= 0, "currency": "usd"}', required)


def timestamp(required: bool = True) -> Field:
    return Field(_is_timestamp, "ISO-8601 UTC ending in Z", required)


def one_of(*choices: str, required: bool = True) -> Field:
    return Field(lambda v: v in choices, "one of " + ", ".join(choices), required)


def boolean(required: bool = True) -> Field:
    return Field(lambda v: isinstance(v, bool), "true or false", required)


def list_of(item_fields: dict[str, "Field"], required: bool = True, min_items: int = 0) -> Field:
    """A list of objects, each matching `item_fields` exactly."""
    def check(value: Any) -> bool:
        if not isinstance(value, list) or len(value) < min_items:
            return False
        try:
            for item in value:
                check_fields(item_fields, item, "item")
        except ContractError:
            return False
        return True
    names = ", ".join(item_fields)
    return Field(check, f"a list of at least {min_items} object(s) with {names}", required)


def check_fields(fields: dict[str, Field], data: Any, where: str) -> None:
    if not isinstance(data, dict):
        raise ContractError(f"{where}: payload must be an object")
    unknown = set(data) - set(fields)
    if unknown:
        raise ContractError(f"{where}: unknown field(s) {sorted(unknown)}")
    for name, field in fields.items():
        if name not in data or data[name] is None:
            if field.required:
                raise ContractError(f"{where}: missing field {name!r}")
            continue
        if not field.check(data[name]):
            raise ContractError(f"{where}: field {name!r} must be {field.description}")
