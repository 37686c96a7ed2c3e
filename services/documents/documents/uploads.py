"""Uploads: a file a patient, guardian or staff member gives the clinic for
one client. Checked by its bytes (never its name), bounded in size and by the
client's quota, stored under a generated key; the name people gave it is
kept as data only.

Order of work, so no row ever points at a missing file and no lock is held
while the object is written: check everything; in one short transaction lock
the client's quota row, check the room and reserve the bytes (commit); put
the object; then insert the row and record DocumentUploaded in one
transaction. If the put or that commit fails the object is deleted (best
effort) and the reserved bytes are given back: at worst an orphan object is
left, never a row without its file. Two uploads at once take turns only at
the reservation, so they cannot both pass the quota."""
from __future__ import annotations

import hashlib
import logging

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import is_postgres, utcnow
from servicekit.errors import Conflict, InvalidFields, NotFound
from servicekit.outbox import record_event

from documents import domain, schemas
from documents.models import Document, UploadQuota
from documents.storage import new_key

log = logging.getLogger(__name__)
SOURCE = "documents"
NOT_FOUND = "We could not find that document."


def upload(session: Session, storage, settings, client_id: str, filename, content_b64,
           by: schemas.By, request_key: str | None) -> Document:
    """Store one file for `client_id`; the same request_key again answers the
    first document. Refusals (InvalidFields {"file": ...}) store nothing."""
    if request_key:
        earlier = _by_request_key(session, request_key, client_id)
        if earlier is not None:
            return earlier
    name = schemas.filename(filename)
    data = schemas.file_bytes(content_b64, settings.upload_max_bytes)
    content_type = domain.sniff(data)
    if content_type is None:
        raise InvalidFields({"file": domain.NOT_ALLOWED})
    if len(data) > settings.upload_quota_bytes:
        raise InvalidFields({"file": domain.NO_ROOM})

    # 1. reserve the bytes in one short transaction (the quota row is locked
    #    only while it is checked and counted, never while the object is written)
    quota = _lock_quota(session, client_id)
    if request_key:       # the same request racing itself waited on the lock above
        earlier = _by_request_key(session, request_key, client_id)
        if earlier is not None:
            session.rollback()
            return earlier
    if not domain.fits_quota(quota.used_bytes, len(data), settings.upload_quota_bytes):
        session.rollback()
        raise InvalidFields({"file": domain.NO_ROOM})
    quota.used_bytes += len(data)
    quota.updated_at = utcnow()
    session.commit()

    # 2. write the object, no lock held; 3. the row and DocumentUploaded in one
    #    transaction. Any failure gives the reserved bytes back.
    key = new_key("clients")
    try:
        storage.put(key, data, content_type)    # before the row: never a row without a file
    except Exception:
        session.rollback()
        _release(session, client_id, len(data))
        raise
    now = utcnow()
    document = Document(id=domain.new_id("doc"), client_id=client_id, filename=name,
                        original_name=filename[:1000] if isinstance(filename, str) else "",
                        content_type=content_type, size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), storage_key=key,
                        request_key=request_key, uploaded_at=now, uploaded_by_kind=by.kind,
                        uploaded_by_id=by.id, uploaded_by_name=by.name)
    try:
        session.add(document)
        record_event(session, SOURCE, "DocumentUploaded", {
            "document_id": document.id, "client_id": client_id, "uploaded_by": by.kind,
            "content_type": content_type, "size": len(data)})
        session.commit()
    except IntegrityError:
        # the same request_key finished first while this one was writing
        session.rollback()
        _forget_object(storage, key)
        _release(session, client_id, len(data))
        earlier = _by_request_key(session, request_key, client_id) if request_key else None
        if earlier is None:
            raise
        return earlier
    except Exception:
        session.rollback()
        _forget_object(storage, key)
        _release(session, client_id, len(data))
        raise
    log.info("document %s uploaded (%s, %d bytes)", document.id, content_type, len(data))
    return document


def _release(session: Session, client_id: str, size: int) -> None:
    """Give back bytes reserved for an upload that was not saved (best
    effort: if even this fails the client has that much less room until
    staff look; never more room than is used)."""
    try:
        quota = _lock_quota(session, client_id)
        quota.used_bytes = max(0, quota.used_bytes - size)
        quota.updated_at = utcnow()
        session.commit()
    except Exception:
        session.rollback()
        log.warning("could not give back the quota reserved for an upload that was not saved")


def _by_request_key(session: Session, request_key: str, client_id: str) -> Document | None:
    earlier = session.scalar(select(Document).where(Document.request_key == request_key))
    if earlier is not None and earlier.client_id != client_id:
        raise Conflict("This upload was already made.")
    return earlier


def _lock_quota(session: Session, client_id: str) -> UploadQuota:
    """The client's quota row, created if missing, locked until the commit:
    two uploads for one client at once take turns here."""
    now = utcnow()
    if is_postgres(session):
        session.execute(pg_insert(UploadQuota).values(client_id=client_id, used_bytes=0,
                                                      updated_at=now)
                        .on_conflict_do_nothing(index_elements=["client_id"]))
    elif session.get(UploadQuota, client_id) is None:
        try:
            with session.begin_nested():
                session.add(UploadQuota(client_id=client_id, used_bytes=0, updated_at=now))
        except IntegrityError:
            pass
    return session.scalars(select(UploadQuota).where(UploadQuota.client_id == client_id)
                           .with_for_update().execution_options(populate_existing=True)).one()


def _forget_object(storage, key: str) -> None:
    try:
        storage.delete(key)
    except Exception:    # the orphan stays; it holds no row and nobody can reach it
        log.warning("could not delete the object of an upload that was not saved")


def list_documents(session: Session, client_id: str) -> list[Document]:
    return session.scalars(select(Document).where(Document.client_id == client_id)
                           .order_by(Document.uploaded_at.desc(), Document.id.desc())).all()


def get_document(session: Session, document_id: str, client_id: str | None) -> Document:
    document = session.get(Document, document_id)
    if document is None or (client_id is not None and document.client_id != client_id):
        raise NotFound(NOT_FOUND)
    return document
