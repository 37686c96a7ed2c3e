"""Tables the documents service owns (uploads, resources, the handbook,
shared notes, kept PDFs). Forms and consents keep theirs in models_forms.py
and models_consents.py, on the same Base. The outbox and processed_events
tables come from servicekit.tables (the migrations include them)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import BigInteger, Date, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Document(Base):
    """A file a patient, guardian or staff member uploaded for a client.
    `filename` is the cleaned name shown to people; `original_name` is what
    the browser sent, kept as data only; the object lives at `storage_key`
    (generated, never the name)."""
    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    filename: Mapped[str] = mapped_column(String(200))
    original_name: Mapped[str] = mapped_column(String(1000), default="")
    content_type: Mapped[str] = mapped_column(String(60))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    storage_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    uploaded_by_kind: Mapped[str] = mapped_column(String(10))   # portal | staff
    uploaded_by_id: Mapped[str] = mapped_column(String(40), default="")
    uploaded_by_name: Mapped[str] = mapped_column(String(200), default="")


class UploadQuota(Base):
    """One row per client: the bytes their uploads use (stored or reserved
    by an upload being written). An upload locks it (SELECT … FOR UPDATE)
    only to check and reserve, so two at once cannot both squeeze under the
    quota."""
    __tablename__ = "upload_quotas"

    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    used_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class Resource(Base):
    """Something the clinic publishes for every patient: a file, a link, or a
    survey (a form the patient may start). Removing unpublishes, keeps the row."""
    __tablename__ = "resources"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[str] = mapped_column(String(10))    # file | link | survey
    url: Mapped[str | None] = mapped_column(String(2000), nullable=True)
    form_key: Mapped[str | None] = mapped_column(String(40), nullable=True)
    filename: Mapped[str | None] = mapped_column(String(200), nullable=True)
    content_type: Mapped[str | None] = mapped_column(String(60), nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    storage_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    published_at: Mapped[datetime] = mapped_column(DateTime)
    published_by_name: Mapped[str] = mapped_column(String(200), default="")
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    removed_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class Handbook(Base):
    """Every client handbook the clinic has uploaded; the newest is current."""
    __tablename__ = "handbooks"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    size: Mapped[int] = mapped_column(BigInteger)
    storage_key: Mapped[str] = mapped_column(String(200))
    uploaded_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    uploaded_by_name: Mapped[str] = mapped_column(String(200), default="")


class SharedNote(Base):
    """A note, assessment or treatment plan staff chose to share with the
    client (read-only in the portal). Unsharing hides it, keeps the row."""
    __tablename__ = "shared_notes"

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))   # note | assessment | treatment_plan
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    written_on: Mapped[date] = mapped_column(Date)
    author_name: Mapped[str] = mapped_column(String(200), default="")
    shared_at: Mapped[datetime] = mapped_column(DateTime)
    shared_by_id: Mapped[str] = mapped_column(String(40), default="")
    shared_by_name: Mapped[str] = mapped_column(String(200), default="")
    unshared_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    unshared_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class KeptPdf(Base):
    """A PDF invoicing renders that must be kept (a statement or an invoice
    as sent). Queued by an event, fetched by a timer: `claimed_until` is the
    lease of the worker fetching it now; `status` queued | stored | failed."""
    __tablename__ = "kept_pdfs"
    __table_args__ = (UniqueConstraint("kind", "ref_id", name="uq_kept_pdfs_kind_ref"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))     # statement | invoice
    ref_id: Mapped[str] = mapped_column(String(40))
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    cause_event_id: Mapped[str] = mapped_column(String(36))
    status: Mapped[str] = mapped_column(String(10), index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    filename: Mapped[str | None] = mapped_column(String(200), nullable=True)
    size: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    storage_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    stored_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


# Forms and consents live in their own modules on this Base; imported here
# so Base.metadata (migrations, the schema check) always has every table.
from documents import models_consents, models_forms  # noqa: E402,F401
