"""Taking money: one engine for every channel (pay link, portal, staff,
autopay) and every method (card, bank account, check, cash, outside
terminal).

The order of things is what makes a payment impossible to lose or take twice:
1. the payment and its allocations are committed first (an invoice has at
   most one payment in flight; the payment's id is the root of every
   idempotency key);
2. invoicing holds the amounts (checks the balances, refuses a void or
   edited invoice, and refuses void/edit while the hold stands);
3. an unconfirmed PaymentIntent is created (moves no money) and its id
   committed;
4. it is confirmed (moves money) with its own key.
Before each Stripe step the payment is re-read under its row lock and its
lease renewed: if the reconciler (or the payer's retry) settled it
meanwhile, the step is not taken. No database lock or transaction is held
across an RPC or a Stripe call. A definite refusal fails the attempt at once
and frees the invoices; an unclear outcome leaves it pending for the
reconciler, which asks Stripe and never re-sends a confirmation."""
from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Callable

from nameko.exceptions import RemoteError, UnknownService
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import utcnow
from servicekit.errors import (
    Conflict, InvalidInput, PaymentDeclined, ServiceUnavailable,
)
from servicekit.money import format_money

from payments import domain
from payments.models import Payment, PaymentAllocation, SavedMethod, StripeCustomer
from payments.stripe_gateway import (
    Declined, IntentView, MethodDetails, Refused, Stripe, Unanswered,
)
from payments.transitions import lock_payment, move

log = logging.getLogger(__name__)
BILLING_UNAVAILABLE = "Billing is not answering right now. Nothing was charged; try again in a minute."


@dataclass
class Collaborators:
    db: Session
    stripe: Stripe
    invoicing: Any          # hold_for_payment, release_hold, refund_room
    clinic_name: Callable[[], str]


@dataclass
class ChargeRequest:
    client_id: str
    allocations: list[tuple[str, int | None]]      # (invoice id, amount; None = what is due)
    method: str                                    # card | us_bank_account | check | cash | terminal
    channel: str                                   # pay_link | portal | staff | autopay
    initiated_by: str                              # patient | staff | autopay
    actor_id: str | None = None
    link_id: str | None = None
    request_key: str | None = None
    credit: int = 0
    payment_method: str | None = None              # a new Stripe PaymentMethod
    saved_method_id: str | None = None
    save_method: bool = False
    make_default: bool = False
    off_session: bool = False
    payer_name: str | None = None
    check_number: str | None = None
    reference: str | None = None
    ip: str = ""
    user_agent: str = ""
    return_url_prefix: str | None = None
    details: MethodDetails | None = field(default=None, repr=False)


def idle(session: Session) -> None:
    """End the session's transaction before an RPC or a Stripe call, so no
    transaction (nor, on SQLite, the one connection) is held across it."""
    session.commit()


# ---- starting --------------------------------------------------------------

def take_payment(c: Collaborators, request: ChargeRequest) -> Payment:
    """Run one payment as far as it goes now; the payment comes back in
    whatever state it reached (succeeded, processing, requires_action, or
    pending when Stripe did not answer). A failure raises with its message."""
    existing = _replayed(c.db, request)
    if existing is not None:
        return existing
    idle(c.db)
    if request.method in domain.STRIPE_METHODS:
        _prepare_stripe_method(c, request)
    payment = _record(c, request)
    _hold(c, payment, request)
    payment = c.db.get(Payment, payment.id)
    if payment.status != "pending":
        return payment            # a replay of an attempt that already ended
    if request.method in domain.MANUAL_METHODS:
        return _finish(c, payment.id)
    return _charge(c, payment.id, request)


def _replayed(session: Session, request: ChargeRequest) -> Payment | None:
    """The payment an earlier submission of the same form made; a different
    request under the same key is refused rather than answered wrongly."""
    if not request.request_key:
        return None
    existing = session.scalars(select(Payment).where(
        Payment.request_key == request.request_key)).first()
    if existing is None:
        return None
    same = existing.client_id == request.client_id and \
        [a.invoice_id for a in existing.allocations] == [i for i, _ in request.allocations]
    if not same:
        raise Conflict("This form was already used for another payment. Reload the page.")
    return existing


def _prepare_stripe_method(c: Collaborators, request: ChargeRequest) -> None:
    """Which Stripe PaymentMethod pays, checked before anything is written."""
    customer = _customer_id(c.db, request.client_id)
    if request.saved_method_id:
        saved = c.db.get(SavedMethod, request.saved_method_id)
        if saved is None or saved.client_id != request.client_id or saved.status != "active":
            raise InvalidInput("Choose a card or bank account on file for this account.")
        request.payment_method, request.save_method = saved.stripe_payment_method, False
    if not request.payment_method:
        raise InvalidInput("Enter a card or bank account to pay with.")
    details = method_details(c, request.payment_method)
    if details.customer and details.customer != customer:
        raise InvalidInput("That card or bank account belongs to another account. "
                           "Enter it again.")
    if request.off_session and not request.saved_method_id:
        raise InvalidInput("A payment without the payer present needs a method on file.")
    request.method, request.payment_method, request.details = details.type, details.id, details


def method_details(c: Collaborators, method_id: str) -> MethodDetails:
    """A card or bank account as Stripe has it (asked with no transaction
    open), or an error in the payer's words."""
    idle(c.db)
    try:
        details = c.stripe.payment_method(method_id)
    except Refused as refused:
        raise InvalidInput(domain.refusal_message(refused.code)) from None
    except Unanswered:
        raise ServiceUnavailable("The card processor is not answering. Nothing was charged "
                                 "or saved; try again in a minute.") from None
    if details.type not in domain.STRIPE_METHODS:
        raise InvalidInput("Use a card or a US bank account.")
    return details


def _record(c: Collaborators, request: ChargeRequest) -> Payment:
    keep = request.save_method and not request.saved_method_id
    consent = domain.consent_text_for(request.method, c.clinic_name(), keep) \
        if request.method in domain.STRIPE_METHODS else None
    details, now = request.details, utcnow()
    payment = Payment(
        id=f"pay_{secrets.token_hex(8)}", client_id=request.client_id, amount=0,
        credit_amount=request.credit, currency="usd", method=request.method,
        channel=request.channel, initiated_by=request.initiated_by, actor_id=request.actor_id,
        link_id=request.link_id, request_key=request.request_key,
        payment_method=request.payment_method, saved_method_id=request.saved_method_id,
        save_method=keep, make_default=request.make_default, off_session=request.off_session,
        status="pending", payer_name=request.payer_name, check_number=request.check_number,
        reference=request.reference, consent_text=consent,
        consent_ip=request.ip if consent else None,
        consent_user_agent=request.user_agent[:300] if consent else None,
        card_brand=details.card_brand if details else None,
        card_last4=details.card_last4 if details else None,
        bank_name=details.bank_name if details else None,
        bank_last4=details.bank_last4 if details else None,
        lease_until=now + domain.LEASE, next_check_at=now + domain.LEASE,
        created_at=now, updated_at=now)
    payment.allocations = [PaymentAllocation(invoice_id=invoice_id, position=n, amount=amount or 0)
                           for n, (invoice_id, amount) in enumerate(request.allocations, start=1)]
    c.db.add(payment)
    try:
        c.db.commit()
    except IntegrityError:
        c.db.rollback()
        existing = _replayed(c.db, request)
        if existing is not None:
            return existing
        raise Conflict("A payment for this invoice is already in progress. Wait for it to "
                       "finish before paying again.") from None
    return payment


def _hold(c: Collaborators, payment: Payment, request: ChargeRequest) -> None:
    """Invoicing holds the amounts; it knows the balances, and refuses
    anything that would overpay, pay a void invoice, or another account's."""
    if payment.status != "pending" or payment.amount:
        return   # a replayed request: already held
    wanted = [{"invoice_id": invoice_id, "amount": amount}
              for invoice_id, amount in request.allocations]
    ended = _ended_on(c.db, [i for i, _ in request.allocations])
    idle(c.db)
    try:
        # autopay names its installment attempt: invoicing refuses the hold
        # once the plan was cancelled (recorded as failed, nothing charged)
        attempt = {"installment_attempt": payment.request_key} \
            if payment.channel == "autopay" and (payment.request_key or "").startswith("inst_") \
            else {}
        held = c.invoicing.hold_for_payment(payment.id, payment.client_id, wanted, payment.channel,
                                            ended, **attempt)
    except RemoteError as refusal:
        if refusal.exc_type not in ("Conflict", "InvalidInput", "NotFound"):
            _fail_before_stripe(c, payment.id, "invoicing_unavailable", BILLING_UNAVAILABLE)
            raise ServiceUnavailable(BILLING_UNAVAILABLE) from None
        _fail_before_stripe(c, payment.id, "refused_by_invoicing", refusal.value)
        raise (Conflict if refusal.exc_type == "Conflict" else InvalidInput)(refusal.value) \
            from None
    except (ServiceUnavailable, UnknownService):   # no answer: the PaymentFailed releases a late hold
        _fail_before_stripe(c, payment.id, "invoicing_unavailable", BILLING_UNAVAILABLE)
        raise ServiceUnavailable(BILLING_UNAVAILABLE) from None
    _set_amounts(c, payment.id, held, request)


def _ended_on(session: Session, invoice_ids: list[str]) -> list[str]:
    """Recent attempts on these invoices that failed: their PaymentFailed may
    not have reached invoicing yet, so their holds are released now rather
    than making a payer who retries at once wait for it."""
    since = utcnow() - timedelta(days=1)
    return list(session.scalars(select(Payment.id).join(PaymentAllocation).where(
        PaymentAllocation.invoice_id.in_(invoice_ids), Payment.status == "failed",
        Payment.updated_at >= since).limit(50)))


def _set_amounts(c: Collaborators, payment_id: str, held: dict, request: ChargeRequest) -> None:
    locked = lock_payment(c.db, payment_id)
    shares = {item["invoice_id"]: item for item in held["allocations"]}
    for allocation in locked.allocations:
        allocation.amount = shares[allocation.invoice_id]["amount"]
        allocation.invoice_number = shares[allocation.invoice_id].get("invoice_number")
    locked.currency = held["currency"]
    locked.amount = sum(a.amount for a in locked.allocations) + locked.credit_amount
    c.db.commit()
    problem = None
    if locked.method in domain.STRIPE_METHODS and locked.amount < domain.MIN_STRIPE_AMOUNT:
        problem = ("amount_too_small", domain.refusal_message("amount_too_small"))
    elif request.channel == "pay_link":
        # a link pays what is due, exactly the figure its page showed
        due = shares[request.allocations[0][0]].get("due")
        asked = request.allocations[0][1]
        if due is not None and asked is not None and asked != due:
            problem = ("balance_changed", f"The balance on this invoice is now "
                                          f"{format_money(due)}. Reload the page and pay again.")
    if problem:
        _fail_before_stripe(c, payment_id, *problem)
        raise InvalidInput(problem[1])


def _fail_before_stripe(c: Collaborators, payment_id: str, code: str, message: str) -> None:
    """End an attempt that never reached Stripe. The PaymentFailed it leaves
    tells invoicing to release any hold it placed."""
    locked = lock_payment(c.db, payment_id)
    if locked.status == "pending":
        move(c.db, locked, "failed", failure_code=code, failure_message=message)
    c.db.commit()
    if code not in ("invoicing_unavailable", "refused_by_invoicing"):
        release_now(c, payment_id)


# ---- Stripe ----------------------------------------------------------------

def _still_ours(c: Collaborators, payment_id: str) -> Payment | None:
    """The payment, locked and re-read, with its lease renewed to cover the
    next Stripe call — or None if it is no longer pending (the reconciler or
    the payer's retry settled it meanwhile): then the next step is not taken."""
    payment = lock_payment(c.db, payment_id)
    if payment is None or payment.status != "pending":
        c.db.commit()
        return None
    now = utcnow()
    payment.lease_until = payment.next_check_at = now + domain.LEASE
    c.db.commit()
    return payment


def _charge(c: Collaborators, payment_id: str, request: ChargeRequest) -> Payment:
    payment = _still_ours(c, payment_id)
    if payment is None:
        return c.db.get(Payment, payment_id)
    if payment.stripe_payment_intent is None:
        try:
            customer = None
            if payment.save_method or payment.saved_method_id or payment.off_session:
                customer = ensure_customer(c, payment.client_id)
                payment = _still_ours(c, payment_id)
                if payment is None:
                    return c.db.get(Payment, payment_id)
                payment.stripe_customer = customer
                c.db.commit()
            intent = c.stripe.create_intent(
                amount=payment.amount, currency=payment.currency, method_type=payment.method,
                customer=payment.stripe_customer, payment_id=payment.id,
                keep_on_file=payment.save_method, key=payment.idempotency_key("create"))
        except Refused as refused:
            return _fail_for_good(c, payment_id, refused.code)
        except Unanswered:
            return _unanswered(c, payment_id)
        payment = lock_payment(c.db, payment_id)
        payment.stripe_payment_intent = payment.stripe_payment_intent or intent.id
        c.db.commit()
    return _confirm(c, payment_id, request)


def _confirm(c: Collaborators, payment_id: str, request: ChargeRequest) -> Payment:
    payment = _still_ours(c, payment_id)
    if payment is None:
        return c.db.get(Payment, payment_id)
    return_url = f"{request.return_url_prefix}{payment.id}" if request.return_url_prefix else None
    try:
        intent = c.stripe.confirm_intent(
            payment.stripe_payment_intent, payment_method=payment.payment_method,
            return_url=return_url, off_session=payment.off_session,
            mandate=_mandate(payment), key=payment.idempotency_key("confirm"),
            known_method=request.details)
    except Declined as declined:
        return _declined(c, payment_id, declined)
    except Refused as refused:
        _fail_for_good(c, payment_id, refused.code, raise_after=False)
        failed = cancel_and_apply(c, payment_id)
        if failed.status == "failed":
            raise PaymentDeclined(failed.failure_message)
        return failed
    except Unanswered:
        return _unanswered(c, payment_id)
    return apply_intent(c.db, payment_id, intent)


def _mandate(payment: Payment) -> dict | None:
    """ACH needs the payer's authorization on record at Stripe too."""
    if payment.method != "us_bank_account" or payment.off_session or payment.saved_method_id:
        return None
    if payment.initiated_by == "staff":
        return {"customer_acceptance": {"type": "offline"}}
    return {"customer_acceptance": {"type": "online", "online": {
        "ip_address": payment.consent_ip or "0.0.0.0",
        "user_agent": payment.consent_user_agent or "unknown"}}}


def ensure_customer(c: Collaborators, client_id: str) -> str:
    """The client's Stripe customer, made on first need. The Stripe call runs
    outside any transaction; two concurrent first calls share one idempotency
    key, so Stripe makes one customer."""
    existing = _customer_id(c.db, client_id)
    if existing:
        return existing
    idle(c.db)
    customer = c.stripe.create_customer(client_id)
    c.db.add(StripeCustomer(client_id=client_id, stripe_customer=customer, created_at=utcnow()))
    try:
        c.db.commit()
    except IntegrityError:
        c.db.rollback()
    return _customer_id(c.db, client_id)


def _customer_id(session: Session, client_id: str) -> str | None:
    found = session.get(StripeCustomer, client_id)
    return found.stripe_customer if found else None


# ---- outcomes ------------------------------------------------------------------

def apply_intent(session: Session, payment_id: str, intent: IntentView) -> Payment:
    """Bring the payment to what Stripe says its intent is now."""
    payment = lock_payment(session, payment_id)
    status = domain.status_from_intent(intent.status, intent.error_code is not None)
    if status == "failed":
        code = intent.error_code or ("canceled" if intent.status == "canceled" else "failed")
        message = domain.ABANDONED if intent.status == "canceled" else \
            domain.failure_message(payment.method, intent.error_code, intent.error_decline_code)
        move(session, payment, "failed", intent=intent.id, method=intent.method,
             failure_code=code, failure_message=message)
    elif status is not None:
        move(session, payment, status, intent=intent.id, method=intent.method,
             next_action_url=intent.next_action_url)
    if payment.status in domain.IN_FLIGHT:
        payment.lease_until = None
        if payment.status == "requires_action":
            payment.next_check_at = payment.updated_at + domain.action_window(payment.method)
    session.commit()
    return payment


def _declined(c: Collaborators, payment_id: str, declined: Declined) -> Payment:
    payment = lock_payment(c.db, payment_id)
    message = domain.failure_message(payment.method, declined.code, declined.decline_code)
    move(c.db, payment, "failed", intent=declined.intent_id, failure_code=declined.code,
         failure_message=message)
    c.db.commit()
    release_now(c, payment_id)
    raise PaymentDeclined(message)


def _fail_for_good(c: Collaborators, payment_id: str, code: str | None,
                   raise_after: bool = True) -> Payment:
    payment = lock_payment(c.db, payment_id)
    message = domain.refusal_message(code)
    move(c.db, payment, "failed", failure_code=code or "refused", failure_message=message)
    c.db.commit()
    log.warning("payment %s refused by Stripe (%s)", payment_id, code)
    release_now(c, payment_id)
    if raise_after:
        raise PaymentDeclined(message)
    return payment


def release_now(c: Collaborators, payment_id: str) -> None:
    """The payer is looking at the page: free the invoices in invoicing now,
    not when PaymentFailed arrives (it then changes nothing). Best effort:
    the event does it anyway."""
    try:
        c.invoicing.release_hold(payment_id)
    except Exception:   # noqa: BLE001 — a timeout or an outage: the event follows
        log.info("invoicing did not release payment %s's hold now; PaymentFailed will",
                 payment_id)


def _unanswered(c: Collaborators, payment_id: str) -> Payment:
    """Nobody knows yet what happened: keep the attempt (and the invoices'
    hold) until the reconciler has asked Stripe."""
    payment = lock_payment(c.db, payment_id)
    if payment.status == "pending":
        payment.lease_until = None
        payment.next_check_at = utcnow() + timedelta(seconds=30)
    c.db.commit()
    log.warning("payment %s: Stripe did not answer; left for the reconciler", payment_id)
    return payment


def _finish(c: Collaborators, payment_id: str) -> Payment:
    """A manual payment (check, cash, terminal): the money is in hand."""
    payment = lock_payment(c.db, payment_id)
    if payment.status == "pending":
        move(c.db, payment, "succeeded")
    c.db.commit()
    return payment


def cancel_and_apply(c: Collaborators, payment_id: str) -> Payment:
    """A failed attempt's intent is canceled so it can never go through later;
    if Stripe says it already went through, that is recorded instead."""
    payment = c.db.get(Payment, payment_id)
    intent_id = payment.stripe_payment_intent
    idle(c.db)
    if not intent_id:
        return payment
    try:
        view = c.stripe.cancel_intent(intent_id)
    except (Refused, Unanswered, Declined):
        log.info("could not cancel the intent of failed payment %s; the nightly comparison "
                 "will look", payment_id)
        return c.db.get(Payment, payment_id)
    return apply_intent(c.db, payment_id, view)


# ---- a payer comes back ----------------------------------------------------------

def complete_action(c: Collaborators, payment_id: str) -> Payment:
    """Back from 3-D Secure (or any redirect): ask Stripe where the intent is."""
    payment = c.db.get(Payment, payment_id)
    if payment is None or payment.stripe_payment_intent is None or not payment.in_flight:
        return payment
    idle(c.db)
    try:
        intent = c.stripe.retrieve_intent(payment.stripe_payment_intent)
    except (Unanswered, Refused):
        return payment
    payment = apply_intent(c.db, payment_id, intent)
    if payment.status == "failed":
        payment = cancel_and_apply(c, payment_id)
        release_now(c, payment_id)
    return payment


def settle(c: Collaborators, payment_id: str, *, abandon_action: bool = False,
           now=None) -> Payment:
    """Bring an in-flight payment whose answer is missing, or whose payer
    walked away, to its true state — by asking Stripe, never by sending the
    confirmation again. Used by the reconciler, and before a new attempt on
    the same invoice."""
    now = now or utcnow()
    payment = lock_payment(c.db, payment_id)
    c.db.commit()
    if payment is None or not payment.in_flight:
        return payment
    if payment.method in domain.MANUAL_METHODS:
        return _fail_quietly(c, payment_id, "not_recorded",
                             "This payment was not finished being recorded. Enter it again.")
    if payment.stripe_payment_intent is None:
        return _settle_without_intent(c, payment, now)
    try:
        intent = c.stripe.retrieve_intent(payment.stripe_payment_intent)
        status = domain.status_from_intent(intent.status, intent.error_code is not None)
        stale_action = status == "requires_action" and (
            abandon_action or now - payment.updated_at >= domain.action_window(payment.method))
        if status is None or stale_action:
            # never confirmed, or 3-D Secure left unfinished: make sure it never goes through
            intent = c.stripe.cancel_intent(intent.id)
    except Unanswered:
        return _look_again(c, payment_id, now + timedelta(minutes=1))
    except Refused:   # Stripe does not know it (another account's key?): a person must look
        log.error("payment %s: Stripe does not know its intent", payment_id)
        return _look_again(c, payment_id, now + timedelta(hours=1))
    payment = apply_intent(c.db, payment_id, intent)
    if payment.status == "requires_action":
        return _look_again(c, payment_id, payment.updated_at + domain.action_window(payment.method))
    if payment.status == "processing":
        due = payment.expected_by or now
        if due <= now:
            log.warning("payment %s is still processing after its expected date", payment_id)
            due = now + timedelta(hours=6)
        return _look_again(c, payment_id, due)
    return payment


def _settle_without_intent(c: Collaborators, payment: Payment, now) -> Payment:
    """The create call never answered, so no confirmation was ever sent and
    no money moved. Within Stripe's key window, ask again with the same key
    (creating moves nothing) to find the intent and cancel it; after it,
    Stripe may have forgotten the key, so send nothing and just fail."""
    if now - payment.created_at < domain.KEY_WINDOW and payment.amount:
        try:
            intent = c.stripe.create_intent(
                amount=payment.amount, currency=payment.currency, method_type=payment.method,
                customer=payment.stripe_customer, payment_id=payment.id,
                keep_on_file=payment.save_method, key=payment.idempotency_key("create"))
            intent = c.stripe.cancel_intent(intent.id)
            return apply_intent(c.db, payment.id, intent)
        except Unanswered:   # incl. 409: our first create is still being worked on
            return _look_again(c, payment.id, now + timedelta(minutes=1))
        except (Refused, Declined):
            pass             # Stripe said no to creating it: no intent exists
    return _fail_quietly(c, payment.id, "not_sent",
                         "The payment never reached the card processor. Nothing was charged.")


def _fail_quietly(c: Collaborators, payment_id: str, code: str, message: str) -> Payment:
    payment = lock_payment(c.db, payment_id)
    if payment.status == "pending":
        move(c.db, payment, "failed", failure_code=code, failure_message=message)
    c.db.commit()
    return payment


def _look_again(c: Collaborators, payment_id: str, when) -> Payment:
    payment = lock_payment(c.db, payment_id)
    if payment.in_flight:
        payment.next_check_at, payment.lease_until = when, None
    c.db.commit()
    return payment


def free_invoice_for_new_attempt(c: Collaborators, request: ChargeRequest) -> None:
    """Before a new attempt on these invoices: an earlier attempt that is
    only waiting for an answer nobody will give (its worker is gone) is
    settled first, and the same payer's unfinished 3-D Secure is abandoned;
    anything genuinely under way keeps the invoice."""
    invoice_ids = [invoice_id for invoice_id, _ in request.allocations]
    rows = c.db.scalars(select(PaymentAllocation).where(
        PaymentAllocation.invoice_id.in_(invoice_ids), PaymentAllocation.in_flight)).all()
    now = utcnow()
    for allocation in rows:
        payment = c.db.get(Payment, allocation.payment_id)
        if payment.status == "pending" and (payment.lease_until is None or payment.lease_until < now):
            settle(c, payment.id, now=now)
        elif payment.status == "requires_action" and _same_payer(payment, request):
            settle(c, payment.id, abandon_action=True, now=now)
    idle(c.db)


def _same_payer(payment: Payment, request: ChargeRequest) -> bool:
    if payment.link_id or request.link_id:
        return payment.link_id == request.link_id
    return payment.channel == request.channel and payment.actor_id == request.actor_id
