"""Tables the notifications service owns."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


class Delivery(Base):
    """One notification to one person, caused by one event. (cause_event_id,
    kind) is unique: it is what makes a redelivered event send nothing new.
    `claimed_until` is the lease of the worker sending it right now.
    `person_id` is who it is for (a client, portal account or staff id);
    `client_id` the client it concerns, if any (none for a staff member)."""
    __tablename__ = "deliveries"
    __table_args__ = (UniqueConstraint("cause_event_id", "kind", name="uq_deliveries_cause_kind"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    cause_event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    channel: Mapped[str] = mapped_column(String(10))  # email | portal
    client_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    person_id: Mapped[str | None] = mapped_column(String(40), index=True, nullable=True)
    recipient: Mapped[str] = mapped_column(String(254), default="")
    status: Mapped[str] = mapped_column(String(10))  # queued | sent | failed | skipped
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    provider_message_id: Mapped[str | None] = mapped_column(String(250), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, index=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class InboxMessage(Base):
    """A message in a client's portal inbox."""
    __tablename__ = "inbox_messages"
    __table_args__ = (UniqueConstraint("cause_event_id", "kind", name="uq_inbox_cause_kind"),)

    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    cause_event_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text)
    invoice_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    read_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Preference(Base):
    """What one person (a client or a portal account) wants to receive.
    No row: the defaults (reminders on). Transactional mail has no switch."""
    __tablename__ = "notification_preferences"

    person_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    reminders: Mapped[bool] = mapped_column(Boolean, default=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class AppointmentCopy(Base):
    """What notifications knows of an appointment, from scheduling's
    AppointmentScheduled / AppointmentChanged: when, where, status, and its
    reminder. `revision` (or the event's `occurred_at` when an event has
    none) keeps the newest: a late, older event changes nothing.
    `reminder_key` names one reminder (the delivery's cause): a new start
    time gets a new key, so a moved appointment is reminded again, once.
    `reminder_state`: pending (waits for `reminder_due_at`), sending (a
    worker claimed it until `claimed_until`), sent, skipped, failed, or none
    (cancelled, completed, or no reminder due)."""
    __tablename__ = "appointment_reminders"
    __table_args__ = (Index("ix_appointment_reminders_due", "reminder_state", "reminder_due_at"),)

    appointment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    starts_at: Mapped[datetime] = mapped_column(DateTime)
    ends_at: Mapped[datetime] = mapped_column(DateTime)
    mode: Mapped[str] = mapped_column(String(12))
    location_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    status: Mapped[str] = mapped_column(String(12))
    revision: Mapped[int | None] = mapped_column(Integer, nullable=True)
    occurred_at: Mapped[datetime] = mapped_column(DateTime)
    reminder_key: Mapped[str | None] = mapped_column(String(36), nullable=True)
    reminder_due_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    reminder_state: Mapped[str] = mapped_column(String(10))
    claimed_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
