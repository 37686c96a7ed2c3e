"""Notes, assessments and treatment plans staff choose to share with a
client: read-only in the portal. Unsharing hides one and keeps the row."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import NotFound

from documents import domain, schemas
from documents.library import staff_only
from documents.models import SharedNote

NOT_FOUND = "We could not find that note."


def share(session: Session, client_id: str, payload, by: schemas.By) -> SharedNote:
    staff_only(by)
    parsed = schemas.note_payload(payload)
    note = SharedNote(id=domain.new_id("note"), client_id=client_id, kind=parsed["kind"],
                      title=parsed["title"], body=parsed["body"], written_on=parsed["written_on"],
                      author_name=parsed["author_name"] or by.name, shared_at=utcnow(),
                      shared_by_id=by.id, shared_by_name=by.name)
    session.add(note)
    session.commit()
    return note


def shared_with(session: Session, client_id: str) -> list[SharedNote]:
    return session.scalars(select(SharedNote).where(SharedNote.client_id == client_id,
                                                    SharedNote.unshared_at.is_(None))
                           .order_by(SharedNote.written_on.desc(), SharedNote.shared_at.desc())
                           ).all()


def get(session: Session, note_id: str, client_id: str | None) -> SharedNote:
    note = session.get(SharedNote, note_id)
    if (note is None or note.unshared_at is not None
            or (client_id is not None and note.client_id != client_id)):
        raise NotFound(NOT_FOUND)
    return note


def unshare(session: Session, note_id: str, by: schemas.By) -> None:
    staff_only(by)
    note = session.get(SharedNote, note_id, with_for_update=True)
    if note is None:
        raise NotFound(NOT_FOUND)
    if note.unshared_at is None:
        note.unshared_at, note.unshared_by_name = utcnow(), by.name
    session.commit()
