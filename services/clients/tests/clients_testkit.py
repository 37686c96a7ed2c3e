"""A small clinic for the clients service tests, seeded straight into a
fresh migrated database (argon2 hashes are computed once per run), and a
handle on the running service: RPC, SQL, the outbox and the audit log."""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import text
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from tests.support.processes import wait_until

from clients.models import (
    AccountClient, Client, Location, Organization, PortalAccount, StaffLocation, StaffUser,
)

STAFF_PASSWORD = "correct horse battery staple"
PORTAL_PASSWORD = "blue river stones 42"
LINK_SECRET = "test-account-link-secret"

STAFF = {  # id: (email, role, active)
    "st_front": ("front@clinic.test", "front_desk", True),
    "st_bill": ("bill@clinic.test", "biller", True),
    "st_clin": ("clin@clinic.test", "clinician", True),
    "st_admin": ("admin@clinic.test", "administrator", True),
    "st_gone": ("gone@clinic.test", "front_desk", False),
}
CLIENTS = {  # id: (kind, first, last)
    "cl_avery": ("client", "Avery", "Lindqvist"),
    "cl_ellis": ("client", "Ellis", "Reyes"),
    "cl_kai": ("client", "Kai", "Reyes"),
    "cl_sam": ("client", "Sam", "Okafor"),
    "cl_inq": ("inquiry", "Quinn", "Harper"),
}
PORTAL = {  # id: (username, name, {client: relationship})
    "pa_avery": ("avery@home.test", "Avery Lindqvist", {"cl_avery": "self"}),
    "pa_morgan": ("morgan@home.test", "Morgan Reyes", {"cl_ellis": "guardian", "cl_kai": "guardian"}),
}


def staff(staff_id: str, ip: str = "10.0.0.1") -> dict:
    return {"kind": "staff", "id": staff_id, "ip": ip}


def portal(account_id: str, client_id: str, ip: str = "10.0.0.2") -> dict:
    return {"kind": "portal", "id": account_id, "client_id": client_id, "ip": ip}


def seed(session: Session, hashes: dict) -> None:
    now = utcnow()
    session.add(Organization(id=1, name="Cedar Ridge Recovery", phone="(555) 010-2000",
                             email="billing@clinic.test", address="1 Main St", logo_url="",
                             email_sender_name="Cedar Ridge Billing", welcome_message="Hello"))
    session.add_all([Location(id="loc_main", name="Main", address="1 Main St", phone="", email=""),
                     Location(id="loc_north", name="North", address="", phone="", email="")])
    for staff_id, (email, role, active) in STAFF.items():
        session.add(StaffUser(id=staff_id, email=email, name=f"{role.title()} Person", role=role,
                              active=active, password_hash=hashes["staff"]))
    session.flush()
    session.add(StaffLocation(staff_id="st_front", location_id="loc_main"))
    for client_id, (kind, first, last) in CLIENTS.items():
        session.add(Client(id=client_id, kind=kind, first_name=first, last_name=last,
                           email=f"{first.lower()}@home.test", created_at=now,
                           date_of_birth=date(2012, 1, 1) if last == "Reyes" else None))
    session.flush()
    for account_id, (username, name, links) in PORTAL.items():
        session.add(PortalAccount(id=account_id, username=username, email=username, name=name,
                                  password_hash=hashes["portal"]))
        session.flush()
        for client_id, relationship in links.items():
            session.add(AccountClient(account_id=account_id, client_id=client_id,
                                      relationship=relationship, created_at=now))
    session.commit()


@dataclass
class Kit:
    rpc: object
    engine: object
    config: dict

    def sql(self, query: str, **params):
        with self.engine.begin() as connection:
            result = connection.execute(text(query), params)
            return result.all() if result.returns_rows else result.rowcount

    def count(self, table: str) -> int:
        return self.sql(f"select count(*) from {table}")[0][0]

    def outbox(self, event_type: str) -> list[dict]:
        rows = self.sql("select envelope from outbox where event_type = :t order by seq", t=event_type)
        return [json.loads(row.envelope) for row in rows]

    def audit(self, action: str | None = None, **where) -> list:
        if action:
            where["action"] = action
        clause = " and ".join(f"{name} = :{name}" for name in where)
        return self.sql("select * from audit_log" + (f" where {clause}" if clause else "")
                        + " order by id", **where)

    def audited(self, action: str, count: int = 1, **where) -> list:
        """Entries of a read, which the service writes behind the request:
        polled until `count` are there."""
        def written():
            rows = self.audit(action, **where)
            return rows if len(rows) >= count else None
        return wait_until(written, timeout=5, what=f"{count} {action} audit entries")

    def sign_in(self, kind: str, login: str, password: str) -> dict:
        result = self.rpc.sign_in(kind, login, password, "10.0.0.9")
        assert result["status"] == "ok", result
        return result["session"]

    def staff_session(self, staff_id: str = "st_front") -> dict:
        return self.sign_in("staff", STAFF[staff_id][0], STAFF_PASSWORD)

    def portal_session(self, account_id: str = "pa_avery") -> dict:
        return self.sign_in("portal", PORTAL[account_id][0], PORTAL_PASSWORD)


def remote_error(call, exc_type: str) -> RemoteError:
    """Run `call`; it must fail with `exc_type`. Returns the error."""
    with pytest.raises(RemoteError) as caught:
        call()
    assert caught.value.exc_type == exc_type, (caught.value.exc_type, caught.value.value)
    return caught.value
