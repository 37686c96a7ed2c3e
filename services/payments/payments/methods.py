"""Cards and bank accounts on file: saved with a SetupIntent (which may ask
the card holder to authenticate), listed, made the default, removed. The
consent to keep each one is recorded: who, when, from where, and the exact
words they agreed to."""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from servicekit.db import utcnow
from servicekit.errors import Conflict, NotFound, PaymentDeclined

from payments import domain
from payments.charging import Collaborators, ensure_customer, idle, method_details
from payments.models import SavedMethod, SetupAttempt
from payments.stripe_gateway import Declined, IntentView, Refused, Unanswered
from payments.transitions import add_saved_method, clear_default

log = logging.getLogger(__name__)


def active_methods(c: Collaborators, client_id: str) -> list[SavedMethod]:
    return c.db.scalars(select(SavedMethod).where(
        SavedMethod.client_id == client_id, SavedMethod.status == "active")
        .order_by(SavedMethod.is_default.desc(), SavedMethod.created_at)).all()


def _owned(c: Collaborators, client_id: str, method_id: str) -> SavedMethod:
    method = c.db.get(SavedMethod, method_id)
    if method is None or method.client_id != client_id or method.status != "active":
        raise NotFound("That card or bank account is not on file.")
    return method


def make_default(c: Collaborators, client_id: str, method_id: str) -> SavedMethod:
    method = _owned(c, client_id, method_id)
    clear_default(c.db, client_id)
    method.is_default = True
    c.db.commit()
    return method


def remove(c: Collaborators, client_id: str, method_id: str, removed_by: str) -> SavedMethod:
    """Ours first (it is never offered or charged again), then Stripe's copy."""
    method = _owned(c, client_id, method_id)
    method.status, method.is_default = "removed", False
    method.removed_at, method.removed_by = utcnow(), removed_by
    c.db.commit()
    try:
        c.stripe.detach(method.stripe_payment_method)
    except Unanswered:
        log.warning("saved method %s removed; Stripe did not answer the detach", method.id)
    return method


# ---- saving without paying ----------------------------------------------------------

def start_setup(c: Collaborators, *, client_id: str, payment_method: str, make_default: bool,
                consented_by: str, ip: str, user_agent: str, request_key: str,
                return_url_prefix: str | None) -> SetupAttempt:
    existing = c.db.scalars(select(SetupAttempt).where(
        SetupAttempt.request_key == request_key)).first()
    if existing is not None:
        if existing.client_id != client_id:
            raise Conflict("This form was already used for another account. Reload the page.")
        return existing
    details = method_details(c, payment_method)
    now = utcnow()
    attempt = SetupAttempt(
        id=f"set_{secrets.token_hex(8)}", client_id=client_id, request_key=request_key,
        payment_method=details.id, status="pending", make_default=make_default,
        consent_text=domain.consent_text_for(details.type, c.clinic_name(), True),
        consented_by=consented_by, consent_ip=ip or "", consent_user_agent=(user_agent or "")[:300],
        created_at=now, updated_at=now)
    c.db.add(attempt)
    try:
        c.db.commit()
    except IntegrityError:
        c.db.rollback()
        return c.db.scalars(select(SetupAttempt).where(
            SetupAttempt.request_key == request_key)).one()
    try:
        customer = ensure_customer(c, client_id)
        if details.customer and details.customer != customer:
            return _setup_failed(c, attempt, "That card or bank account belongs to another "
                                             "account. Enter it again.")
        idle(c.db)
        intent = c.stripe.create_setup(
            customer=customer, payment_method=details.id, method_type=details.type,
            return_url=f"{return_url_prefix}{attempt.id}" if return_url_prefix else None,
            mandate=_mandate(details.type, ip, user_agent, consented_by),
            attempt_id=attempt.id, key=f"cairn-{attempt.id}-setup")
    except Declined as declined:
        return _setup_failed(c, attempt, domain.decline_message(declined.code,
                                                                 declined.decline_code))
    except Refused as refused:
        return _setup_failed(c, attempt, domain.refusal_message(refused.code))
    except Unanswered:
        return _setup_failed(c, attempt, "The card processor did not answer. Nothing was "
                                         "saved; try again in a minute.")
    return apply_setup(c, attempt.id, intent)


def _mandate(method_type: str, ip: str, user_agent: str, consented_by: str) -> dict | None:
    if method_type != "us_bank_account":
        return None
    if consented_by.startswith("staff"):
        return {"customer_acceptance": {"type": "offline"}}
    return {"customer_acceptance": {"type": "online", "online": {
        "ip_address": ip or "0.0.0.0", "user_agent": user_agent or "unknown"}}}


def apply_setup(c: Collaborators, attempt_id: str, intent: IntentView) -> SetupAttempt:
    method = intent.method
    if intent.status == "succeeded" and method is None:   # asked before taking the lock
        idle(c.db)
        method = c.stripe.payment_method(c.db.get(SetupAttempt, attempt_id).payment_method)
        idle(c.db)
    attempt = c.db.scalars(select(SetupAttempt).where(SetupAttempt.id == attempt_id)
                           .with_for_update().execution_options(populate_existing=True)).one()
    attempt.stripe_setup_intent = attempt.stripe_setup_intent or intent.id
    attempt.updated_at = utcnow()
    if attempt.status in ("succeeded", "failed"):
        c.db.commit()
        return attempt
    if intent.status == "succeeded":
        saved = c.db.scalars(select(SavedMethod).where(
            SavedMethod.stripe_payment_method == attempt.payment_method)).first()
        if saved is None:
            saved = add_saved_method(
                c.db, client_id=attempt.client_id, method=method,
                consent_text=attempt.consent_text, consented_by=attempt.consented_by,
                consent_ip=attempt.consent_ip, make_default=attempt.make_default, now=utcnow())
        attempt.status, attempt.saved_method_id, attempt.next_action_url = \
            "succeeded", saved.id, None
    elif intent.status == "requires_action":
        attempt.status, attempt.next_action_url = "requires_action", intent.next_action_url
    elif intent.status in ("requires_payment_method", "canceled"):
        attempt.status = "failed"
        attempt.failure_message = domain.failure_message(
            "card", intent.error_code, intent.error_decline_code) if intent.error_code \
            else "The card or bank account was not saved."
    c.db.commit()
    return attempt


def _setup_failed(c: Collaborators, attempt: SetupAttempt, message: str) -> SetupAttempt:
    attempt.status, attempt.failure_message, attempt.updated_at = "failed", message, utcnow()
    c.db.commit()
    return attempt


def complete_setup(c: Collaborators, client_id: str, attempt_id: str) -> SetupAttempt:
    """Back from the bank's authentication page."""
    attempt = c.db.get(SetupAttempt, attempt_id)
    if attempt is None or attempt.client_id != client_id:
        raise NotFound("That card or bank account was not found.")
    if attempt.status != "requires_action" or not attempt.stripe_setup_intent:
        return attempt
    idle(c.db)
    try:
        intent = c.stripe.retrieve_setup(attempt.stripe_setup_intent)
    except (Unanswered, Refused):
        return attempt
    return apply_setup(c, attempt_id, intent)


def raise_if_failed(attempt: SetupAttempt) -> SetupAttempt:
    if attempt.status == "failed":
        raise PaymentDeclined(attempt.failure_message or "The card was not saved.")
    return attempt
