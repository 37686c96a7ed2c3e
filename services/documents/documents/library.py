"""What the clinic publishes for every patient: resources (a file, a link or
a survey to start) and the client handbook (a PDF; the newest upload is the
current one, earlier ones are kept). Moved here from the clients service."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import Forbidden, InvalidFields, NotFound

from documents import domain, schemas
from documents.models import Handbook, Resource
from documents.storage import new_key

RESOURCE_NOT_FOUND = "We could not find that resource."
NO_HANDBOOK = "The clinic has not published a client handbook yet."
HANDBOOK_NOT_PDF = "The handbook must be a PDF file."


def staff_only(by: schemas.By) -> None:
    if by.kind != "staff":
        raise Forbidden("Only the clinic's staff can do this.")


# ---- resources ---------------------------------------------------------------

def published(session: Session) -> list[Resource]:
    return session.scalars(select(Resource).where(Resource.removed_at.is_(None))
                           .order_by(Resource.published_at.desc(), Resource.id.desc())).all()


def add_resource(session: Session, storage, settings, payload, by: schemas.By) -> Resource:
    staff_only(by)
    parsed = schemas.resource_payload(payload, settings.upload_max_bytes)
    resource = Resource(id=domain.new_id("res"), title=parsed["title"],
                        description=parsed["description"], kind=parsed["kind"],
                        published_at=utcnow(), published_by_name=by.name)
    if parsed["kind"] == "link":
        resource.url = parsed["url"]
    elif parsed["kind"] == "survey":
        resource.form_key = parsed["form_key"]
    else:
        resource.filename, resource.content_type = parsed["filename"], parsed["content_type"]
        resource.size, resource.storage_key = len(parsed["data"]), new_key("resources")
        storage.put(resource.storage_key, parsed["data"], resource.content_type)
    session.add(resource)
    session.commit()
    return resource


def remove_resource(session: Session, resource_id: str, by: schemas.By) -> None:
    """Unpublished, kept (a second removal changes nothing)."""
    staff_only(by)
    resource = session.get(Resource, resource_id, with_for_update=True)
    if resource is None:
        raise NotFound(RESOURCE_NOT_FOUND)
    if resource.removed_at is None:
        resource.removed_at, resource.removed_by_name = utcnow(), by.name
    session.commit()


def open_resource(session: Session, storage, resource_id: str) -> dict:
    resource = session.get(Resource, resource_id)
    if resource is None or resource.removed_at is not None or resource.kind != "file":
        raise NotFound(RESOURCE_NOT_FOUND)
    session.commit()       # no read transaction left open while the store answers
    return storage.open(resource.storage_key, resource.filename, resource.content_type)


# ---- the client handbook -----------------------------------------------------

def current_handbook(session: Session) -> Handbook | None:
    return session.scalars(select(Handbook).order_by(Handbook.uploaded_at.desc(),
                                                     Handbook.id.desc()).limit(1)).first()


def handbook_info(session: Session) -> dict | None:
    """{"filename"} of the current handbook, or None (for portal_summary)."""
    row = current_handbook(session)
    return None if row is None else {"filename": row.filename}


def set_handbook(session: Session, storage, settings, filename, content_b64,
                 by: schemas.By) -> Handbook:
    staff_only(by)
    name = schemas.filename(filename)
    data = schemas.file_bytes(content_b64, settings.upload_max_bytes)
    if domain.sniff(data) != domain.PDF:
        raise InvalidFields({"file": HANDBOOK_NOT_PDF})
    row = Handbook(id=domain.new_id("hbk"), filename=name, size=len(data),
                   storage_key=new_key("handbook"), uploaded_at=utcnow(), uploaded_by_name=by.name)
    storage.put(row.storage_key, data, domain.PDF)
    session.add(row)
    session.commit()
    return row


def open_handbook(session: Session, storage) -> dict:
    row = current_handbook(session)
    if row is None:
        raise NotFound(NO_HANDBOOK)
    session.commit()
    return storage.open(row.storage_key, row.filename, domain.PDF)
