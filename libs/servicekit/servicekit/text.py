"""Text typed by people, checked the same way in every service: trimmed,
bounded, and free of NUL and other control characters (PostgreSQL refuses a
NUL in text; other control characters only hide things from the reader).
Messages use the words the person sees next to the field."""
from __future__ import annotations

from servicekit.errors import InvalidFields, InvalidInput

MULTILINE_ALLOWED = "\n\r\t"


def clean(value, label: str, max_len: int = 200, required: bool = False,
          multiline: bool = False) -> str:
    """`value` trimmed, or InvalidInput in words built from `label`
    ("the memo" → "Enter the memo", "The memo is too long …")."""
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{label.capitalize()} must be text.")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"Enter {label}.")
    if len(value) > max_len:
        raise InvalidInput(f"{label.capitalize()} can be at most {max_len} characters.")
    allowed = MULTILINE_ALLOWED if multiline else ""
    if any((ord(ch) < 32 and ch not in allowed) or ord(ch) == 127 for ch in value):
        raise InvalidInput(f"{label.capitalize()} contains characters that cannot be saved "
                           "(remove anything pasted from another program and type it again).")
    return value


class FieldChecks:
    """Collects every field's problem, so a form shows them all at once:

        checks = FieldChecks()
        memo = checks.run("memo", clean, payload.get("memo"), "the memo", 500)
        checks.raise_if_any()          # InvalidFields({"memo": "…"})
    """

    def __init__(self):
        self.errors: dict[str, str] = {}

    def run(self, field: str, check, *args, **kwargs):
        try:
            return check(*args, **kwargs)
        except InvalidFields as failed:
            for name, message in failed.errors.items():
                self.errors.setdefault(name if name != "form" else field, message)
        except InvalidInput as failed:
            self.errors.setdefault(field, str(failed))
        return None

    def add(self, field: str, message: str) -> None:
        self.errors.setdefault(field, message)

    def raise_if_any(self) -> None:
        if self.errors:
            raise InvalidFields(self.errors)
