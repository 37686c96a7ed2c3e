"""Cairn's event contracts: the envelope and one schema per event and version."""
from contracts.envelope import ContractError, make_envelope, validate_envelope
from contracts.registry import (
    EVENTS, example, has_consumer, latest_version, schema_for, upcast, validate,
)

__all__ = [
    "ContractError", "EVENTS", "example", "has_consumer", "latest_version",
    "make_envelope", "schema_for", "upcast", "validate", "validate_envelope",
]
