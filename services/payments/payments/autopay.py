"""Payment plans' autopay: invoicing says an installment is due
(`InstallmentDue`), payments charges the method the patient authorized, off
session, through the same engine as every other payment.

The attempt key (`inst_<installment>_<n>`) is the payment's request key, so a
redelivered event, or a second copy of the service handling a copy of it,
finds the same payment and charges nothing more (Stripe's own keys derive
from that payment's id). The outcome travels back in `PaymentCaptured` /
`PaymentFailed`, which carry `installment_attempt`. A charge refused before
anything reached Stripe (the method was removed, the balance was paid some
other way) is recorded as a failed payment too, so invoicing always hears."""
from __future__ import annotations

import logging
import secrets

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from servicekit.db import utcnow
from servicekit.errors import Conflict, InvalidInput, PaymentDeclined, ServiceUnavailable
from servicekit.inbox import handle_once
from servicekit.tables import processed_events

from payments.charging import ChargeRequest, Collaborators, free_invoice_for_new_attempt, take_payment
from payments.models import Payment, PaymentAllocation
from payments.transitions import move

log = logging.getLogger(__name__)


def installment_due(c: Collaborators, envelope: dict, handler: str) -> None:
    """Charge once; then mark the event handled. The charge runs first (it
    commits step by step and holds no transaction across Stripe) and is
    idempotent on its request key, so a crash in between only replays it."""
    if _handled(c, envelope["id"], handler):
        return
    data = envelope["data"]
    request = ChargeRequest(
        client_id=data["client_id"], method="card", channel="autopay", initiated_by="autopay",
        allocations=[(a["invoice_id"], a["amount"]["amount"]) for a in data["allocations"]],
        request_key=data["attempt_key"], saved_method_id=data["saved_method_id"],
        off_session=True)
    try:
        free_invoice_for_new_attempt(c, request)
        payment = take_payment(c, request)
        log.info("installment attempt %s: payment %s %s", data["attempt_key"], payment.id,
                 payment.status)
    except PaymentDeclined:
        c.db.rollback()           # failed, and PaymentFailed is in the outbox
    except (InvalidInput, Conflict) as refusal:
        c.db.rollback()
        record_refusal(c, request, "refused", str(refusal))
    except ServiceUnavailable:
        c.db.rollback()
        if _payment_for(c, request.request_key) is None:
            raise                 # nothing recorded: the event is retried later
    handle_once(c.db, envelope, handler, lambda _data: None)


def record_refusal(c: Collaborators, request: ChargeRequest, code: str, message: str) -> None:
    """No payment could even start (method gone, nothing left due): record a
    failed one under the attempt's key so PaymentFailed tells invoicing."""
    if _payment_for(c, request.request_key) is not None:
        return                    # the engine recorded it (and its failure) itself
    now = utcnow()
    payment = Payment(
        id=f"pay_{secrets.token_hex(8)}", client_id=request.client_id,
        amount=sum(amount or 0 for _, amount in request.allocations), credit_amount=0,
        currency="usd", method="card", channel="autopay", initiated_by="autopay",
        request_key=request.request_key, saved_method_id=request.saved_method_id,
        off_session=True, status="pending", created_at=now, updated_at=now)
    payment.allocations = [PaymentAllocation(invoice_id=invoice_id, position=n, amount=amount or 0,
                                             in_flight=False)
                           for n, (invoice_id, amount) in enumerate(request.allocations, start=1)]
    try:
        c.db.add(payment)
        c.db.flush()
        move(c.db, payment, "failed", failure_code=code, failure_message=message[:300])
        c.db.commit()
    except IntegrityError:
        c.db.rollback()           # another copy recorded it first


def _payment_for(c: Collaborators, request_key: str) -> Payment | None:
    return c.db.scalars(select(Payment).where(Payment.request_key == request_key)).first()


def _handled(c: Collaborators, event_id: str, handler: str) -> bool:
    found = c.db.execute(select(processed_events.c.event_id).where(
        processed_events.c.event_id == event_id, processed_events.c.handler == handler)).first()
    c.db.rollback()
    return found is not None
