"""Input checks and output shapes for the clients service."""
from __future__ import annotations

import re

from servicekit.errors import InvalidInput

from clients.models import Client, Location, Organization, StaffUser

KINDS = ("client", "inquiry", "account")
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def new_client(payload: dict) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput("client details must be an object")
    kind = payload.get("kind", "client")
    if kind not in KINDS:
        raise InvalidInput(f"kind must be one of {', '.join(KINDS)}")
    first = str(payload.get("first_name") or "").strip()
    last = str(payload.get("last_name") or "").strip()
    if not first or not last:
        raise InvalidInput("first_name and last_name are required")
    email = str(payload.get("email") or "").strip()
    if email and not EMAIL.match(email):
        raise InvalidInput("email is not a valid address")
    return {"kind": kind, "first_name": first, "last_name": last, "email": email,
            "phone": str(payload.get("phone") or "").strip()}


def client_out(client: Client) -> dict:
    return {"id": client.id, "kind": client.kind, "first_name": client.first_name,
            "last_name": client.last_name, "name": f"{client.first_name} {client.last_name}",
            "email": client.email, "phone": client.phone}


def location_out(location: Location) -> dict:
    return {"id": location.id, "name": location.name, "address": location.address,
            "phone": location.phone}


def organization_out(org: Organization, locations: list[Location]) -> dict:
    return {"name": org.name, "phone": org.phone, "email": org.email, "address": org.address,
            "logo_url": org.logo_url, "email_sender_name": org.email_sender_name,
            "locations": [location_out(loc) for loc in locations]}


def staff_out(staff: StaffUser) -> dict:
    return {"id": staff.id, "email": staff.email, "name": staff.name, "role": staff.role}
