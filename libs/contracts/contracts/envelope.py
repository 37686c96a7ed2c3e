"""The one envelope every Cairn event travels in."""
from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import Any

from contracts.fields import ContractError, check_fields, integer, text, timestamp
from contracts.fields import Field

ENVELOPE_FIELDS = {
    "id": text(),
    "type": text(),
    "version": integer(),
    "occurred_at": timestamp(),
    "source": text(),
    "data": Field(lambda v: isinstance(v, dict), "object"),
}


def utc_now_iso() -> str:
    return datetime.now(timezone.utc).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def make_envelope(source: str, event_type: str, data: dict[str, Any], version: int) -> dict:
    from contracts.registry import validate

    validate(event_type, version, data)
    envelope = {
        "id": str(uuid.uuid4()),
        "type": event_type,
        "version": version,
        "occurred_at": utc_now_iso(),
        "source": source,
        "data": data,
    }
    return envelope


def validate_envelope(envelope: Any) -> dict:
    from contracts.registry import schema_for, validate

    check_fields(ENVELOPE_FIELDS, envelope, "envelope")
    schema = schema_for(envelope["type"], envelope["version"])
    if schema.source != envelope["source"]:
        raise ContractError(
            f"envelope: {envelope['type']} comes from {schema.source}, not {envelope['source']}"
        )
    validate(envelope["type"], envelope["version"], envelope["data"])
    return envelope


__all__ = ["ContractError", "make_envelope", "validate_envelope", "utc_now_iso"]
