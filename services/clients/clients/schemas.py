"""Input checks for the clients service. A bad field raises InvalidInput
naming it; nothing is written before these checks pass. Output shapes live
in views.py."""
from __future__ import annotations

import re
from datetime import date

from servicekit.errors import InvalidInput

from clients import domain

EMAIL = re.compile(r"^[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+$")
PHONE = re.compile(r"^[0-9+()\-. x#]*$")
SLUG = re.compile(r"^[a-z0-9_]{1,40}$")


# ---- field parsers -----------------------------------------------------------
def obj(payload, what: str) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput(f"{what} must be an object")
    return payload


def text(payload: dict, name: str, max_len: int = 200, required: bool = False,
         multiline: bool = False) -> str:
    value = payload.get(name)
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise InvalidInput(f"{name} must be text")
    value = value.strip()
    if required and not value:
        raise InvalidInput(f"{name} is required")
    if len(value) > max_len:
        raise InvalidInput(f"{name} must be at most {max_len} characters")
    allowed = "\n\t" if multiline else ""
    if any(ord(ch) < 32 and ch not in allowed for ch in value):
        raise InvalidInput(f"{name} must be a single line of text" if not multiline
                           else f"{name} contains control characters")
    return value


def email(payload: dict, name: str = "email", required: bool = False) -> str:
    value = text(payload, name, 254, required)
    if value and not EMAIL.match(value):
        raise InvalidInput(f"{name} is not a valid email address")
    return value


def phone(payload: dict, name: str = "phone") -> str:
    value = text(payload, name, 40)
    if not PHONE.match(value) or (value and sum(ch.isdigit() for ch in value) < 7):
        raise InvalidInput(f"{name} is not a valid phone number")
    return value


def day(payload: dict, name: str, required: bool = False) -> date | None:
    value = payload.get(name)
    if value in (None, ""):
        if required:
            raise InvalidInput(f"{name} is required (YYYY-MM-DD)")
        return None
    try:
        if isinstance(value, str) and len(value) == 10:
            return date.fromisoformat(value)
    except ValueError:
        pass
    raise InvalidInput(f"{name} must be a date as YYYY-MM-DD")


def choice(payload: dict, name: str, choices, default: str | None = None) -> str:
    value = payload.get(name, default)
    if value not in choices:
        raise InvalidInput(f"{name} must be one of {', '.join(choices)}")
    return value


def pick(payload: dict, parsers: dict, partial: bool, what: str) -> dict:
    """Run the parser of every field given (or of all of them when not
    partial). Unknown fields are refused rather than silently dropped."""
    unknown = sorted(set(payload) - set(parsers))
    if unknown:
        raise InvalidInput(f"{what}: unknown field(s) {', '.join(unknown)}")
    names = [n for n in parsers if n in payload] if partial else list(parsers)
    if partial and not names:
        raise InvalidInput(f"{what}: nothing to change")
    return {name: parsers[name](payload) for name in names}


# ---- clients -----------------------------------------------------------------
def _birth_date(payload: dict) -> date | None:
    born = day(payload, "date_of_birth")
    if born and not date(1900, 1, 1) <= born <= date.today():
        raise InvalidInput("date_of_birth must be in the past")
    return born


CLIENT_FIELDS = {
    "first_name": lambda p: text(p, "first_name", 100, required=True),
    "last_name": lambda p: text(p, "last_name", 100, required=True),
    "preferred_name": lambda p: text(p, "preferred_name", 100),
    "email": lambda p: email(p),
    "phone": lambda p: phone(p),
    "date_of_birth": _birth_date,
    "address": lambda p: text(p, "address", 500, multiline=True),
}


def new_client(payload) -> dict:
    payload = dict(obj(payload, "client details"))
    kind = choice(payload, "kind", domain.KINDS, default="client")
    payload.pop("kind", None)
    return {"kind": kind, **pick(payload, CLIENT_FIELDS, False, "client")}


def client_changes(payload) -> dict:
    """The fields given; "kind" is passed through for the use case to check
    it is unchanged (a form sends every field back)."""
    payload = dict(obj(payload, "client changes"))
    kind = payload.pop("kind", None)
    changes = pick(payload, CLIENT_FIELDS, True, "client") if payload or kind is None else {}
    return {**changes, **({"kind": kind} if kind is not None else {})}


def search_query(query) -> str:
    if query is None:
        return ""
    return text({"query": query}, "query", 100)


# ---- third-party contacts and insurance --------------------------------------
CONTACT_FIELDS = {
    "name": lambda p: text(p, "name", 200, required=True),
    "relationship": lambda p: text(p, "relationship", 80, required=True),
    "phone": lambda p: phone(p),
    "email": lambda p: email(p),
    "address": lambda p: text(p, "address", 500, multiline=True),
    "may_receive": lambda p: choice(p, "may_receive", domain.MAY_RECEIVE),
    "roi_start": lambda p: day(p, "roi_start"),
    "roi_end": lambda p: day(p, "roi_end"),
}


def contact_fields(payload, partial: bool = False) -> dict:
    return pick(obj(payload, "contact"), CONTACT_FIELDS, partial, "contact")


POLICY_FIELDS = {
    "payer": lambda p: text(p, "payer", 200, required=True),
    "plan": lambda p: text(p, "plan", 200),
    "member_id": lambda p: text(p, "member_id", 80, required=True),
    "group_number": lambda p: text(p, "group_number", 80),
    "subscriber_name": lambda p: text(p, "subscriber_name", 200, required=True),
    "subscriber_relationship": lambda p: choice(p, "subscriber_relationship",
                                                domain.SUBSCRIBER_RELATIONSHIPS),
    "effective_on": lambda p: day(p, "effective_on", required=True),
    "end_on": lambda p: day(p, "end_on"),
    "priority": lambda p: choice(p, "priority", domain.PRIORITIES),
}


def policy_fields(payload) -> dict:
    return pick(obj(payload, "insurance policy"), POLICY_FIELDS, False, "insurance policy")


def invitation(email_address, name, relationship) -> dict:
    given = {"email": email_address, "name": name, "relationship": relationship}
    return {"email": email(given, required=True).lower(),
            "name": text(given, "name", 200, required=True),
            "relationship": choice(given, "relationship", domain.INVITE_RELATIONSHIPS)}


def consent_id(value) -> str:
    if not isinstance(value, str) or not value.strip() or len(value.strip()) > 40:
        raise InvalidInput("consent_id is required (at most 40 characters)")
    return value.strip()
