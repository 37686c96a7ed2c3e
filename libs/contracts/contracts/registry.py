"""Every event Cairn emits: its source, payload schema per version, an
example payload (producers and consumers are both tested against it), and
whether any service consumes it (an event with no consumer by design is not
held back in the outbox when no queue is bound to it)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from contracts.fields import ContractError, Field, check_fields
from contracts.fields import integer, money, one_of, text, timestamp


@dataclass(frozen=True)
class EventSchema:
    type: str
    version: int
    source: str
    fields: dict[str, Field]
    example: dict[str, Any]
    consumed: bool = True


EVENTS: dict[tuple[str, int], EventSchema] = {}
# (type, from_version) -> function turning a from_version payload into from_version + 1
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


def event(type_: str, version: int, source: str, fields: dict, example: dict,
          consumed: bool = True) -> None:
    schema = EventSchema(type_, version, source, fields, example, consumed)
    check_fields(fields, example, f"{type_} v{version} example")
    EVENTS[(type_, version)] = schema


def schema_for(event_type: str, version: int) -> EventSchema:
    try:
        return EVENTS[(event_type, version)]
    except KeyError:
        raise ContractError(f"no contract for {event_type} v{version}") from None


def validate(event_type: str, version: int, data: Any) -> None:
    check_fields(schema_for(event_type, version).fields, data, f"{event_type} v{version}")


def latest_version(event_type: str) -> int:
    versions = [v for (t, v) in EVENTS if t == event_type]
    if not versions:
        raise ContractError(f"no contract for {event_type}")
    return max(versions)


def example(event_type: str, version: int | None = None) -> dict:
    version = version or latest_version(event_type)
    return dict(schema_for(event_type, version).example)


def has_consumer(event_type: str, version: int) -> bool:
    return schema_for(event_type, version).consumed


def upcast(envelope: dict, to_version: int) -> dict:
    """Bring an older envelope up to the version a consumer understands."""
    data, version = envelope["data"], envelope["version"]
    while version < to_version:
        step = UPCASTERS.get((envelope["type"], version))
        if step is None:
            raise ContractError(f"cannot upcast {envelope['type']} v{version}")
        data, version = step(data), version + 1
    return {**envelope, "data": data, "version": version}


_CHANNEL = one_of("email", "portal")
_USD = {"amount": 12500, "currency": "usd"}

# ---- clients --------------------------------------------------------------
event("ClientRegistered", 1, "clients",
      {"client_id": text(), "kind": one_of("client", "inquiry", "account")},
      {"client_id": "cl_1", "kind": "client"},
      consumed=False)

event("ClientConverted", 1, "clients",
      {"client_id": text(), "from_kind": one_of("inquiry"), "to_kind": one_of("client")},
      {"client_id": "cl_1", "from_kind": "inquiry", "to_kind": "client"},
      consumed=False)
event("PortalInviteRequested", 1, "clients",
      {"account_id": text(), "client_id": text(), "invited_by": text(),
       "invited_by_name": text()},
      {"account_id": "pa_1", "client_id": "cl_1", "invited_by": "st_1",
       "invited_by_name": "Riley Front Desk"})
event("PortalPasswordResetRequested", 1, "clients",
      {"account_id": text()},
      {"account_id": "pa_1"})
event("StaffPasswordResetRequested", 1, "clients",
      # purpose "welcome" for a new staff member (a longer-lived link)
      {"staff_id": text(), "purpose": one_of("welcome", "reset", required=False)},
      {"staff_id": "st_1", "purpose": "reset"})
event("InsuranceAdded", 1, "clients",
      {"client_id": text(), "policy_id": text(), "priority": one_of("primary", "secondary"),
       "added_via": one_of("staff", "portal")},
      {"client_id": "cl_1", "policy_id": "ins_1", "priority": "primary", "added_via": "staff"},
      consumed=False)  # invoicing (claims, superbills) will consume it
event("ContactChanged", 1, "clients",
      {"client_id": text(), "contact_id": text(),
       "change": one_of("added", "updated", "inactivated")},
      {"client_id": "cl_1", "contact_id": "ct_1", "change": "added"},
      consumed=False)

# ---- invoicing ------------------------------------------------------------
event("InvoiceSaved", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text(),
       "location_id": text(), "status": text(), "total": money(),
       "balance": money(), "line_count": integer()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "location_id": "loc_1", "status": "draft", "total": _USD, "balance": _USD,
       "line_count": 2},
      consumed=False)  # documents (PDFs) will consume it
event("InvoiceSent", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text(),
       "channel": _CHANNEL, "balance": money(), "sent_by": text()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "channel": "email", "balance": _USD, "sent_by": "st_1"})
event("InvoicePaid", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text(),
       "total": money(), "paid_at": timestamp()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "total": _USD, "paid_at": "2026-11-25T10:00:00.000000Z"},
      consumed=False)
event("InvoiceVoided", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1"},
      consumed=False)

# ---- payments -------------------------------------------------------------
_PAYMENT = {"payment_id": text(), "invoice_id": text(), "client_id": text(),
            "amount": money()}
_PAYMENT_EXAMPLE = {"payment_id": "pay_1", "invoice_id": "inv_1", "client_id": "cl_1",
                    "amount": _USD}
event("PaymentCaptured", 1, "payments",
      {**_PAYMENT, "method": one_of("card", "us_bank_account", "check", "cash"),
       "card_brand": text(required=False), "card_last4": text(required=False),
       "captured_at": timestamp()},
      {**_PAYMENT_EXAMPLE, "method": "card", "card_brand": "visa", "card_last4": "4242",
       "captured_at": "2026-11-25T10:00:00.000000Z"})
event("PaymentFailed", 1, "payments",
      {**_PAYMENT, "failure_code": text(), "failure_message": text(),
       # who started it: a patient at the pay page already sees the decline;
       # an autopay failure must be told by email
       "initiated_by": one_of("patient", "staff", "autopay", required=False)},
      {**_PAYMENT_EXAMPLE, "failure_code": "card_declined",
       "failure_message": "Your card was declined.", "initiated_by": "patient"})

# ---- notifications --------------------------------------------------------
_NOTICE = {"notification_id": text(), "kind": text(), "channel": one_of("email", "portal"),
           "cause_event_id": text()}
_NOTICE_EXAMPLE = {"notification_id": "ntf_1", "kind": "invoice_sent", "channel": "email",
                   "cause_event_id": "9f1c0c7e-0000-4000-8000-000000000000"}
event("NotificationDelivered", 1, "notifications",
      {**_NOTICE, "provider_message_id": text(required=False)},
      {**_NOTICE_EXAMPLE, "provider_message_id": "<abc@cairn>"},
      consumed=False)
event("NotificationFailed", 1, "notifications",
      {**_NOTICE, "reason": text()},
      {**_NOTICE_EXAMPLE, "reason": "mailbox unavailable"},
      consumed=False)
