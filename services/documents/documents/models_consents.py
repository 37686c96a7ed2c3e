"""Consents: requested from a template (the exact text fixed at request
time), signed once, a release revoked once. The signature is its own row,
insert-only: the migration adds a PostgreSQL trigger refusing UPDATE and
DELETE on consent_signatures, and one refusing any change to a consent's
text or a way back from signed or revoked. Nothing in the code updates a
signature; `verified` is recomputed from the stored bytes each time."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, DateTime, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from documents.models import Base


class Consent(Base):
    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_client_status", "client_id", "status"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    template_key: Mapped[str] = mapped_column(String(40))
    template_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(10))            # consent | release
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12))          # outstanding | signed | revoked
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    requested_at: Mapped[datetime] = mapped_column(DateTime)
    requested_by_kind: Mapped[str] = mapped_column(String(10))
    requested_by_id: Mapped[str] = mapped_column(String(40))
    requested_by_name: Mapped[str] = mapped_column(String(200), default="")
    contact_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    contact_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    contact_may_receive: Mapped[str | None] = mapped_column(String(30), nullable=True)
    contact_until: Mapped[date | None] = mapped_column(Date, nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    signer_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    revoked_by_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    revoked_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ConsentSignature(Base):
    """The signed copy: the canonical document (also in object storage at
    `document_key`), its SHA-256, and the drawing (at `drawing_key`) whose
    SHA-256 is inside the document. Insert-only."""
    __tablename__ = "consent_signatures"

    consent_id: Mapped[str] = mapped_column(String(40), ForeignKey("consents.id"),
                                            primary_key=True)
    typed_name: Mapped[str] = mapped_column(String(200))
    method: Mapped[str] = mapped_column(String(10))          # typed | drawn
    signed_at: Mapped[datetime] = mapped_column(DateTime)
    signer_kind: Mapped[str] = mapped_column(String(10))
    signer_id: Mapped[str] = mapped_column(String(40))
    signer_name: Mapped[str] = mapped_column(String(200))
    ip: Mapped[str] = mapped_column(String(64))
    user_agent: Mapped[str] = mapped_column(String(500))
    drawing_sha256: Mapped[str | None] = mapped_column(String(64), nullable=True)
    drawing_key: Mapped[str | None] = mapped_column(String(200), nullable=True)
    document: Mapped[str] = mapped_column(Text)              # the canonical UTF-8 text
    document_key: Mapped[str] = mapped_column(String(200))
    sha256: Mapped[str] = mapped_column(String(64))
