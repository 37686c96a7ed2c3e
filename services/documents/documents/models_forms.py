"""Forms and surveys a client fills in: assigned by staff or started by the
patient (a self-start survey). The answers are kept as JSON, with the
template's version, so the questions they answer can always be shown."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, DateTime, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from documents.models import Base


class FormAssignment(Base):
    __tablename__ = "form_assignments"
    __table_args__ = (
        Index("ix_form_assignments_client_status", "client_id", "status"),
        # at most one unfinished self-started survey of a form per client:
        # two "Start" clicks at once reuse one row
        Index("uq_form_assignments_open_survey", "client_id", "form_key", unique=True,
              postgresql_where=text("self_started AND status = 'assigned'"),
              sqlite_where=text("self_started AND status = 'assigned'")),
    )

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40))
    form_key: Mapped[str] = mapped_column(String(40))
    form_version: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(12))          # assigned | completed
    self_started: Mapped[bool] = mapped_column(Boolean, default=False)
    request_key: Mapped[str | None] = mapped_column(String(80), unique=True, nullable=True)
    assigned_at: Mapped[datetime] = mapped_column(DateTime)
    assigned_by_kind: Mapped[str] = mapped_column(String(10))
    assigned_by_id: Mapped[str] = mapped_column(String(40))
    assigned_by_name: Mapped[str] = mapped_column(String(200), default="")
    answers: Mapped[dict | None] = mapped_column(JSON, nullable=True)
    completed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    completed_by_kind: Mapped[str | None] = mapped_column(String(10), nullable=True)
    completed_by_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    completed_by_name: Mapped[str | None] = mapped_column(String(200), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    severity: Mapped[str | None] = mapped_column(String(30), nullable=True)
    severity_label: Mapped[str | None] = mapped_column(String(60), nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False)
