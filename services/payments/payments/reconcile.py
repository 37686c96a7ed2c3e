"""The reconciler. Two jobs, both safe with several copies of the service
running (rows and days are claimed; no lock is held across a Stripe call):

- the sweep, every few seconds: payments and refunds whose outcome is
  unknown (no answer, 3-D Secure past its window, bank payments past their
  expected date) are looked up at Stripe by id and moved to their true
  state; webhooks whose processing failed are processed again;
- the nightly comparison: the day's PaymentIntents and refunds at Stripe
  against Cairn's records. Every mismatch is kept and reported, and can be
  repaired by replaying the Stripe object."""
from __future__ import annotations

import calendar
import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError

from servicekit.db import is_postgres, utcnow
from servicekit.errors import NotFound

from payments import charging, domain, refunds, webhooks
from payments.charging import Collaborators, idle
from payments.models import Mismatch, Payment, ReconciliationRun, Refund
from payments.stripe_gateway import IntentView, RefundView, Unanswered

log = logging.getLogger(__name__)
BATCH = 20


# ---- the sweep -----------------------------------------------------------------

def sweep(c: Collaborators, now: datetime | None = None) -> int:
    """Settle whatever is due; the number of payments, refunds and webhooks handled."""
    now = now or utcnow()
    handled = 0
    work = [(charging.settle, payment_id) for payment_id in
            _claim(c, Payment, now, Payment.status.in_(domain.IN_FLIGHT))]
    work += [(refunds.settle, refund_id) for refund_id in
             _claim(c, Refund, now, Refund.status.in_(("requested", "pending")))]
    for settle, row_id in work:
        handled += _isolated(c, lambda: settle(c, row_id, now=now), row_id)
    for event_id in webhooks.unprocessed(c, now - timedelta(minutes=2)):
        handled += _isolated(c, lambda: webhooks.process(c, event_id), event_id)
    return handled


def _isolated(c: Collaborators, work, what: str) -> int:
    """One row that cannot be settled (its lease keeps it aside for a while)
    must not stop the others."""
    try:
        work()
        return 1
    except Exception:   # noqa: BLE001
        c.db.rollback()
        log.exception("reconciler: %s could not be settled; will try again", what)
        return 0


def _claim(c: Collaborators, model, now: datetime, in_state) -> list[str]:
    """Take a lease on due rows: FOR UPDATE SKIP LOCKED, so two copies of
    the service never settle the same row; the lease (not a lock) covers
    the Stripe calls that follow."""
    query = (select(model.id).where(in_state, model.next_check_at <= now,
                                    or_(model.lease_until.is_(None), model.lease_until < now))
             .order_by(model.next_check_at).limit(BATCH))
    if is_postgres(c.db):
        query = query.with_for_update(skip_locked=True)
    ids = list(c.db.scalars(query))
    if ids:
        c.db.execute(update(model).where(model.id.in_(ids))
                     .values(lease_until=now + domain.LEASE))
    c.db.commit()
    return ids


# ---- the nightly comparison ------------------------------------------------------------

@dataclass(frozen=True)
class Finding:
    kind: str
    stripe_object: str
    payment_id: str | None = None
    refund_id: str | None = None
    ours: str = ""
    theirs: str = ""


def due_day(now: datetime, hour: int) -> date | None:
    """Yesterday (UTC), once the configured hour has passed."""
    return (now - timedelta(days=1)).date() if now.hour >= hour else None


def compare_day(c: Collaborators, day: date, *, force: bool = False) -> ReconciliationRun | None:
    """Compare one UTC day; None when another copy already has (or had) it.
    `force` compares it again (an operator asking), replacing old findings."""
    run = c.db.scalars(select(ReconciliationRun).where(ReconciliationRun.day == day)).first()
    if run is not None and not force:
        return None
    if run is None:
        run = ReconciliationRun(day=day, started_at=utcnow(), intents_checked=0, refunds_checked=0)
        c.db.add(run)
        try:
            c.db.commit()
        except IntegrityError:
            c.db.rollback()
            return None
    start = calendar.timegm(datetime.combine(day, time()).timetuple())
    findings, intents, refund_views = _findings(c, start, start + 86_400)
    c.db.execute(Mismatch.__table__.delete().where(Mismatch.run_id == run.id,
                                                   Mismatch.repaired_at.is_(None)))
    now = utcnow()
    for finding in findings:
        c.db.add(Mismatch(run_id=run.id, found_at=now, **finding.__dict__))
    run.intents_checked, run.refunds_checked = intents, refund_views
    run.finished_at = now
    c.db.commit()
    if findings:
        log.warning("reconciliation of %s: %d mismatch(es)", day, len(findings))
    return run


def _findings(c: Collaborators, start: int, end: int) -> tuple[list[Finding], int, int]:
    findings: list[Finding] = []
    seen_intents: set[str] = set()
    idle(c.db)
    intents = list(c.stripe.list_intents(start, end))     # Stripe first, then our records:
    refund_views = list(c.stripe.list_refunds(start, end))  # no transaction across its pages
    for intent in intents:
        seen_intents.add(intent.id)
        findings.extend(_check_intent(c, intent))
    day_start = datetime.utcfromtimestamp(start)
    ours = c.db.scalars(select(Payment).where(
        Payment.created_at >= day_start, Payment.created_at < day_start + timedelta(days=1),
        Payment.stripe_payment_intent.is_not(None))).all()
    for payment in ours:
        if payment.stripe_payment_intent not in seen_intents:
            findings.append(Finding("missing_at_stripe", payment.stripe_payment_intent,
                                    payment_id=payment.id, ours=_describe_payment(payment)))
    for view in refund_views:
        findings.extend(_check_refund(c, view))
    return findings, len(intents), len(refund_views)


def _check_intent(c: Collaborators, intent: IntentView) -> list[Finding]:
    theirs = f"{intent.status} {intent.amount} {intent.currency}"
    payment = c.db.get(Payment, intent.cairn_id) if intent.cairn_id else None
    payment = payment or c.db.scalars(select(Payment).where(
        Payment.stripe_payment_intent == intent.id)).first()
    if payment is None:
        kind = "unknown_payment" if intent.status in ("succeeded", "processing") else \
            "unknown_intent"
        return [Finding(kind, intent.id, theirs=theirs)]
    ours = _describe_payment(payment)
    if payment.stripe_payment_intent != intent.id:
        # an intent of ours that the payment never recorded (its create call
        # never answered); harmless unless money moved on it
        if intent.status in ("succeeded", "processing"):
            return [Finding("money_not_recorded", intent.id, payment_id=payment.id, ours=ours,
                            theirs=theirs)]
        if intent.status != "canceled":
            return [Finding("orphan_intent", intent.id, payment_id=payment.id, ours=ours,
                            theirs=theirs)]
        return []
    found = []
    if intent.amount != payment.amount:
        found.append(Finding("amount", intent.id, payment_id=payment.id, ours=ours, theirs=theirs))
    expected = domain.status_from_intent(intent.status, intent.error_code is not None)
    agrees = expected == payment.status or (expected is None and payment.status == "failed") \
        or (payment.status == "pending" and expected is None)
    if not agrees:
        found.append(Finding("status", intent.id, payment_id=payment.id, ours=ours, theirs=theirs))
    return found


def _check_refund(c: Collaborators, view: RefundView) -> list[Finding]:
    theirs = f"{view.status} {view.amount}"
    refund = c.db.get(Refund, view.cairn_id) if view.cairn_id else None
    refund = refund or c.db.scalars(select(Refund).where(Refund.stripe_refund == view.id)).first()
    if refund is None:
        return [Finding("unknown_refund", view.id, theirs=theirs)]
    ours = f"{refund.status} {refund.amount}"
    if refund.amount != view.amount:
        return [Finding("refund_amount", view.id, refund_id=refund.id, payment_id=refund.payment_id,
                        ours=ours, theirs=theirs)]
    if refund.status != view.status:
        return [Finding("refund_status", view.id, refund_id=refund.id,
                        payment_id=refund.payment_id, ours=ours, theirs=theirs)]
    return []


def _describe_payment(payment: Payment) -> str:
    return f"{payment.status} {payment.amount} {payment.currency}"


# ---- repair ---------------------------------------------------------------------------

def repair(c: Collaborators, mismatch_id: int) -> Mismatch:
    """Replay the Stripe object onto our record, and call it repaired only
    if the two then agree. Objects we have no record of, and amounts, cannot
    be guessed at: they stay for a person."""
    mismatch = c.db.get(Mismatch, mismatch_id)
    if mismatch is None:
        raise NotFound("no such mismatch")
    if mismatch.repaired_at is not None:
        return mismatch
    kind, stripe_object = mismatch.kind, mismatch.stripe_object
    payment_id, refund_id = mismatch.payment_id, mismatch.refund_id
    idle(c.db)
    try:
        note, agrees = _replay(c, kind, stripe_object, payment_id, refund_id)
    except Unanswered:
        return c.db.get(Mismatch, mismatch_id)
    mismatch = c.db.get(Mismatch, mismatch_id)
    if note and agrees:
        mismatch.repaired_at, mismatch.repair_note = utcnow(), note
    elif note:
        mismatch.repair_note = f"{note}, but it still differs: needs a person"
    else:
        mismatch.repair_note = "needs a person: Cairn has no record to repair"
    c.db.commit()
    return mismatch


def _replay(c: Collaborators, kind, stripe_object, payment_id, refund_id) -> tuple[str | None, bool]:
    """(what was done, whether Cairn and Stripe now agree)."""
    if refund_id:
        refunds.apply_view(c.db, refund_id, c.stripe.retrieve_refund(stripe_object))
        idle(c.db)
        return "refund replayed from Stripe", not _check_refund(c, c.stripe.retrieve_refund(
            stripe_object))
    if payment_id and kind in ("status", "missing_at_stripe", "amount"):
        if c.db.get(Payment, payment_id).in_flight:
            charging.settle(c, payment_id)
        else:
            idle(c.db)
            charging.apply_intent(c.db, payment_id, c.stripe.retrieve_intent(stripe_object))
        idle(c.db)
        return "payment replayed from Stripe", not _check_intent(
            c, c.stripe.retrieve_intent(stripe_object))
    if payment_id and kind == "orphan_intent":
        canceled = c.stripe.cancel_intent(stripe_object)
        return "stray intent canceled at Stripe", canceled.status == "canceled"
    return None, False


def open_mismatches(c: Collaborators, limit: int = 200) -> list[Mismatch]:
    return c.db.scalars(select(Mismatch).where(Mismatch.repaired_at.is_(None))
                        .order_by(Mismatch.id.desc()).limit(limit)).all()
