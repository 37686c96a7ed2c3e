"""The demo clinic's service catalog. Safe to run twice."""
from __future__ import annotations

import sys

from sqlalchemy.orm import Session

from servicekit.config import database_url
from servicekit.db import engine_for

from invoicing.models import BillingProvider, ServiceItem

CATALOG = [
    ("90791", "Psychiatric diagnostic evaluation", 25000),
    ("90834", "Psychotherapy, 45 minutes", 15000),
    ("90837", "Psychotherapy, 60 minutes", 19000),
    ("90853", "Group psychotherapy", 6000),
    ("H0001", "Alcohol and/or drug assessment", 17500),
    ("H0004", "Behavioral health counseling, per 15 minutes", 3500),
]


def seed(session: Session) -> None:
    for code, description, fee in CATALOG:
        if session.get(ServiceItem, code) is None:
            session.add(ServiceItem(code=code, description=description, fee=fee, active=True))
    # estimates: a provider a Good Faith Estimate can name
    if session.get(BillingProvider, "bp_demo_rivera") is None:
        session.add(BillingProvider(id="bp_demo_rivera", name="Sam Rivera", credentials="LCSW",
                                    npi="1234567893", tax_id="12-3456789", license="LCSW 41234",
                                    staff_id="", active=True))
    session.commit()


if __name__ == "__main__":
    with Session(engine_for(database_url("invoicing"))) as db_session:
        seed(db_session)
    sys.stdout.write("invoicing: demo service catalog loaded\n")
