"""PDFs invoicing renders that the clinic must keep as they were: each
statement issued and each invoice sent. An event queues a row (once per
statement or invoice); a timer claims a few rows at a time with FOR UPDATE
SKIP LOCKED and a lease, commits (no lock is held while invoicing renders),
asks invoicing for the PDF with a deadline, stores it, then marks the row
stored. A failure waits longer each time; after KEPT_PDF_MAX_ATTEMPTS, or
when invoicing says the document does not exist, the row is "failed" and
logged for an operator."""
from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import timedelta

from nameko.exceptions import RemoteError
from sqlalchemy import or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import is_postgres, utcnow
from servicekit.errors import NotFound

from documents import domain
from documents.models import KeptPdf
from documents.storage import new_key

log = logging.getLogger(__name__)
NOT_FOUND = "We could not find that document."
QUEUED, STORED, FAILED = "queued", "stored", "failed"
RPC_BY_KIND = {"statement": "statement_pdf", "invoice": "invoice_pdf"}


@dataclass(frozen=True)
class Claimed:
    id: str
    kind: str
    ref_id: str
    attempts: int


def queue(session: Session, kind: str, ref_id: str, client_id: str, event_id: str,
          delay_seconds: float = 0) -> None:
    """Called inside an idempotent handler (the caller commits); a second
    event about the same statement or invoice (an invoice sent again) keeps
    the first row. The first fetch waits `delay_seconds`: there is no hurry,
    and invoicing is then not rendering the same PDF for the person who
    just issued it."""
    now = utcnow()
    values = {"id": domain.new_id("pdf"), "kind": kind, "ref_id": ref_id, "client_id": client_id,
              "cause_event_id": event_id, "status": QUEUED, "attempts": 0,
              "created_at": now, "next_attempt_at": now + timedelta(seconds=delay_seconds)}
    if is_postgres(session):
        session.execute(pg_insert(KeptPdf).values(**values)
                        .on_conflict_do_nothing(constraint="uq_kept_pdfs_kind_ref"))
        return
    if session.scalar(select(KeptPdf.id).where(KeptPdf.kind == kind, KeptPdf.ref_id == ref_id)):
        return
    try:
        with session.begin_nested():
            session.add(KeptPdf(**values))
    except IntegrityError:
        pass


def claim(session: Session, batch: int, lease_seconds: float) -> list[Claimed]:
    """Up to `batch` due rows nobody holds, leased to this worker; committed."""
    now = utcnow()
    rows = session.scalars(
        select(KeptPdf).where(KeptPdf.status == QUEUED,
                              or_(KeptPdf.claimed_until.is_(None), KeptPdf.claimed_until < now),
                              or_(KeptPdf.next_attempt_at.is_(None), KeptPdf.next_attempt_at <= now))
        .order_by(KeptPdf.created_at, KeptPdf.id).limit(batch)
        .with_for_update(skip_locked=True)).all()
    claimed = []
    for row in rows:
        row.claimed_until = now + timedelta(seconds=lease_seconds)
        row.attempts += 1
        claimed.append(Claimed(row.id, row.kind, row.ref_id, row.attempts))
    session.commit()
    return claimed


def fetch_and_store(session: Session, storage, invoicing, item: Claimed,
                    max_attempts: int) -> bool:
    """Ask invoicing for one PDF and keep it. True when stored."""
    try:
        reply = getattr(invoicing, RPC_BY_KIND[item.kind])(item.ref_id)
        data = base64.b64decode(reply["pdf_base64"])
        if domain.sniff(data) != domain.PDF:
            raise ValueError("invoicing answered something that is not a PDF")
        filename = domain.clean_filename(reply.get("filename") or "") or f"{item.kind}.pdf"
        key = new_key("clients")
        storage.put(key, data, domain.PDF)
    except Exception as exc:
        gone = isinstance(exc, RemoteError) and exc.exc_type == "NotFound"
        _failed(session, item, f"{type(exc).__name__}: {getattr(exc, 'exc_type', '')}"[:200],
                final=gone or item.attempts >= max_attempts)
        return False
    done = session.execute(
        update(KeptPdf).where(KeptPdf.id == item.id, KeptPdf.status == QUEUED)
        .values(status=STORED, filename=filename, size=len(data), storage_key=key,
                stored_at=utcnow(), claimed_until=None, last_error=None)).rowcount
    session.commit()
    if not done:           # another worker stored it after our lease ran out
        try:
            storage.delete(key)
        except Exception:
            pass
    return bool(done)


def _failed(session: Session, item: Claimed, error: str, final: bool) -> None:
    wait = timedelta(seconds=min(3600, 10 * 2 ** (item.attempts - 1)))
    values = {"claimed_until": None, "last_error": error,
              "next_attempt_at": utcnow() + wait}
    if final:
        values["status"] = FAILED
        log.error("kept PDF %s (%s) could not be fetched from invoicing: %s", item.id,
                  item.kind, error)
    else:
        log.warning("kept PDF %s (%s) not fetched yet (attempt %d): %s", item.id, item.kind,
                    item.attempts, error)
    session.execute(update(KeptPdf).where(KeptPdf.id == item.id, KeptPdf.status == QUEUED)
                    .values(**values))
    session.commit()


def work(session: Session, storage, invoicing, batch: int, lease_seconds: float,
         max_attempts: int) -> int:
    """One tick: claim a few, fetch each. How many were stored."""
    stored = 0
    for item in claim(session, batch, lease_seconds):
        stored += fetch_and_store(session, storage, invoicing, item, max_attempts)
    return stored


def kept_for(session: Session, client_id: str) -> list[KeptPdf]:
    return session.scalars(select(KeptPdf).where(KeptPdf.client_id == client_id,
                                                 KeptPdf.status == STORED)
                           .order_by(KeptPdf.stored_at.desc(), KeptPdf.id.desc())).all()


def open_kept(session: Session, storage, pdf_id: str, client_id: str | None) -> dict:
    row = session.get(KeptPdf, pdf_id)
    if (row is None or row.status != STORED
            or (client_id is not None and row.client_id != client_id)):
        raise NotFound(NOT_FOUND)
    session.commit()
    return storage.open(row.storage_key, row.filename, domain.PDF)
