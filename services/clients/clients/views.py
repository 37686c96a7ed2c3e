"""Output shapes of the clients service: plain JSON-ready dicts."""
from __future__ import annotations

from datetime import date

from servicekit.db import iso

from clients import domain
from clients.models import (
    Client, Contact, InsurancePolicy, Location, Organization, PortalAccount, StaffUser,
)


def _day(value: date | None) -> str | None:
    return value.isoformat() if value else None


def full_name(client: Client) -> str:
    return f"{client.first_name} {client.last_name}"


def client_out(client: Client) -> dict:
    return {"id": client.id, "kind": client.kind, "first_name": client.first_name,
            "last_name": client.last_name, "preferred_name": client.preferred_name,
            "name": full_name(client), "email": client.email, "phone": client.phone,
            "date_of_birth": _day(client.date_of_birth), "address": client.address,
            "created_at": iso(client.created_at)}


def billing_entry(client: Client) -> dict:
    """Who a billing document is for (statements, superbills, invoice PDFs)."""
    return {"id": client.id, "name": full_name(client), "first_name": client.first_name,
            "email": client.email, "address": client.address,
            "date_of_birth": _day(client.date_of_birth)}


def contact_out(contact: Contact) -> dict:
    return {"id": contact.id, "client_id": contact.client_id, "name": contact.name,
            "relationship": contact.relationship, "phone": contact.phone,
            "email": contact.email, "address": contact.address,
            "may_receive": contact.may_receive, "roi_start": _day(contact.roi_start),
            "roi_end": _day(contact.roi_end), "active": contact.active,
            "release_status": contact.release_status,
            "release_consent_id": contact.release_consent_id,
            "created_at": iso(contact.created_at), "updated_at": iso(contact.updated_at)}


def policy_out(policy: InsurancePolicy) -> dict:
    return {"id": policy.id, "client_id": policy.client_id, "payer": policy.payer,
            "plan": policy.plan, "member_id": policy.member_id,
            "group_number": policy.group_number, "subscriber_name": policy.subscriber_name,
            "subscriber_relationship": policy.subscriber_relationship,
            "effective_on": _day(policy.effective_on), "end_on": _day(policy.end_on),
            "priority": policy.priority, "added_via": policy.added_via,
            "created_at": iso(policy.created_at)}


def location_out(location: Location) -> dict:
    return {"id": location.id, "name": location.name, "address": location.address,
            "phone": location.phone, "email": location.email}


def organization_out(org: Organization, locations: list[Location]) -> dict:
    return {"name": org.name, "phone": org.phone, "email": org.email, "address": org.address,
            "logo_url": org.logo_url, "email_sender_name": org.email_sender_name,
            "welcome_message": org.welcome_message,
            "locations": [location_out(loc) for loc in locations]}


def staff_out(staff: StaffUser, location_ids: list[str] | None = None) -> dict:
    out = {"id": staff.id, "email": staff.email, "name": staff.name, "role": staff.role,
           "active": staff.active, "totp_enabled": bool(staff.totp_secret)}
    if location_ids is not None:
        out["location_ids"] = location_ids
    return out


def first_name(name: str) -> str:
    return (name or "").split(" ")[0]


def account_contact(account: PortalAccount) -> dict:
    return {"email": account.email, "name": account.name,
            "first_name": first_name(account.name), "username": account.username}


def staff_contact(staff: StaffUser) -> dict:
    return {"email": staff.email, "name": staff.name, "first_name": first_name(staff.name)}


def session_out(record, subject, times: domain.SessionTimes, token: str | None = None,
                clients: list[tuple[Client, str, str]] | None = None) -> dict:
    """SESSION: the token only when just created."""
    staff = record.kind == "staff"
    out = {"kind": record.kind, "subject_id": record.subject_id, "name": subject.name,
           "role": subject.role if staff else "patient",
           "permissions": sorted(domain.permissions_for(subject.role)) if staff else [],
           "csrf": record.csrf, "acting_for": record.acting_for,
           "clients": [{"id": c.id, "name": full_name(c), "first_name": c.first_name,
                        "relationship": rel, "scope": scope}
                       for c, rel, scope in clients or []],
           "totp_enabled": bool(subject.totp_secret),
           "idle_expires_at": iso(times.idle_expires_at(record.last_seen_at, record.expires_at)),
           "expires_at": iso(record.expires_at)}
    if token:
        out["token"] = token
    return out
