"""The demo clinic's documents for `make run`: a client handbook (a PDF made
here with servicekit.pdf), three resources (a link, a file and the PHQ-9 as a
survey patients may start) and a treatment plan shared with Avery Lindqvist
(clients.demo's cl_demo_avery). Safe to run twice; a file whose object went
missing (`make clean` empties var/) is stored again."""
from __future__ import annotations

import sys
from datetime import date

from sqlalchemy.orm import Session

from servicekit import pdf
from servicekit.config import database_url
from servicekit.db import engine_for, utcnow

from documents import domain, settings, storage as storage_module
from documents.models import Handbook, Resource, SharedNote

DEMO_CLIENT = "cl_demo_avery"
BY = "Alex Administrator"

PAGE = """<!doctype html><html><head><meta charset="utf-8"><title>{title}</title><style>
body {{ font-family: sans-serif; font-size: 11pt; line-height: 1.45; margin: 2cm; color: #222; }}
h1 {{ font-size: 18pt; }} h2 {{ font-size: 13pt; margin-top: 1.2em; }}
</style></head><body><h1>{title}</h1>{body}</body></html>"""

HANDBOOK = """
<p>Welcome to Cedar Ridge Recovery. This handbook tells you what to expect from us and what we
ask of you.</p>
<h2>Appointments</h2>
<p>Please arrive ten minutes early for your first visit. If you cannot come, tell us at least
24 hours before your appointment at (555) 010-2000.</p>
<h2>Telehealth</h2>
<p>For a video session, open the portal a few minutes before the start and press Join. Use a
private, quiet room.</p>
<h2>Your privacy</h2>
<p>What you tell us is confidential. We share it only with your written consent, or when the
law requires it. Substance use treatment records are protected by 42 CFR Part 2.</p>
<h2>Billing</h2>
<p>You can see and pay your bills in the portal under Billing. Ask us about payment plans.</p>
<h2>In a crisis</h2>
<p>Call or text 988 (Suicide and Crisis Lifeline), or call 911.</p>
"""

WORKSHEET = """
<p>Use this sheet when a craving or a hard feeling comes.</p>
<h2>1. Notice</h2><p>What am I feeling? Where do I feel it in my body?</p>
<h2>2. Pause</h2><p>Breathe in for four counts, hold for four, out for six. Repeat five times.</p>
<h2>3. Choose</h2><p>Call someone on my list, take a walk, or write for ten minutes.</p>
<h2>My list</h2><p>1. ____________________ 2. ____________________ 3. ____________________</p>
"""

PLAN = """Treatment plan for the next 12 weeks

Goal 1: Sleep at least 7 hours on most nights.
- Keep a sleep diary; bring it to each session.
- No screens in the hour before bed.

Goal 2: Fewer days with strong cravings.
- Practise the pause-and-breathe exercise daily (see Resources).
- Attend one peer support meeting a week.

Goal 3: Return to part-time work.
- Update the resume with your counselor by week 4.

We review this plan together every four weeks."""


def _page(title: str, body: str) -> bytes:
    return pdf.render(PAGE.format(title=title, body=body))


def _keep_file(store, row, data_maker) -> None:
    """Store the row's object when it is missing (first run or after `make clean`)."""
    if not store.exists(row.storage_key):
        data = data_maker()
        store.put(row.storage_key, data, domain.PDF)
        row.size = len(data)


def seed(session: Session, store) -> None:
    now = utcnow()
    handbook = session.get(Handbook, "hbk_demo")
    if handbook is None:
        handbook = Handbook(id="hbk_demo", filename="Cedar Ridge client handbook.pdf", size=0,
                            storage_key="handbook/demo/client-handbook", uploaded_at=now,
                            uploaded_by_name=BY)
        session.add(handbook)
    _keep_file(store, handbook, lambda: _page("Client handbook", HANDBOOK))

    resources = [
        Resource(id="res_demo_crisis", kind="link", title="988 Suicide and Crisis Lifeline",
                 description="Call or text 988 any time, day or night.",
                 url="https://988lifeline.org/", published_at=now, published_by_name=BY),
        Resource(id="res_demo_worksheet", kind="file", title="Coping with cravings (worksheet)",
                 description="A one-page exercise to print or fill in.",
                 filename="Coping with cravings.pdf", content_type=domain.PDF, size=0,
                 storage_key="resources/demo/coping-worksheet", published_at=now,
                 published_by_name=BY),
        Resource(id="res_demo_phq9", kind="survey", title="How have you been feeling? (PHQ-9)",
                 description="Nine short questions about the last two weeks; your clinician "
                             "sees the answers.", form_key="phq9", published_at=now,
                 published_by_name=BY),
    ]
    for resource in resources:
        if session.get(Resource, resource.id) is None:
            session.add(resource)
    worksheet = session.get(Resource, "res_demo_worksheet") or resources[1]
    _keep_file(store, worksheet, lambda: _page("Coping with cravings", WORKSHEET))

    if session.get(SharedNote, "note_demo_plan") is None:
        session.add(SharedNote(id="note_demo_plan", client_id=DEMO_CLIENT, kind="treatment_plan",
                               title="Treatment plan", body=PLAN, written_on=date(2026, 11, 2),
                               author_name="Casey Clinician", shared_at=now,
                               shared_by_id="st_demo_clinician", shared_by_name="Casey Clinician"))
    session.commit()


if __name__ == "__main__":
    backend = storage_module.from_settings(settings.load({}))
    with Session(engine_for(database_url("documents"))) as db_session:
        seed(db_session, backend)
    sys.stdout.write("documents: demo handbook, resources and treatment plan loaded\n")
