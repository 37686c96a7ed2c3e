"""The people `make load` simulates: distinct staff users and portal
accounts, each portal account linked to its own client with invoices posted
to the portal; then every one of them signs in over HTTP.

Rows are written straight into the services' databases with their own model
classes, password hashing and invoicing use cases (so invoices get real
numbers, totals and outbox events), before the services start."""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import date

from sqlalchemy import create_engine, func, select
from sqlalchemy.orm import Session

from clients import passwords
from clients.models import AccountClient, Client, PortalAccount, StaffLocation, StaffUser
from invoicing import schemas, usecases
from servicekit.db import utcnow
from servicekit.tables import outbox, processed_events

PASSWORD = {"staff": "load-bench-staff-2026", "portal": "load-bench-portal-2026"}
STAFF_ROLES = ("front_desk", "biller")      # both hold billing.read
LOCATIONS = ("loc_main", "loc_north")
INVOICE_LINES = [{"service_code": "90834", "units": 1}, {"service_code": "90853", "units": 2}]
SENDER = "st_demo_biller"


def seed(urls: dict, staff: int, portal: int, invoices_per_client: int) -> dict[str, list[dict]]:
    """{"staff": [...], "portal": [...]}: each a login, a password and the
    values its pages are filled with."""
    clients = _seed_clients(urls["clients"], staff, portal)
    invoices = _seed_invoices(urls["invoicing"], [c["client_id"] for c in clients],
                              invoices_per_client)
    for client in clients:
        client["invoice_id"], client["invoice_number"] = invoices[client["client_id"]][0]
    return {
        "staff": [{"login": f"staff{n:03d}@load.cairn.test", "password": PASSWORD["staff"],
                   "vars": clients[n % len(clients)]} for n in range(staff)],
        "portal": [{"login": c["login"], "password": PASSWORD["portal"], "vars": c}
                   for c in clients],
    }


def _seed_clients(url: str, staff: int, portal: int) -> list[dict]:
    # one hash per area: argon2 costs ~0.1 s, and a shared hash (with its
    # salt) verifies exactly like separate ones at sign-in
    hashes = {area: passwords.hash_password(PASSWORD[area]) for area in PASSWORD}
    now, clients = utcnow(), []
    engine = create_engine(url)
    with Session(engine) as session:
        for n in range(staff):
            session.add(StaffUser(id=f"st_load_{n:03d}", email=f"staff{n:03d}@load.cairn.test",
                                  name=f"Load Staff {n:03d}", role=STAFF_ROLES[n % 2],
                                  password_hash=hashes["staff"]))
        session.flush()
        session.add_all(StaffLocation(staff_id=f"st_load_{n:03d}", location_id=location)
                        for n in range(staff) for location in LOCATIONS)
        for n in range(portal):
            clients.append(_add_portal_client(session, n, hashes["portal"], now))
        session.commit()
    engine.dispose()
    return clients


def _add_portal_client(session: Session, n: int, password_hash: str, now) -> dict:
    client_id, login, first = f"cl_load_{n:03d}", f"portal{n:03d}@load.cairn.test", f"Pat{n:03d}"
    session.add(Client(id=client_id, kind="client", first_name=first, last_name="Loadtest",
                       email=login, date_of_birth=date(1980, 1, 1 + n % 28), created_at=now))
    session.add(PortalAccount(id=f"pa_load_{n:03d}", username=login, email=login,
                              name=f"{first} Loadtest", password_hash=password_hash))
    session.flush()
    session.add(AccountClient(account_id=f"pa_load_{n:03d}", client_id=client_id,
                              relationship="self", created_at=now))
    return {"client_id": client_id, "client_name": f"{first} Loadtest", "first_name": first,
            "login": login}


def _seed_invoices(url: str, client_ids: list[str], per_client: int) -> dict[str, list]:
    """Invoices saved and posted to the portal through invoicing's own use
    cases: [(id, number)] per client."""
    made: dict[str, list] = {}
    engine = create_engine(url)
    with Session(engine) as session:
        for client_id in client_ids:
            for _ in range(per_client):
                data = schemas.invoice_input({
                    "client_id": client_id, "location_id": "loc_main",
                    "payment_type": "private_pay", "lines": INVOICE_LINES})
                invoice = usecases.save_invoice(session, data, SENDER)
                usecases.send_invoice(session, invoice.id, "portal", SENDER)
                made.setdefault(client_id, []).append((invoice.id, invoice.number))
            session.commit()
    engine.dispose()
    return made


def settled(urls: dict, invoices: int) -> bool:
    """True once every outbox is published and notifications has handled
    every InvoiceSent, so the seed's events do not load the measurements."""
    for service, url in urls.items():
        engine = create_engine(url)
        try:
            with engine.connect() as connection:
                if connection.scalar(select(func.count()).select_from(outbox)
                                     .where(outbox.c.sent_at.is_(None))):
                    return False
                if service == "notifications" and connection.scalar(
                        select(func.count()).select_from(processed_events)
                        .where(processed_events.c.handler.like("%invoice_sent%"))) < invoices:
                    return False
        finally:
            engine.dispose()
    return True


def sign_in_all(base_url: str, area: str, people: list[dict], cookie: str) -> list[dict]:
    """Each person signs in on the real sign-in page (CSRF and all) and keeps
    their own session cookie: [{"cookie": "name=value", "vars": {...}}]."""
    from tests.fixtures.stack import Browser

    def one(person: dict) -> dict:
        browser = Browser(base_url)
        response = browser.sign_in(area, person["login"], person["password"])
        if response.status_code != 200 or not response.url.endswith(f"/{area}"):
            raise RuntimeError(f"{person['login']} could not sign in: {response.status_code}")
        return {"cookie": f"{cookie}={browser.cookies[cookie]}", "vars": person["vars"]}

    with ThreadPoolExecutor(8) as pool:
        return list(pool.map(one, people))
