"""Input checks for the organization, its locations, staff
users and audit actions. A bad field raises InvalidInput naming it."""
from __future__ import annotations

import re

from servicekit.errors import InvalidInput

from clients import domain
from clients.schemas import SLUG, pick, choice, email, obj, phone, text

ACTION = re.compile(r"^[a-z_]{2,30}(\.[a-z_]{2,30}){1,2}$")


# ---- organization, locations, staff ------------------------------------------
def _sender_name(payload: dict) -> str:
    value = text(payload, "email_sender_name", 100)
    if any(ch in value for ch in '<>"@,;'):  # it goes into a From: header
        raise InvalidInput("email_sender_name must be a plain name")
    return value


def _logo_url(payload: dict) -> str:
    value = text(payload, "logo_url", 500)
    if value and not re.match(r"^https?://[^\s]+$", value):
        raise InvalidInput("logo_url must be an http(s) address")
    return value


ORGANIZATION_FIELDS = {
    "name": lambda p: text(p, "name", 200, required=True),
    "phone": lambda p: phone(p),
    "email": lambda p: email(p),
    "address": lambda p: text(p, "address", 500, multiline=True),
    "logo_url": _logo_url,
    "email_sender_name": _sender_name,
    "welcome_message": lambda p: text(p, "welcome_message", 2000, multiline=True),
}


def organization_changes(payload) -> dict:
    return pick(obj(payload, "organization"), ORGANIZATION_FIELDS, True, "organization")


def location_fields(payload) -> tuple[str | None, dict]:
    payload = dict(obj(payload, "location"))
    location_id = payload.pop("id", None) or None  # a form sends "" for a new one
    if location_id is not None and (not isinstance(location_id, str) or not SLUG.match(location_id)):
        raise InvalidInput("location id must be lowercase letters, digits and _ (at most 40)")
    return location_id, pick(payload, {
        "name": lambda p: text(p, "name", 200, required=True),
        "address": lambda p: text(p, "address", 500, multiline=True),
        "phone": lambda p: phone(p),
        "email": lambda p: email(p),
    }, False, "location")


def _location_ids(payload: dict) -> list[str]:
    value = payload.get("location_ids", [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInput("location_ids must be a list of location ids")
    return sorted(set(value))


def _active(payload: dict) -> bool:
    if not isinstance(payload.get("active"), bool):
        raise InvalidInput("active must be true or false")
    return payload["active"]


STAFF_FIELDS = {
    "email": lambda p: email(p, required=True).lower(),
    "name": lambda p: text(p, "name", 200, required=True),
    "role": lambda p: choice(p, "role", domain.STAFF_ROLES),
    "location_ids": _location_ids,
}


def new_staff(payload) -> dict:
    return pick(obj(payload, "staff user"), STAFF_FIELDS, False, "staff user")


def staff_changes(payload) -> dict:
    fields = {**{k: v for k, v in STAFF_FIELDS.items() if k != "email"}, "active": _active}
    return pick(obj(payload, "staff changes"), fields, True, "staff user")


def access_entry(action, outcome="ok") -> tuple[str, str]:
    """(action, outcome) for record_access; "denied:<permission>" is the
    gateway's shorthand for a refusal of that permission."""
    if isinstance(action, str) and action.startswith("denied:"):
        action, outcome = action[len("denied:"):], "denied"
    if not isinstance(action, str) or not ACTION.match(action):
        raise InvalidInput("action must look like area.verb, e.g. financial.read")
    if outcome not in ("ok", "denied"):
        raise InvalidInput("outcome must be ok or denied")
    return action, outcome


READ_ACTIONS = ("client.read", "financial.read", "invoice.read", "payment.read",
                "payment_method.read")
READ_ACTIONS += ("estimate.read",)   # estimates and Good Faith Estimates
READ_ACTIONS += ("appointment.read",)   # the Appointments tab (scheduling)


def read_action(action) -> str:
    """The audit action of a read another page makes of a client's record."""
    if action not in READ_ACTIONS:
        raise InvalidInput("purpose must be one of " + ", ".join(READ_ACTIONS))
    return action


def paging(page, per_page) -> tuple[int, int]:
    for name, value, top in (("page", page, 100_000), ("per_page", per_page, 200)):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= top:
            raise InvalidInput(f"{name} must be a whole number from 1 to {top}")
    return page, per_page


def client_filter(client_id) -> str | None:
    """The audit log's client filter: an id (letters, digits, _), or none."""
    if client_id in (None, ""):
        return None
    if not isinstance(client_id, str) or not re.fullmatch(r"[A-Za-z0-9_]{1,40}", client_id):
        raise InvalidInput("client_id must be a client id such as cl_1a2b3c4d")
    return client_id


def id_list(values, field: str, most: int) -> list[str]:
    """A list of ids (strings), at most `most` of them, duplicates dropped."""
    if not isinstance(values, (list, tuple)) or len(values) > most:
        raise InvalidInput(f"{field} must be a list of at most {most} ids")
    if not all(isinstance(value, str) and 0 < len(value) <= 40 for value in values):
        raise InvalidInput(f"{field} must be a list of ids")
    return list(dict.fromkeys(values))
