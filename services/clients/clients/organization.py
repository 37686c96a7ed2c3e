"""Use cases for the organization: its settings and locations. The caller
commits. (The client handbook is the documents service's now.)"""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.errors import InvalidInput, NotFound
from servicekit.outbox import record_event

from clients import audit, domain, views
from clients.actors import Actor
from clients.models import Location, Organization


def organization(session: Session) -> Organization | None:
    return session.scalars(select(Organization).order_by(Organization.id)).first()


def describe(session: Session) -> dict:
    org = organization(session)
    if org is None:
        raise NotFound("the organization has not been set up")
    locations = list(session.scalars(select(Location).order_by(Location.name, Location.id)))
    return views.organization_out(org, locations)


def update(session: Session, actor: Actor, changes: dict) -> None:
    org = organization(session)
    if org is None:
        if "name" not in changes:
            raise InvalidInput("name is required to set up the organization")
        org = Organization(id=1, name=changes["name"], phone="", email="", address="",
                           logo_url="", email_sender_name="", welcome_message="")
        session.add(org)
    changed = [name for name, value in changes.items() if getattr(org, name) != value]
    for name in changed:
        setattr(org, name, changes[name])
    audit.by(session, actor, "organization.update", detail=", ".join(changed) or "-")
    changed_event(session, "organization")


def load_location(session: Session, location_id) -> Location:
    location = session.get(Location, str(location_id))
    if location is None:
        raise NotFound(f"location {location_id} not found")
    return location


def upsert_location(session: Session, actor: Actor, location_id: str | None,
                    fields: dict) -> Location:
    location = session.get(Location, location_id) if location_id else None
    if location is None:
        location = Location(id=location_id or domain.new_id("loc"), **fields)
        session.add(location)
        action = "location.add"
    else:
        for name, value in fields.items():
            setattr(location, name, value)
        action = "location.update"
    audit.by(session, actor, action, detail=f"location {location.id}")
    changed_event(session, "location")
    return location


def changed_event(session: Session, part: str) -> None:
    """Every copy of every service that cached the organization reads it again."""
    record_event(session, "clients", "OrganizationChanged", {"part": part})
