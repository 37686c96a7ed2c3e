"""The demo clinic's forms and consents for `make run` (clients.demo's ids):
Avery Lindqvist (cl_demo_avery) has a PHQ-9 to fill in and a consent to
treatment to sign; the guardian Morgan Reyes's second child, Kai
(cl_demo_kai), has a GAD-7 and a telehealth consent outstanding. Rows are
written directly (no FormAssigned / ConsentRequested: nobody is emailed).
Safe to run twice."""
from __future__ import annotations

import sys

from sqlalchemy.orm import Session

from servicekit.config import database_url
from servicekit.db import engine_for, utcnow

from documents import consent_templates, form_catalog
from documents.models_consents import Consent
from documents.models_forms import FormAssignment

STAFF_ID, STAFF_NAME = "st_demo_clinician", "Casey Clinician"
# (assignment id, client id, form key)
FORMS = [("frm_demo_avery_phq9", "cl_demo_avery", "phq9"),
         ("frm_demo_kai_gad7", "cl_demo_kai", "gad7")]
# (consent id, client id, template key)
CONSENTS = [("cns_demo_avery_treatment", "cl_demo_avery", "treatment"),
            ("cns_demo_kai_telehealth", "cl_demo_kai", "telehealth")]


def seed(session: Session) -> None:
    now = utcnow()
    for assignment_id, client_id, key in FORMS:
        if session.get(FormAssignment, assignment_id) is None:
            form = form_catalog.get(key)
            session.add(FormAssignment(
                id=assignment_id, client_id=client_id, form_key=key, form_version=form.version,
                title=form.title, status="assigned", self_started=False, assigned_at=now,
                assigned_by_kind="staff", assigned_by_id=STAFF_ID, assigned_by_name=STAFF_NAME,
                flagged=False))
    for consent_id, client_id, key in CONSENTS:
        if session.get(Consent, consent_id) is None:
            template = consent_templates.get(key)
            session.add(Consent(
                id=consent_id, client_id=client_id, template_key=key,
                template_version=template.version, title=template.title, kind=template.kind,
                text=consent_templates.render(template), status="outstanding",
                requested_at=now, requested_by_kind="staff", requested_by_id=STAFF_ID,
                requested_by_name=STAFF_NAME))
    session.commit()


if __name__ == "__main__":
    with Session(engine_for(database_url("documents"))) as db_session:
        seed(db_session)
    sys.stdout.write("documents: demo forms and consents loaded\n")
