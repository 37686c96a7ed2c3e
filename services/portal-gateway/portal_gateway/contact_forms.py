"""The portal's contact and insurance forms: what was typed becomes the
clients service's payload, and its refusals (InvalidInput naming a field,
or InvalidFields) become words next to the field, in the person's terms."""
from __future__ import annotations

import re
from datetime import date

CONTACT_FIELDS = ("name", "relationship", "phone", "email", "address", "may_receive", "roi_end")
POLICY_FIELDS = ("payer", "plan", "member_id", "group_number", "subscriber_name",
                 "subscriber_relationship", "effective_on", "end_on", "priority")
MAY_RECEIVE = (("billing", "Billing information only"),
               ("billing_and_clinical", "Billing and clinical information"))

CONTACT_WORDS = {
    "name": "Enter the contact's full name.",
    "relationship": "Say who this person is to you, for example Sister, Spouse or Lawyer.",
    "phone": "Enter a phone number with at least 7 digits, like 555-123-4567.",
    "email": "Enter an email address like name@example.com.",
    "address": "Enter the address as plain text.",
    "may_receive": "Choose what this contact may receive.",
    "roi_end": "Choose the last day this contact may receive clinical information "
               "(on or after today).",
    "release": "A release can only be asked for an active contact.",
}
POLICY_WORDS = {
    "payer": "Enter the name of the insurance company.",
    "plan": "Enter the plan name as a single line.",
    "member_id": "Enter the member ID printed on the insurance card.",
    "group_number": "Enter the group number as a single line.",
    "subscriber_name": "Enter the name of the person who holds the policy.",
    "subscriber_relationship": "Choose who holds the policy.",
    "effective_on": "Enter the date the coverage started.",
    "end_on": "The end date must be on or after the start date.",
    "priority": "Choose primary or secondary.",
}
# where a message about a field the portal form does not show is put
SHOWN_AT = {"roi_start": "roi_end"}
AT_MOST = re.compile(r"at most (\d+) characters")


def typed(form, names) -> dict:
    return {name: (form.get(name) or "").strip() for name in names}


def contact_payload(form, today: date, existing: dict | None = None) -> dict:
    """The contact as the clients service takes it. The release starts when
    the one on file started; a new one starts today if it has an end or
    covers clinical information, else it has no dates. (Sent back unchanged,
    the dates change nothing, so a signed release stays signed.)"""
    values = typed(form, CONTACT_FIELDS)
    values["may_receive"] = values["may_receive"] or "billing"
    dated = bool(values["roi_end"]) or values["may_receive"] == "billing_and_clinical"
    start = (existing or {}).get("roi_start") or (today.isoformat() if dated else None)
    return {**values, "roi_end": values["roi_end"] or None, "roi_start": start}


def policy_payload(form) -> dict:
    values = typed(form, POLICY_FIELDS)
    values["end_on"] = values["end_on"] or None
    values["effective_on"] = values["effective_on"] or None
    return values


CONTACT_REQUIRED = ("name", "relationship")
POLICY_REQUIRED = ("payer", "member_id", "subscriber_name", "effective_on")


def missing(payload: dict, required, words: dict) -> dict:
    """Every required field left empty, at once (the clients service names
    only the first thing it refuses)."""
    errors = {name: words[name] for name in required if not payload.get(name)}
    if payload.get("may_receive") == "billing_and_clinical" and "roi_start" in payload \
            and not payload.get("roi_end"):
        errors["roi_end"] = words["roi_end"]
    return errors


def field_errors(refusal, words: dict) -> dict:
    """{field: words} from the clients service's refusal: InvalidFields
    (already keyed by field) or InvalidInput ("<field> is required", "<field>
    must be ..."). A message that names no field goes at the top ("form")."""
    worded = hasattr(refusal, "errors")      # InvalidFields: already in the person's words
    if worded:
        raw = dict(refusal.errors)
    else:
        message = str(getattr(refusal, "value", refusal) or "")
        field = message.split(" ", 1)[0] if message else ""
        raw = {field: message} if field in words or field in SHOWN_AT else {"form": message}
    errors = {}
    for field, message in raw.items():
        field = SHOWN_AT.get(field, field)
        if field not in words:
            errors.setdefault("form", message)
            continue
        limit = AT_MOST.search(message)
        errors[field] = message if worded else (
            f"Use at most {limit.group(1)} characters." if limit else words[field])
    return errors
