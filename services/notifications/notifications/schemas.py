"""Input checks and output shapes. Deliveries are shown to operators without
bodies and with the recipient masked."""
from __future__ import annotations

from servicekit.db import iso
from servicekit.errors import InvalidInput

from notifications import domain
from notifications.models import Delivery, InboxMessage
from notifications.store import Preferences

MAX_LIMIT = 500
MAX_ID = 40


def limit(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_LIMIT:
        raise InvalidInput(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return value


def identifier(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required")
    if len(value.strip()) > MAX_ID:
        raise InvalidInput(f"{name} is too long")
    return value.strip()


def client_id(value) -> str:
    return identifier("client_id", value)


def preference_changes(value) -> dict:
    try:
        return domain.preference_changes(value)
    except domain.PreferenceError as exc:
        raise InvalidInput(str(exc)) from None


def _when(moment):
    return iso(moment) if moment else None


def delivery_out(row: Delivery) -> dict:
    return {"id": row.id, "cause_event_id": row.cause_event_id, "kind": row.kind,
            "channel": row.channel, "client_id": row.client_id, "person_id": row.person_id,
            "recipient": domain.mask_email(row.recipient), "status": row.status,
            "attempts": row.attempts, "provider_message_id": row.provider_message_id,
            "last_error": row.last_error, "created_at": _when(row.created_at),
            "updated_at": _when(row.updated_at), "sent_at": _when(row.sent_at)}


def inbox_message_out(row: InboxMessage) -> dict:
    return {"id": row.id, "client_id": row.client_id, "kind": row.kind, "title": row.title,
            "body": row.body, "invoice_id": row.invoice_id, "created_at": _when(row.created_at),
            "read_at": _when(row.read_at)}


def preferences_out(person_id: str, prefs: Preferences) -> dict:
    """`reminder_kinds` follow the `reminders` switch; `always_sent` kinds
    are transactional and have no switch."""
    return {"person_id": person_id, "reminders": prefs.reminders,
            "reminder_kinds": list(domain.REMINDER_KINDS),
            "always_sent": list(domain.TRANSACTIONAL_KINDS),
            "updated_at": _when(prefs.updated_at)}
