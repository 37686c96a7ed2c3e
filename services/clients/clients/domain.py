"""Rules for people and access that need no I/O: profile kinds, who may do
what, lockout, session lifetimes, signed tokens."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import date, datetime, timedelta

# ---- profiles ----------------------------------------------------------------
KINDS = ("client", "inquiry", "account")
# how a portal account is linked to a client; "contact" is a third-party
# contact let in by an active release of information (invite_contact_to_portal)
RELATIONSHIPS = ("self", "guardian", "responsible_party", "contact")
INVITE_RELATIONSHIPS = ("self", "guardian", "responsible_party")
RELEASE_STATUSES = ("none", "pending", "active", "revoked")
MAY_RECEIVE = ("billing", "billing_and_clinical")
SUBSCRIBER_RELATIONSHIPS = ("self", "spouse", "child", "other")
PRIORITIES = ("primary", "secondary")
ACCOUNT_KINDS = ("staff", "portal")
LINK_PURPOSES = ("welcome", "reset")


class RuleBroken(ValueError):
    pass


def check_conversion(kind: str) -> None:
    if kind != "inquiry":
        raise RuleBroken(f"only an inquiry can be converted to a client (this is a {kind})")


def check_release(may_receive: str, start: date | None, end: date | None) -> None:
    """A release of clinical information needs its period, end on or after start."""
    if may_receive == "billing_and_clinical" and (start is None or end is None):
        raise RuleBroken("roi_start and roi_end are required when the contact may receive "
                         "clinical information")
    if start and end and end < start:
        raise RuleBroken("roi_end must be on or after roi_start")


# ---- releases of information -------------------------------------------------
def contact_link_open(active: bool, release_status: str, start: date | None,
                      end: date | None, today: date) -> bool:
    """Whether a third-party contact's portal link counts today: the contact
    is active, its release is signed and not revoked, and today is within
    roi_start..roi_end (an open end is no limit)."""
    return (active and release_status == "active"
            and (start is None or start <= today) and (end is None or today <= end))


def scope_of(relationship: str, may_receive: str | None = None) -> str:
    """What a portal account sees of a client: "full" for the client, a
    guardian or a responsible party; a contact's `may_receive`."""
    return may_receive or "billing" if relationship == "contact" else "full"


def release_requested(current: str | None, status: str, consent_id: str) -> tuple[str, str]:
    """(consent id, status) after the gateway asked for a release consent.
    Asked again for the same consent: no step back from signed or revoked."""
    if current == consent_id and status in ("active", "revoked"):
        return current, status
    return consent_id, "pending"


def release_signed(current: str | None, status: str, consent_id: str,
                   revoked: bool, terms_match: bool = True) -> tuple[str | None, str]:
    """(consent id, status) after ConsentSigned. Only the consent asked for
    this contact (its release_consent_id) activates, and only when what it
    grants is what is on file now; a consent already revoked (its
    ConsentRevoked came first) never activates."""
    if revoked or current != consent_id or not terms_match:
        return current, status
    return consent_id, "active"


def signed_terms_match(signed_may_receive: str | None, signed_until: str | None,
                       may_receive: str | None, roi_end: date | None) -> bool:
    """Whether a signed release grants exactly the contact's terms on file:
    the same `may_receive` and the same end date (none = none). Terms on
    file looser than the signed text (more to receive, a later or no end)
    never match."""
    on_file_until = roi_end.isoformat() if roi_end else None
    return signed_may_receive == may_receive and (signed_until or None) == on_file_until


def release_revoked(current: str | None, status: str, consent_id: str) -> tuple[str | None, str]:
    """(consent id, status) after ConsentRevoked: only the consent that
    governs the contact (or the first one it hears of) changes it."""
    if current in (None, consent_id):
        return consent_id, "revoked"
    return current, status


def check_coverage(effective_on: date, end_on: date | None) -> None:
    if end_on is not None and end_on < effective_on:
        raise RuleBroken("end_on must be on or after effective_on")


# ---- roles and permissions ---------------------------------------------------
STAFF_ROLES = ("front_desk", "biller", "clinician", "administrator")
ALL_PERMISSIONS = frozenset({
    "clients.read", "clients.write", "contacts.write", "insurance.write", "portal.invite",
    "billing.read", "billing.write", "payments.refund", "org.admin", "staff.admin",
    "audit.read", "documents.read", "documents.write", "clinical.read", "clinical.write",
    "appointments.read", "appointments.write"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "front_desk": frozenset({"clients.read", "clients.write", "contacts.write", "insurance.write",
                             "portal.invite", "billing.read", "billing.write",
                             "documents.read", "documents.write", "appointments.read",
                             "appointments.write"}),
    "biller": frozenset({"clients.read", "insurance.write", "billing.read", "billing.write",
                         "payments.refund"}),
    # clinical: scored forms and screenings, notes / assessments / treatment plans
    "clinician": frozenset({"clients.read", "contacts.write", "documents.read", "documents.write",
                            "clinical.read", "clinical.write", "appointments.read",
                            "appointments.write"}),
    "administrator": ALL_PERMISSIONS,
}
# What a portal account may do, and only for the client it is acting for.
PORTAL_PERMISSIONS = frozenset({"clients.read", "contacts.write", "insurance.write"})
# A third-party contact (a release of information) only reads what it allows.
CONTACT_PERMISSIONS = frozenset({"clients.read"})


def permissions_for(role: str) -> frozenset[str]:
    return PERMISSIONS.get(role, frozenset())


def staff_may(role: str, permission: str, active: bool = True) -> bool:
    return active and permission in permissions_for(role)


def portal_may(permission: str, acting_for: str | None, client_id: str | None,
               linked: bool, relationship: str | None = None) -> bool:
    allowed = CONTACT_PERMISSIONS if relationship == "contact" else PORTAL_PERMISSIONS
    return (permission in allowed and client_id is not None
            and acting_for == client_id and linked)


# ---- lockout -----------------------------------------------------------------
def is_locked(locked_until: datetime | None, now: datetime) -> bool:
    return locked_until is not None and locked_until > now


def after_failure(failed: int, threshold: int, now: datetime,
                  minutes: int) -> tuple[int, datetime | None]:
    """(new consecutive-failure count, locked until or None). Reaching the
    threshold locks the account and starts the count again."""
    failed += 1
    if failed >= threshold:
        return 0, now + timedelta(minutes=minutes)
    return failed, None


# ---- sessions ----------------------------------------------------------------
@dataclass(frozen=True)
class SessionTimes:
    idle: timedelta
    maximum: timedelta
    # last_seen_at is written at most this often: a page that only reads
    # writes nothing, and the idle timeout is exact to within this much
    touch_every: timedelta = timedelta(seconds=60)

    def needs_touch(self, last_seen: datetime, now: datetime) -> bool:
        return now - last_seen >= self.touch_every

    def expired(self, last_seen: datetime, expires_at: datetime, now: datetime) -> bool:
        return now >= expires_at or now >= last_seen + self.idle

    def idle_expires_at(self, last_seen: datetime, expires_at: datetime) -> datetime:
        return min(last_seen + self.idle, expires_at)


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """What is stored for a session token: its SHA-256, never the token."""
    return hashlib.sha256(str(token).encode()).hexdigest()


# ---- signed tokens -----------------------------------------------------------
def _mac(value: str, secret: str, purpose: str) -> str:
    digest = hmac.new(secret.encode(), f"{purpose}:{value}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest[:18]).decode().rstrip("=")


def sign(value: str, secret: str, purpose: str) -> str:
    """`value.signature`; the purpose keeps a token of one kind from being
    accepted as another."""
    return f"{value}.{_mac(value, secret, purpose)}"


def unsign(token, secret: str, purpose: str) -> str | None:
    if not isinstance(token, str) or token.count(".") != 1 or len(token) > 300:
        return None
    value = token.split(".")[0]
    return value if hmac.compare_digest(sign(value, secret, purpose), token) else None


def new_link_id() -> str:
    return secrets.token_urlsafe(18)


def sign_challenge(kind: str, subject_id: str, expires_unix: int, secret: str) -> str:
    """The TOTP challenge a correct password earns: who, and until when."""
    raw = f"{kind}|{subject_id}|{expires_unix}|{secrets.token_hex(4)}"
    value = base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")
    return sign(value, secret, "totp-challenge")


def open_challenge(token, secret: str, now_unix: float) -> tuple[str, str] | None:
    """(kind, subject_id) of a genuine, unexpired challenge, else None."""
    value = unsign(token, secret, "totp-challenge")
    if value is None:
        return None
    kind, subject_id, expires, _ = base64.urlsafe_b64decode(
        value + "=" * (-len(value) % 4)).decode().split("|")
    return (kind, subject_id) if now_unix < int(expires) else None
