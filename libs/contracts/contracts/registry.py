"""Every event Cairn emits: its source, payload schema per version, an
example payload (producers and consumers are both tested against it), and
whether any service consumes it (an event with no consumer by design is not
held back in the outbox when no queue is bound to it). A `broadcast` event
tells every running copy of a service to drop what it cached: it has no
durable queue, so it is never held back either (`consumed` is False)."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable

from contracts.fields import ContractError, Field, check_fields
from contracts.fields import boolean, integer, list_of, money, one_of, text, timestamp


@dataclass(frozen=True)
class EventSchema:
    type: str
    version: int
    source: str
    fields: dict[str, Field]
    example: dict[str, Any]
    consumed: bool = True
    broadcast: bool = False


EVENTS: dict[tuple[str, int], EventSchema] = {}
# (type, from_version) -> function turning a from_version payload into from_version + 1
UPCASTERS: dict[tuple[str, int], Callable[[dict], dict]] = {}


def event(type_: str, version: int, source: str, fields: dict, example: dict,
          consumed: bool = True, broadcast: bool = False) -> None:
    schema = EventSchema(type_, version, source, fields, example, consumed and not broadcast,
                         broadcast)
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
# Broadcast to every gateway copy, which drops its cached session check: a
# session ended (signed out, password changed or reset, staff deactivated,
# expired) or changed (another client chosen, a new role). Without
# `session_id`, every session of the account.
_SESSION = {"kind": one_of("staff", "portal"), "subject_id": text(),
            "session_id": text(required=False)}
event("SessionEnded", 1, "clients", _SESSION,
      {"kind": "portal", "subject_id": "pa_1", "session_id": "9f86d081884c7d65"},
      broadcast=True)
event("SessionChanged", 1, "clients", _SESSION,
      {"kind": "staff", "subject_id": "st_1"},
      broadcast=True)
# The organization's settings, a location or the handbook changed: every copy
# that cached them reads them again.
event("OrganizationChanged", 1, "clients",
      {"part": one_of("organization", "location", "handbook")},
      {"part": "location"},
      broadcast=True)

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
       "channel": _CHANNEL, "balance": money(), "sent_by": text(),
       # optional (added for notifications, which then needs no get_invoice): ISO date, null when none
       "due_on": text(required=False)},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "channel": "email", "balance": _USD, "sent_by": "st_1", "due_on": "2026-12-31"})
event("InvoicePaid", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text(),
       "total": money(), "paid_at": timestamp()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "total": _USD, "paid_at": "2026-11-25T10:00:00.000000Z"})
event("InvoiceVoided", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1"})
# ledger: adjustments, write-offs, credit notes and credit applied (no consumer yet)
event("InvoiceAdjusted", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text(),
       "adjustment_id": text(), "kind": one_of("adjustment", "write_off", "credit_note"),
       "amount": money(), "increase": boolean(), "credited": money(), "balance": money(),
       "status": text(), "adjusted_at": timestamp()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "adjustment_id": "adj_1", "kind": "write_off", "amount": _USD, "increase": False,
       "credited": {"amount": 0, "currency": "usd"}, "balance": {"amount": 0, "currency": "usd"},
       "status": "closed", "adjusted_at": "2026-11-25T10:00:00.000000Z"},
      consumed=False)
event("CreditApplied", 1, "invoicing",
      {"invoice_id": text(), "invoice_number": text(), "client_id": text(), "amount": money(),
       "credit_left": money(), "applied_at": timestamp()},
      {"invoice_id": "inv_1", "invoice_number": "INV-000001", "client_id": "cl_1",
       "amount": _USD, "credit_left": {"amount": 0, "currency": "usd"},
       "applied_at": "2026-11-25T10:00:00.000000Z"},
      consumed=False)

# ---- invoicing: catalog (core area) ----------------------------------------
# A service, a per-location fee or a billing provider changed: every copy that
# cached the catalog (the gateway's invoice form) reads it again.
event("CatalogChanged", 1, "invoicing",
      {"part": one_of("service", "location_fee", "provider")},
      {"part": "service"},
      broadcast=True)
# ---- payment plans (plans) ------------------------------------------------
_PLAN = {"plan_id": text(), "client_id": text()}
_PLAN_EXAMPLE = {"plan_id": "plan_1", "client_id": "cl_1"}
event("PaymentPlanCreated", 1, "invoicing",
      {**_PLAN, "total": money(), "installment_count": integer(),
       "frequency": one_of("weekly", "biweekly", "monthly"), "first_due_on": text(),
       "invoice_ids": list_of({"invoice_id": text()}, min_items=1), "created_by": text()},
      {**_PLAN_EXAMPLE, "total": _USD, "installment_count": 3, "frequency": "monthly",
       "first_due_on": "2026-12-15", "invoice_ids": [{"invoice_id": "inv_1"}],
       "created_by": "st_1"},
      consumed=False)
event("PaymentPlanSigned", 1, "invoicing",
      {**_PLAN, "signed_at": timestamp(), "autopay_method_id": text(), "consent_version": text()},
      {**_PLAN_EXAMPLE, "signed_at": "2026-12-01T10:00:00.000000Z",
       "autopay_method_id": "spm_1", "consent_version": "plan-autopay-v1"},
      consumed=False)
# An installment to charge now: payments charges the authorized method off
# session with `attempt_key` as the payment's request key (charged once).
event("InstallmentDue", 1, "invoicing",
      {**_PLAN, "installment_id": text(), "installment_number": integer(), "attempt": integer(),
       "attempt_key": text(), "amount": money(), "saved_method_id": text(),
       "allocations": list_of({"invoice_id": text(), "amount": money()}, min_items=1)},
      {**_PLAN_EXAMPLE, "installment_id": "12", "installment_number": 1, "attempt": 1,
       "attempt_key": "inst_12_1", "amount": _USD, "saved_method_id": "spm_1",
       "allocations": [{"invoice_id": "inv_1", "amount": _USD}]})
# A charge failed: the patient is emailed a link to pay in the portal;
# `next_attempt_on` null means no retry is left (the plan needs attention).
event("InstallmentFailed", 1, "invoicing",
      {**_PLAN, "installment_id": text(), "installment_number": integer(), "attempt": integer(),
       "amount": money(), "failure_code": text(), "next_attempt_on": text(required=False),
       "needs_attention": boolean()},
      {**_PLAN_EXAMPLE, "installment_id": "12", "installment_number": 1, "attempt": 1,
       "amount": _USD, "failure_code": "card_declined", "next_attempt_on": "2026-12-02",
       "needs_attention": False})
# Statements (b8-statements): one per client per period; notifications emails
# "your statement is ready" (no amount in the subject) and posts to the inbox.
event("StatementIssued", 1, "invoicing",
      {"statement_id": text(), "client_id": text(), "period_start": text(),
       "period_end": text(), "amount_due": money(), "issued_at": timestamp(),
       # the batch run that issued it; absent for one issued by staff
       "run_id": text(required=False)},
      {"statement_id": "stm_1", "client_id": "cl_1", "period_start": "2026-11-01",
       "period_end": "2026-11-30", "amount_due": _USD,
       "issued_at": "2026-12-01T06:00:00.000000Z", "run_id": "run_1"})
# estimates and Good Faith Estimates: ids, channels and money only (no
# services, diagnoses or provider names)
_ESTIMATE = {"estimate_id": text(), "estimate_number": text(), "client_id": text()}
_ESTIMATE_EXAMPLE = {"estimate_id": "est_1", "estimate_number": "EST-000001", "client_id": "cl_1"}
_ESTIMATE_CHANNELS = Field(lambda v: isinstance(v, list) and bool(v) and len(set(v)) == len(v)
                           and all(c in ("email", "portal") for c in v),
                           'a list of "email" and/or "portal"')
event("EstimateIssued", 1, "invoicing",
      {**_ESTIMATE, "kind": one_of("gfe", "estimate"), "channels": _ESTIMATE_CHANNELS,
       "total": money(), "issued_by": text()},
      {**_ESTIMATE_EXAMPLE, "kind": "gfe", "channels": ["portal", "email"], "total": _USD,
       "issued_by": "st_1"})
event("EstimateDecided", 1, "invoicing",
      {**_ESTIMATE, "decision": one_of("approved", "declined"), "decided_at": timestamp()},
      {**_ESTIMATE_EXAMPLE, "decision": "approved", "decided_at": "2026-11-25T10:00:00.000000Z"},
      consumed=False)

# ---- payments -------------------------------------------------------------
_METHODS = ("card", "us_bank_account", "check", "cash", "terminal")
_INITIATORS = ("patient", "staff", "autopay")
# Which invoices a payment pays, and how much of it goes to each.
_ALLOCATIONS = list_of({"invoice_id": text(), "amount": money(),
                        # optional (added so receipts need no get_invoice per invoice)
                        "invoice_number": text(required=False)}, min_items=1)
_ALLOCATIONS_EXAMPLE = [{"invoice_id": "inv_1", "amount": _USD, "invoice_number": "INV-000001"}]
_PAYMENT_V1 = {"payment_id": text(), "invoice_id": text(), "client_id": text(),
               "amount": money()}
_PAYMENT_V1_EXAMPLE = {"payment_id": "pay_1", "invoice_id": "inv_1", "client_id": "cl_1",
                       "amount": _USD}
_PAYMENT = {"payment_id": text(), "client_id": text(), "amount": money(),
            "allocations": _ALLOCATIONS, "method": one_of(*_METHODS),
            "initiated_by": one_of(*_INITIATORS)}
_PAYMENT_EXAMPLE = {"payment_id": "pay_1", "client_id": "cl_1", "amount": _USD,
                    "allocations": _ALLOCATIONS_EXAMPLE, "method": "card",
                    "initiated_by": "patient"}
# ---- payment plans (plans): an autopay charge names the installment attempt it was for
_PAYMENT["installment_attempt"] = text(required=False)
_METHOD_DETAILS = {"card_brand": text(required=False), "card_last4": text(required=False),
                   "bank_name": text(required=False), "bank_last4": text(required=False),
                   "check_number": text(required=False)}

# v1 paid one invoice; v2 pays one or several, and may leave a credit on the
# account (`unapplied`). Only v2 is emitted; v1 stays so messages already
# queued are upcast and applied.
event("PaymentCaptured", 1, "payments",
      {**_PAYMENT_V1, "method": one_of("card", "us_bank_account", "check", "cash"),
       "card_brand": text(required=False), "card_last4": text(required=False),
       "captured_at": timestamp()},
      {**_PAYMENT_V1_EXAMPLE, "method": "card", "card_brand": "visa", "card_last4": "4242",
       "captured_at": "2026-11-25T10:00:00.000000Z"})
event("PaymentCaptured", 2, "payments",
      {**_PAYMENT, **_METHOD_DETAILS, "unapplied": money(), "captured_at": timestamp()},
      {**_PAYMENT_EXAMPLE, "card_brand": "visa", "card_last4": "4242",
       "unapplied": {"amount": 0, "currency": "usd"},
       "captured_at": "2026-11-25T10:00:00.000000Z"})
event("PaymentFailed", 1, "payments",
      {**_PAYMENT_V1, "failure_code": text(), "failure_message": text(),
       # who started it: a patient at the pay page already sees the decline;
       # an autopay failure must be told by email
       "initiated_by": one_of("patient", "staff", "autopay", required=False)},
      {**_PAYMENT_V1_EXAMPLE, "failure_code": "card_declined",
       "failure_message": "Your card was declined.", "initiated_by": "patient"})
event("PaymentFailed", 2, "payments",
      {**_PAYMENT, "failure_code": text(), "failure_message": text(),
       # a bank payment that came back days after it was accepted, or a
       # method on file charged without the payer there: nobody is looking at
       # a page, so the payer must be told
       "after_processing": boolean(), "off_session": boolean(required=False)},
      {**_PAYMENT_EXAMPLE, "failure_code": "card_declined",
       "failure_message": "Your card was declined.", "after_processing": False})
# Accepted by the bank but not settled yet (ACH takes up to 4 business days):
# the balance is pending, not paid, and not offered for payment again.
event("PaymentProcessing", 1, "payments",
      {**_PAYMENT, **_METHOD_DETAILS, "expected_by": timestamp()},
      {**_PAYMENT_EXAMPLE, "method": "us_bank_account", "bank_name": "STRIPE TEST BANK",
       "bank_last4": "6789", "expected_by": "2026-11-30T10:00:00.000000Z"})
event("PaymentRefunded", 1, "payments",
      {"refund_id": text(), "payment_id": text(), "client_id": text(), "amount": money(),
       # the invoice whose balance reopens; absent when the refund comes out of
       # the credit the payment left on the account
       "invoice_id": text(required=False), "method": one_of(*_METHODS),
       "reason": text(required=False), "refunded_at": timestamp()},
      {"refund_id": "re_1", "payment_id": "pay_1", "client_id": "cl_1", "amount": _USD,
       "invoice_id": "inv_1", "method": "card", "reason": "requested_by_customer",
       "refunded_at": "2026-11-26T10:00:00.000000Z"})
event("RefundFailed", 1, "payments",
      {"refund_id": text(), "payment_id": text(), "client_id": text(), "amount": money(),
       "invoice_id": text(required=False), "failure_reason": text(),
       # b8-fixrefunds: false when Stripe refused it before accepting it (no
       # PaymentRefunded went out); invoicing releases its reservation
       "accepted": boolean(required=False)},
      {"refund_id": "re_1", "payment_id": "pay_1", "client_id": "cl_1", "amount": _USD,
       "invoice_id": "inv_1", "failure_reason": "expired_or_canceled_card", "accepted": True})
event("PaymentMethodSaved", 1, "payments",
      {"method_id": text(), "client_id": text(), "type": one_of("card", "us_bank_account"),
       "is_default": boolean()},
      {"method_id": "pm_saved_1", "client_id": "cl_1", "type": "card", "is_default": True},
      consumed=False)


def _payment_v1_to_v2(data: dict, extra: dict) -> dict:
    base = {k: v for k, v in data.items() if k not in ("invoice_id", "initiated_by")}
    return {**base, "allocations": [{"invoice_id": data["invoice_id"], "amount": data["amount"]}],
            "initiated_by": data.get("initiated_by") or "patient", **extra}


UPCASTERS[("PaymentCaptured", 1)] = lambda data: _payment_v1_to_v2(
    data, {"unapplied": {"amount": 0, "currency": data["amount"]["currency"]}})
UPCASTERS[("PaymentFailed", 1)] = lambda data: _payment_v1_to_v2(
    data, {"method": "card", "after_processing": False})

# ---- documents ------------------------------------------------------------
# Ids and facts only: no file names, form answers, consent text or contact names.
event("DocumentUploaded", 1, "documents",
      {"document_id": text(), "client_id": text(), "uploaded_by": one_of("portal", "staff"),
       "content_type": text(), "size": integer()},
      {"document_id": "doc_1", "client_id": "cl_1", "uploaded_by": "portal",
       "content_type": "application/pdf", "size": 48213},
      consumed=False)  # staff find it on the client's Documents tab (documents RPC)
# A form or screening a patient should fill in (staff assigned it); notifications
# tells the patient (neutral subject) and posts to the portal inbox.
event("FormAssigned", 1, "documents",
      {"assignment_id": text(), "client_id": text(), "form_key": text(), "assigned_by": text()},
      {"assignment_id": "frm_1", "client_id": "cl_1", "form_key": "phq9", "assigned_by": "st_1"})
# score, severity and `flagged` (a PHQ-9 item 9 answer above "not at all") are
# PHI: documents no longer sends them (staff read them over RPC); optional
# fields kept for version 1's shape only.
event("FormCompleted", 1, "documents",
      {"assignment_id": text(), "client_id": text(), "form_key": text(),
       "score": integer(required=False), "severity": text(required=False),
       "flagged": boolean(required=False), "completed_at": timestamp()},
      {"assignment_id": "frm_1", "client_id": "cl_1", "form_key": "phq9",
       "completed_at": "2026-12-01T10:00:00.000000Z"},
      consumed=False)
_CONSENT = {"consent_id": text(), "client_id": text(), "kind": one_of("consent", "release"),
            # a release of information names the third-party contact it covers
            "contact_id": text(required=False)}
_CONSENT_EXAMPLE = {"consent_id": "cns_1", "client_id": "cl_1", "kind": "release",
                    "contact_id": "ct_1"}
event("ConsentRequested", 1, "documents",
      {**_CONSENT, "requested_by": text()},
      {**_CONSENT_EXAMPLE, "requested_by": "st_1"})
# clients activates a release's contact access on ConsentSigned and cuts it on
# ConsentRevoked (and drops the contact's sessions at once)
# a release carries the terms its signed text grants (what the contact may
# receive and until when, "YYYY-MM-DD"); clients activates only those terms
event("ConsentSigned", 1, "documents",
      {**_CONSENT, "signed_at": timestamp(), "sha256": text(),
       "may_receive": one_of("billing", "billing_and_clinical", required=False),
       "until": text(required=False)},
      {**_CONSENT_EXAMPLE, "signed_at": "2026-12-01T10:00:00.000000Z", "sha256": "9f86d08188",
       "may_receive": "billing", "until": "2027-06-30"})
event("ConsentRevoked", 1, "documents",
      {**_CONSENT, "revoked_at": timestamp(), "revoked_by": one_of("portal", "staff")},
      {**_CONSENT_EXAMPLE, "revoked_at": "2026-12-02T10:00:00.000000Z", "revoked_by": "portal"})

# ---- scheduling -----------------------------------------------------------
# No clinician, service or reason: notifications needs when and where only.
_APPOINTMENT = {"appointment_id": text(), "client_id": text(), "starts_at": timestamp(),
                "ends_at": timestamp(), "mode": one_of("in_person", "telehealth"),
                "location_id": text(required=False),
                # goes up with every change: a consumer keeps the highest it saw
                # (a late AppointmentScheduled never undoes a cancellation)
                "revision": integer(required=False)}
_APPOINTMENT_EXAMPLE = {"appointment_id": "apt_1", "client_id": "cl_1",
                        "starts_at": "2026-12-03T15:00:00.000000Z",
                        "ends_at": "2026-12-03T15:50:00.000000Z", "mode": "telehealth",
                        "revision": 1}
event("AppointmentScheduled", 1, "scheduling", _APPOINTMENT, _APPOINTMENT_EXAMPLE)
event("AppointmentChanged", 1, "scheduling",
      {**_APPOINTMENT, "status": one_of("scheduled", "cancelled", "completed", "no_show")},
      {**_APPOINTMENT_EXAMPLE, "status": "cancelled", "revision": 2})

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
