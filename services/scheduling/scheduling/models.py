"""Tables the scheduling service owns."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DateTime, Index, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Appointment(Base):
    """One appointment of one client. Times are naive UTC. `revision` goes
    up with every change and travels with the events, so a consumer can
    keep the newest. `join_room` is the random part of the telehealth link
    (never the client's name or id). `clinician_key` is the clinician's name
    folded for the double-booking check. `request_key` makes scheduling the
    same form twice one appointment."""
    __tablename__ = "appointments"
    __table_args__ = (Index("ix_appointments_clinician_time", "clinician_key", "starts_at"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(12))            # in_person | telehealth
    location_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    location_name: Mapped[str] = mapped_column(String(200), default="")
    location_address: Mapped[str] = mapped_column(String(300), default="")
    clinician_name: Mapped[str] = mapped_column(String(120))
    clinician_key: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(12))   # scheduled, cancelled, completed, no_show
    join_room: Mapped[str | None] = mapped_column(String(64), nullable=True, unique=True)
    cancelled_reason: Mapped[str | None] = mapped_column(Text, nullable=True)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    request_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    created_by_kind: Mapped[str] = mapped_column(String(10))
    created_by_name: Mapped[str] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    updated_by_name: Mapped[str] = mapped_column(String(200))
