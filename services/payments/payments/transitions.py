"""Moving a payment forward, and the event each move leaves. Every caller
holds the payment's row lock (`lock_payment`), so whichever of Stripe's
answer, its webhook, a return from 3-D Secure or the reconciler arrives first
makes the move, and the event leaves exactly once."""
from __future__ import annotations

import logging
import secrets
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.money import as_money
from servicekit.outbox import record_event

from payments import domain
from payments.models import Payment, PaymentLink, SavedMethod
from payments.stripe_gateway import MethodDetails

SOURCE = "payments"
log = logging.getLogger(__name__)


def lock_payment(session: Session, payment_id: str) -> Payment | None:
    """The payment as committed now (not as this session last saw it), locked."""
    return session.scalars(select(Payment).where(Payment.id == payment_id).with_for_update()
                           .execution_options(populate_existing=True)).first()


def move(session: Session, payment: Payment, status: str, *, intent: str | None = None,
         method: MethodDetails | None = None, failure_code: str | None = None,
         failure_message: str | None = None, next_action_url: str | None = None) -> bool:
    """Move the locked payment to `status` and record its event; False when
    it cannot move (already there, or already final)."""
    payment.stripe_payment_intent = payment.stripe_payment_intent or intent
    if method is not None:
        _remember_details(payment, method)
    if not domain.can_move(payment.status, status):
        return False
    previous, now = payment.status, utcnow()
    if previous == "failed":
        log.warning("payment %s went through at Stripe after we had failed it", payment.id)
    payment.status, payment.updated_at = status, now
    payment.next_action_url = next_action_url if status == "requires_action" else None
    if status in domain.TERMINAL:
        _close(session, payment)
    if status == "requires_action":
        payment.next_check_at = now + domain.action_window(payment.method)
    elif status == "processing":
        payment.expected_by = domain.ach_expected_by(now)
        payment.next_check_at = payment.expected_by
        record_event(session, SOURCE, "PaymentProcessing", {
            **facts(payment), **method_facts(payment), "expected_by": iso(payment.expected_by)})
        _keep_method_if_asked(session, payment, method, now)
    elif status == "succeeded":
        _consume_link(session, payment, now)
        record_event(session, SOURCE, "PaymentCaptured", {
            **facts(payment), **method_facts(payment),
            "unapplied": as_money(payment.credit_amount, payment.currency),
            "captured_at": iso(now)}, version=2)
        _keep_method_if_asked(session, payment, method, now)
    elif status == "failed":
        payment.failure_code = failure_code or "failed"
        payment.failure_message = failure_message or domain.GENERIC_REFUSAL
        record_event(session, SOURCE, "PaymentFailed", {
            **facts(payment), "failure_code": payment.failure_code,
            "failure_message": payment.failure_message,
            "after_processing": previous == "processing", "off_session": payment.off_session},
            version=2)
        if previous == "processing" and payment.method == "us_bank_account":
            _drop_returned_account(session, payment, failure_code, now)
    return True


def facts(payment: Payment) -> dict:
    """What every payment event says: ids, money, where it goes. No PHI."""
    found = {"payment_id": payment.id, "client_id": payment.client_id,
             "amount": as_money(payment.amount, payment.currency),
             "allocations": [allocation_facts(a, payment.currency) for a in payment.allocations],
             "method": payment.method, "initiated_by": payment.initiated_by}
    if payment.channel == "autopay" and (payment.request_key or "").startswith("inst_"):
        found["installment_attempt"] = payment.request_key   # payment plans: back to its attempt
    return found


def allocation_facts(allocation, currency: str) -> dict:
    found = {"invoice_id": allocation.invoice_id, "amount": as_money(allocation.amount, currency)}
    if allocation.invoice_number:
        found["invoice_number"] = allocation.invoice_number
    return found


def method_facts(payment: Payment) -> dict:
    found = {"card_brand": payment.card_brand, "card_last4": payment.card_last4,
             "bank_name": payment.bank_name, "bank_last4": payment.bank_last4,
             "check_number": payment.check_number}
    return {key: value for key, value in found.items() if value}


def _remember_details(payment: Payment, method: MethodDetails) -> None:
    payment.card_brand = payment.card_brand or method.card_brand
    payment.card_last4 = payment.card_last4 or method.card_last4
    payment.bank_name = payment.bank_name or method.bank_name
    payment.bank_last4 = payment.bank_last4 or method.bank_last4


def _close(session: Session, payment: Payment) -> None:
    """Final: the invoices are free for another payment, nobody looks again."""
    for allocation in payment.allocations:
        allocation.in_flight = False
    payment.lease_until = payment.next_check_at = None
    session.flush()


def _consume_link(session: Session, payment: Payment, now: datetime) -> None:
    if payment.link_id:
        link = session.get(PaymentLink, payment.link_id)
        link.used_at = link.used_at or now


def _keep_method_if_asked(session: Session, payment: Payment, method: MethodDetails | None,
                          now: datetime) -> None:
    """The payer ticked "keep on file": once the bank or card accepted the
    payment, Stripe has attached the method to the customer; keep our record
    of it and of the consent."""
    if not payment.save_method or not payment.payment_method or payment.saved_method_id:
        return
    existing = session.scalars(select(SavedMethod).where(
        SavedMethod.stripe_payment_method == payment.payment_method)).first()
    if existing is None:
        existing = add_saved_method(
            session, client_id=payment.client_id, method=method or _details_of(payment),
            consent_text=payment.consent_text or "", consented_by=consenter(payment),
            consent_ip=payment.consent_ip or "", make_default=payment.make_default, now=now)
    payment.saved_method_id = existing.id


def consenter(payment: Payment) -> str:
    return f"{payment.channel}:{payment.actor_id}" if payment.actor_id else payment.channel


def _details_of(payment: Payment) -> MethodDetails:
    return MethodDetails(payment.payment_method, payment.method, payment.stripe_customer,
                         card_brand=payment.card_brand, card_last4=payment.card_last4,
                         bank_name=payment.bank_name, bank_last4=payment.bank_last4)


def add_saved_method(session: Session, *, client_id: str, method: MethodDetails,
                     consent_text: str, consented_by: str, consent_ip: str, make_default: bool,
                     now: datetime) -> SavedMethod:
    """Record a method now on file at Stripe; the first one (or one the
    person asked for) becomes the default."""
    has_default = session.scalars(select(SavedMethod.id).where(
        SavedMethod.client_id == client_id, SavedMethod.is_default,
        SavedMethod.status == "active")).first() is not None
    if make_default and has_default:
        clear_default(session, client_id)
    fields = dict(client_id=client_id, stripe_payment_method=method.id, type=method.type,
                  card_brand=method.card_brand, exp_month=method.exp_month,
                  exp_year=method.exp_year, bank_name=method.bank_name,
                  last4=method.last4 or "????", status="active", consent_text=consent_text,
                  consented_at=now, consented_by=consented_by, consent_ip=consent_ip,
                  created_at=now)
    saved = _insert_saved(session, fields, make_default or not has_default)
    record_event(session, SOURCE, "PaymentMethodSaved", {
        "method_id": saved.id, "client_id": client_id, "type": saved.type,
        "is_default": saved.is_default})
    return saved


def _insert_saved(session: Session, fields: dict, default: bool) -> SavedMethod:
    """In a savepoint: another method becoming the default at the same
    moment (the partial unique index) must not undo the payment around it;
    this one is then kept, just not as the default."""
    for as_default in (default, False) if default else (False,):
        saved = SavedMethod(id=f"spm_{secrets.token_hex(8)}", is_default=as_default, **fields)
        try:
            with session.begin_nested():
                session.add(saved)
            return saved
        except IntegrityError:
            existing = session.scalars(select(SavedMethod).where(
                SavedMethod.stripe_payment_method == fields["stripe_payment_method"])).first()
            if existing is not None:
                return existing
    raise RuntimeError("could not record the saved method")


def clear_default(session: Session, client_id: str) -> None:
    session.execute(update(SavedMethod).where(SavedMethod.client_id == client_id,
                                              SavedMethod.is_default)
                    .values(is_default=False))
    session.flush()


CLOSED_ACCOUNT_CODES = ("account_closed", "no_account", "debit_not_authorized")


def _drop_returned_account(session: Session, payment: Payment, code: str | None,
                           now: datetime) -> None:
    """A bank account that came back closed, unknown or not allowing debits
    is no use on file: stop offering it."""
    if code not in CLOSED_ACCOUNT_CODES or not payment.payment_method:
        return
    session.execute(update(SavedMethod).where(
        SavedMethod.stripe_payment_method == payment.payment_method,
        SavedMethod.status == "active").values(status="removed", is_default=False,
                                               removed_at=now, removed_by=f"bank:{code}"))
