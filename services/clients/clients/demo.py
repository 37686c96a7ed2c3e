"""A small demo clinic for `make run`: two locations, a staff user in each
role, clients with portal accounts, a guardian acting for two minors, an
inquiry and a guarantor account. Safe to run twice, and on a database
seeded by an older version (only what is missing is added).

The demo passwords are set directly, bypassing the password policy: the
portal and front-desk ones are shorter than the 12 characters the policy
asks of real users. Fine for a demo; never for a real clinic."""
from __future__ import annotations

import sys
from datetime import date

from sqlalchemy.orm import Session

from servicekit.config import database_url
from servicekit.db import engine_for, utcnow

from clients import passwords
from clients.models import (
    AccountClient, Client, Location, Organization, PortalAccount, StaffLocation, StaffUser,
)

STAFF = {"email": "frontdesk@demo.cairn.test", "password": "demo-frontdesk-2026"}
STAFF_PASSWORD = "demo-staff-2026!"
PORTAL_PASSWORD = "demo-portal-2026"
# (id, email, name, role, password, location ids)
STAFF_USERS = [
    ("st_demo_frontdesk", STAFF["email"], "Riley Front Desk", "front_desk", STAFF["password"],
     ["loc_main"]),
    ("st_demo_admin", "admin@demo.cairn.test", "Alex Administrator", "administrator",
     STAFF_PASSWORD, ["loc_main", "loc_north"]),
    ("st_demo_biller", "biller@demo.cairn.test", "Blake Biller", "biller", STAFF_PASSWORD,
     ["loc_main", "loc_north"]),
    ("st_demo_clinician", "clinician@demo.cairn.test", "Casey Clinician", "clinician",
     STAFF_PASSWORD, ["loc_north"]),
]
# Clients who sign in to the portal for themselves: (id, first, last, email,
# date of birth — a payer proves it before a payment link shows services)
CLIENTS = [
    ("cl_demo_avery", "Avery", "Lindqvist", "avery@demo.cairn.test", date(1988, 3, 14)),
    ("cl_demo_jordan", "Jordan", "Okafor", "jordan@demo.cairn.test", date(1992, 11, 5)),
    ("cl_demo_sam", "Sam", "Reyes", "sam@demo.cairn.test", date(1979, 7, 21)),
]
GUARDIAN = {"id": "pa_demo_morgan", "email": "morgan@demo.cairn.test", "name": "Morgan Reyes",
            "password": PORTAL_PASSWORD, "clients": ["cl_demo_ellis", "cl_demo_kai"]}
# (id, kind, first, last, date of birth)
OTHER_PROFILES = [
    ("cl_demo_ellis", "client", "Ellis", "Reyes", date(2011, 4, 2)),
    ("cl_demo_kai", "client", "Kai", "Reyes", date(2014, 9, 17)),
    ("cl_demo_inquiry", "inquiry", "Quinn", "Harper", None),
    ("cl_demo_account", "account", "Pat", "Lindqvist", None),
]
WELCOME_MESSAGE = ("Welcome to the Cedar Ridge patient portal. Here you can see and pay your "
                   "bills, keep your contact and insurance details up to date, and choose who "
                   "we may share billing information with.")
# Every demo sign-in, for the run script to print: (who, where, login, password)
CREDENTIALS = [(name, "staff", email, password) for _, email, name, _, password, _ in STAFF_USERS] + \
    [(f"{first} {last}", "portal", email, PORTAL_PASSWORD) for _, first, last, email, _ in CLIENTS] + \
    [(f"{GUARDIAN['name']} (guardian of Ellis and Kai Reyes)", "portal", GUARDIAN["email"],
      GUARDIAN["password"])]


def _add_missing(session: Session, model, key, make) -> None:
    if session.get(model, key) is None:
        session.add(make())
        session.flush()


def seed(session: Session) -> None:
    now = utcnow()
    org = session.query(Organization).first()
    if org is None:
        org = Organization(
            id=1, name="Cedar Ridge Recovery", phone="(555) 010-2000",
            email="billing@cedarridge.test", address="100 Cedar Ridge Rd, Springfield",
            logo_url="", email_sender_name="Cedar Ridge Billing")
        session.add(org)
    org.welcome_message = org.welcome_message or WELCOME_MESSAGE
    _add_missing(session, Location, "loc_main", lambda: Location(
        id="loc_main", name="Main Campus", address="100 Cedar Ridge Rd, Springfield",
        phone="(555) 010-2000", email="main@cedarridge.test"))
    _add_missing(session, Location, "loc_north", lambda: Location(
        id="loc_north", name="North Clinic", address="42 Birch St, Shelbyville",
        phone="(555) 010-3000", email="north@cedarridge.test"))
    for staff_id, email, name, role, password, locations in STAFF_USERS:
        _add_missing(session, StaffUser, staff_id, lambda: StaffUser(
            id=staff_id, email=email, name=name, role=role,
            password_hash=passwords.hash_password(password)))
        for location_id in locations:
            _add_missing(session, StaffLocation, (staff_id, location_id),
                         lambda: StaffLocation(staff_id=staff_id, location_id=location_id))
    for client_id, first, last, email, born in CLIENTS:
        _add_missing(session, Client, client_id, lambda: Client(
            id=client_id, kind="client", first_name=first, last_name=last, email=email,
            date_of_birth=born, created_at=now))
        client = session.get(Client, client_id)
        client.date_of_birth = client.date_of_birth or born
        _portal_account(session, client_id.replace("cl_", "pa_"), email, f"{first} {last}",
                        PORTAL_PASSWORD, {client_id: "self"})
    for client_id, kind, first, last, born in OTHER_PROFILES:
        _add_missing(session, Client, client_id, lambda: Client(
            id=client_id, kind=kind, first_name=first, last_name=last, date_of_birth=born,
            created_at=now))
    _portal_account(session, GUARDIAN["id"], GUARDIAN["email"], GUARDIAN["name"],
                    GUARDIAN["password"], {c: "guardian" for c in GUARDIAN["clients"]})
    session.commit()


def _portal_account(session: Session, account_id: str, email: str, name: str, password: str,
                    links: dict[str, str]) -> None:
    _add_missing(session, PortalAccount, account_id, lambda: PortalAccount(
        id=account_id, username=email, email=email, name=name,
        password_hash=passwords.hash_password(password)))
    for client_id, relationship in links.items():
        _add_missing(session, AccountClient, (account_id, client_id), lambda: AccountClient(
            account_id=account_id, client_id=client_id, relationship=relationship,
            created_at=utcnow()))


if __name__ == "__main__":
    with Session(engine_for(database_url("clients"))) as db_session:
        seed(db_session)
    sys.stdout.write("clients: demo clinic loaded\n")
