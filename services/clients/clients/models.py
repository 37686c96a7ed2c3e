"""Tables the clients service owns: people (client, inquiry and guarantor
profiles, contacts, insurance), the organization, and access (staff users,
portal accounts, sessions, password links, the append-only audit log)."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, Date, DateTime, ForeignKey, Index, Integer, LargeBinary, String, Text,
    true,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


class Base(DeclarativeBase):
    pass


def _text(length: int | None = None, **kwargs):
    return mapped_column(String(length) if length else Text, default="", server_default="",
                         **kwargs)


# ---- organization ------------------------------------------------------------
class Organization(Base):
    __tablename__ = "organization"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    logo_url: Mapped[str] = mapped_column(String(500), default="")
    email_sender_name: Mapped[str] = mapped_column(String(200), default="")
    welcome_message: Mapped[str] = _text()


class Handbook(Base):
    """No longer written or read: the client handbook moved to the documents
    service (issue 9). The table stays until a release that may drop data."""
    __tablename__ = "handbook"
    id: Mapped[int] = mapped_column(primary_key=True)
    filename: Mapped[str] = mapped_column(String(200))
    content_type: Mapped[str] = mapped_column(String(100))
    content: Mapped[bytes] = mapped_column(LargeBinary)
    size: Mapped[int] = mapped_column(Integer)
    uploaded_at: Mapped[datetime] = mapped_column(DateTime)
    uploaded_by: Mapped[str] = mapped_column(String(40))


class Location(Base):
    __tablename__ = "locations"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str] = mapped_column(Text, default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = _text(200)


# ---- people ------------------------------------------------------------------
class Client(Base):
    __tablename__ = "clients"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # client | inquiry | account
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    preferred_name: Mapped[str] = _text(100)
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    date_of_birth: Mapped[date | None] = mapped_column(Date, nullable=True)
    address: Mapped[str] = _text()
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    converted_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Contact(Base):
    """A third party the client lets us talk to (release of information).
    Never deleted: inactivated, so the history of who could know stays."""
    __tablename__ = "contacts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relationship: Mapped[str] = mapped_column(String(80))
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(Text, default="")
    may_receive: Mapped[str] = mapped_column(String(30))  # billing | billing_and_clinical
    roi_start: Mapped[date | None] = mapped_column(Date, nullable=True)
    roi_end: Mapped[date | None] = mapped_column(Date, nullable=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    # the release of information (a consent the documents service keeps):
    # none | pending (asked for, not signed) | active (signed) | revoked
    release_consent_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    release_status: Mapped[str] = mapped_column(String(10), default="none", server_default="none")


class RevokedRelease(Base):
    """A release consent that was revoked: a ConsentSigned for it that
    arrives late (after the ConsentRevoked) never activates anything."""
    __tablename__ = "revoked_releases"
    consent_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    contact_id: Mapped[str] = mapped_column(String(40))
    revoked_at: Mapped[datetime] = mapped_column(DateTime)


class InsurancePolicy(Base):
    __tablename__ = "insurance_policies"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), index=True)
    payer: Mapped[str] = mapped_column(String(200))
    plan: Mapped[str] = mapped_column(String(200), default="")
    member_id: Mapped[str] = mapped_column(String(80))
    group_number: Mapped[str] = mapped_column(String(80), default="")
    subscriber_name: Mapped[str] = mapped_column(String(200))
    subscriber_relationship: Mapped[str] = mapped_column(String(20))
    effective_on: Mapped[date] = mapped_column(Date)
    end_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    priority: Mapped[str] = mapped_column(String(20))
    added_via: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(DateTime)


# ---- access ------------------------------------------------------------------
class Credentials:
    """What staff users and portal accounts both have to sign in."""
    password_hash: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    password_changed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    totp_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_pending_secret: Mapped[str | None] = mapped_column(String(64), nullable=True)
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger, nullable=True)


class StaffUser(Credentials, Base):
    __tablename__ = "staff_users"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    email: Mapped[str] = mapped_column(String(200), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(40))


class StaffLocation(Base):
    __tablename__ = "staff_locations"
    staff_id: Mapped[str] = mapped_column(ForeignKey("staff_users.id"), primary_key=True)
    location_id: Mapped[str] = mapped_column(ForeignKey("locations.id"), primary_key=True)


class PortalAccount(Credentials, Base):
    __tablename__ = "portal_accounts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    username: Mapped[str] = mapped_column(String(200), unique=True)  # the email, lowercased
    email: Mapped[str] = _text(200)
    name: Mapped[str] = _text(200)


class AccountClient(Base):
    """Whom a portal account may act for: itself, a guardian's minors, or
    (as a third-party contact) a client whose release of information is
    active."""
    __tablename__ = "account_clients"
    account_id: Mapped[str] = mapped_column(ForeignKey("portal_accounts.id"), primary_key=True)
    client_id: Mapped[str] = mapped_column(ForeignKey("clients.id"), primary_key=True, index=True)
    relationship: Mapped[str] = mapped_column(String(30))  # self | guardian | responsible_party | contact
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # relationship "contact": the third-party contact whose release lets it in
    contact_id: Mapped[str | None] = mapped_column(ForeignKey("contacts.id"), nullable=True)


class SignInSession(Base):
    """A server-side session. Only the SHA-256 of its token is stored."""
    __tablename__ = "auth_sessions"
    __table_args__ = (Index("ix_auth_sessions_subject", "kind", "subject_id"),)
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))  # staff | portal
    subject_id: Mapped[str] = mapped_column(String(40))
    csrf: Mapped[str] = mapped_column(String(64))
    acting_for: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    last_seen_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class PasswordLink(Base):
    """A single-use welcome or reset link; the token is its id plus an HMAC."""
    __tablename__ = "password_links"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    kind: Mapped[str] = mapped_column(String(10))
    subject_id: Mapped[str] = mapped_column(String(40), index=True)
    purpose: Mapped[str] = mapped_column(String(10))  # welcome | reset
    request_key: Mapped[str] = mapped_column(String(120), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class AuditEntry(Base):
    """HIPAA 164.312(b) audit trail. Append-only: no code path updates or
    deletes a row, and on PostgreSQL a trigger refuses it."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(DateTime, index=True)
    actor_kind: Mapped[str] = mapped_column(String(10))  # staff | portal | system
    actor_id: Mapped[str] = mapped_column(String(40), default="")
    action: Mapped[str] = mapped_column(String(60))
    client_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    outcome: Mapped[str] = mapped_column(String(10))  # ok | denied | failed
    ip: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[str] = mapped_column(String(500), default="")
