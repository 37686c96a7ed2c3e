"""Forms and surveys: staff assign a form, a patient starts a self-start
survey, the patient (or staff for them) submits answers, which are checked,
scored and kept. FormAssigned / FormCompleted go through the outbox in the
same transaction as the row."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit import clock
from servicekit.db import iso, utcnow
from servicekit.errors import Conflict, InvalidFields, NotFound
from servicekit.outbox import record_event

from documents import domain, form_catalog, forms_domain, library, schemas
from documents.models_forms import FormAssignment

log = logging.getLogger(__name__)
SOURCE = "documents"
NOT_FOUND = "We could not find that form."
ASSIGNED, COMPLETED = "assigned", "completed"


def template_of(form_key, self_start_only: bool = False) -> form_catalog.FormTemplate:
    form = form_catalog.get(form_key)
    if form is None:
        raise InvalidFields({"form_key": "Choose a form from the list."})
    if self_start_only and not form.self_start:
        raise InvalidFields({"form_key": "This form is filled in when the clinic sends it; "
                                         "it cannot be started here."})
    return form


def _new(client_id: str, form: form_catalog.FormTemplate, by: schemas.By, self_started: bool,
         request_key: str | None) -> FormAssignment:
    return FormAssignment(id=domain.new_id("frm"), client_id=client_id, form_key=form.key,
                          form_version=form.version, title=form.title, status=ASSIGNED,
                          self_started=self_started, request_key=request_key,
                          assigned_at=utcnow(), assigned_by_kind=by.kind, assigned_by_id=by.id,
                          assigned_by_name=by.name, flagged=False)


def assign(session: Session, client_id: str, form_key, by: schemas.By,
           request_key: str | None) -> FormAssignment:
    """Staff assign a form; the same request_key again answers the first."""
    library.staff_only(by)
    form = template_of(form_key)
    if request_key:
        earlier = _by_request_key(session, request_key, client_id)
        if earlier is not None:
            return earlier
    row = _new(client_id, form, by, False, request_key)
    session.add(row)
    record_event(session, SOURCE, "FormAssigned", {
        "assignment_id": row.id, "client_id": client_id, "form_key": form.key,
        "assigned_by": by.id})
    try:
        session.commit()
    except IntegrityError:           # the same request raced itself
        session.rollback()
        earlier = _by_request_key(session, request_key, client_id) if request_key else None
        if earlier is None:
            raise
        return earlier
    log.info("form %s assigned (%s)", row.id, form.key)
    return row


def _by_request_key(session: Session, request_key: str, client_id: str):
    earlier = session.scalar(select(FormAssignment)
                             .where(FormAssignment.request_key == request_key))
    if earlier is not None and earlier.client_id != client_id:
        raise Conflict("This form was already assigned.")
    return earlier


def _unfinished(session: Session, client_id: str, form_key: str) -> FormAssignment | None:
    return session.scalars(select(FormAssignment).where(
        FormAssignment.client_id == client_id, FormAssignment.form_key == form_key,
        FormAssignment.status == ASSIGNED)
        .order_by(FormAssignment.assigned_at, FormAssignment.id).limit(1)).first()


def start_survey(session: Session, client_id: str, form_key, by: schemas.By) -> FormAssignment:
    """A self-start survey the patient opens from Resources or Additional
    Surveys: an unfinished one of the same form (assigned or started before)
    is reused; otherwise a new one (no FormAssigned: nobody needs telling)."""
    form = template_of(form_key, self_start_only=True)
    earlier = _unfinished(session, client_id, form.key)
    if earlier is not None:
        return earlier
    row = _new(client_id, form, by, True, None)
    session.add(row)
    try:
        session.commit()
    except IntegrityError:           # two "Start" clicks at once: the other one won
        session.rollback()
        earlier = _unfinished(session, client_id, form.key)
        if earlier is None:
            raise
        return earlier
    return row


def list_forms(session: Session, client_id: str) -> list[FormAssignment]:
    """To fill in first (oldest first), then completed (newest first)."""
    rows = session.scalars(select(FormAssignment).where(FormAssignment.client_id == client_id)
                           .order_by(FormAssignment.assigned_at, FormAssignment.id)).all()
    return [r for r in rows if r.status == ASSIGNED] + \
        sorted((r for r in rows if r.status == COMPLETED),
               key=lambda r: (r.completed_at, r.id), reverse=True)


def get(session: Session, assignment_id: str, client_id: str | None,
        lock: bool = False) -> FormAssignment:
    query = select(FormAssignment).where(FormAssignment.id == assignment_id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    row = session.scalars(query).first()
    if row is None or (client_id is not None and row.client_id != client_id):
        raise NotFound(NOT_FOUND)
    return row


def submit(session: Session, assignment_id: str, client_id: str | None, answers,
           by: schemas.By) -> FormAssignment:
    """Check every answer (InvalidFields keyed by question id, nothing
    saved), score, keep; Conflict when already completed."""
    row = get(session, assignment_id, client_id, lock=True)
    if row.status == COMPLETED:
        session.rollback()
        raise Conflict("This form is already completed.")
    form = form_catalog.get(row.form_key)
    try:
        kept = forms_domain.check_answers(form, answers, clock.today())
    except Exception:
        session.rollback()
        raise
    result = forms_domain.score(form, kept)
    now = utcnow()
    row.answers, row.status, row.completed_at = kept, COMPLETED, now
    row.completed_by_kind, row.completed_by_id, row.completed_by_name = by.kind, by.id, by.name
    row.score, row.severity, row.severity_label = result.score, result.severity, \
        result.severity_label
    row.flagged = result.flagged
    # no score, severity or flag in the event (PHI nobody consumes): staff read them over RPC
    payload = {"assignment_id": row.id, "client_id": row.client_id, "form_key": row.form_key,
               "completed_at": iso(now)}
    record_event(session, SOURCE, "FormCompleted", payload)
    session.commit()
    log.info("form %s completed (%s)", row.id, row.form_key)   # no answers, no score
    return row


def assignment_out(row: FormAssignment) -> dict:
    return {"id": row.id, "client_id": row.client_id, "form_key": row.form_key,
            "title": row.title, "status": row.status, "assigned_at": iso(row.assigned_at),
            "assigned_by_name": row.assigned_by_name, "self_started": bool(row.self_started),
            "completed_at": iso(row.completed_at) if row.completed_at else None,
            "score": row.score, "severity": row.severity, "severity_label": row.severity_label,
            "flagged": bool(row.flagged)}


def detail_out(row: FormAssignment) -> dict:
    form = form_catalog.get(row.form_key)
    shown = assignment_out(row)
    shown.update(questions=form_catalog.questions_out(form), instructions=form.instructions,
                 answers=dict(row.answers or {}) if row.status == COMPLETED else {},
                 max_score=form.max_score if form.scored else None)
    return shown
