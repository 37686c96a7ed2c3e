"""A small demo clinic for `make run`: two locations, a staff user, three
clients with portal accounts. Safe to run twice."""
from __future__ import annotations

import sys

from sqlalchemy.orm import Session

from servicekit.config import database_url
from servicekit.db import engine_for, utcnow

from clients import domain
from clients.models import Client, Location, Organization, PortalAccount, StaffUser

STAFF = {"email": "frontdesk@demo.cairn.test", "password": "demo-frontdesk-2026"}
PORTAL_PASSWORD = "demo-portal-2026"
CLIENTS = [
    ("cl_demo_avery", "Avery", "Lindqvist", "avery@demo.cairn.test"),
    ("cl_demo_jordan", "Jordan", "Okafor", "jordan@demo.cairn.test"),
    ("cl_demo_sam", "Sam", "Reyes", "sam@demo.cairn.test"),
]


def seed(session: Session) -> None:
    if session.get(Location, "loc_main"):
        return
    session.add(Organization(
        name="Cedar Ridge Recovery", phone="(555) 010-2000", email="billing@cedarridge.test",
        address="100 Cedar Ridge Rd, Springfield", email_sender_name="Cedar Ridge Billing"))
    session.add_all([
        Location(id="loc_main", name="Main Campus", address="100 Cedar Ridge Rd, Springfield",
                 phone="(555) 010-2000"),
        Location(id="loc_north", name="North Clinic", address="42 Birch St, Shelbyville",
                 phone="(555) 010-3000"),
    ])
    session.add(StaffUser(id="st_demo_frontdesk", email=STAFF["email"], name="Riley Front Desk",
                          role="front_desk", password_hash=domain.hash_password(STAFF["password"])))
    for client_id, first, last, email in CLIENTS:
        session.add(Client(id=client_id, kind="client", first_name=first, last_name=last,
                           email=email, created_at=utcnow()))
        session.flush()
        session.add(PortalAccount(id=client_id.replace("cl_", "pa_"), client_id=client_id,
                                  username=email,
                                  password_hash=domain.hash_password(PORTAL_PASSWORD)))
    session.commit()


if __name__ == "__main__":
    with Session(engine_for(database_url("clients"))) as db_session:
        seed(db_session)
    sys.stdout.write("clients: demo clinic loaded\n")
