"""Payment plans: invoice balances paid in installments that autopay
charges once the patient signed. Use cases take the session; the caller
commits. Events go through the outbox in the same transaction.

Autopay (`claim_due`): installments due on or before the business date are
claimed with FOR UPDATE SKIP LOCKED (two copies of invoicing never claim
the same row), each gets an attempt row whose key (`inst_<id>_<n>`) is
unique, and `InstallmentDue` is recorded in the same transaction. Payments
charges with that key as its request key, so nothing is charged twice; the
outcome comes back on PaymentCaptured / PaymentFailed (`installment_attempt`)."""
from __future__ import annotations

import secrets
from datetime import date, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session, aliased, selectinload

from servicekit import clock
from servicekit.db import is_postgres, iso, utcnow
from servicekit.errors import Conflict, InvalidFields, NotFound
from servicekit.money import format_money
from servicekit.outbox import record_event
from servicekit.text import FieldChecks, clean

from invoicing import plan_rules as rules
from invoicing.models import (
    Installment, InstallmentAttempt, Invoice, PaymentPlan, PlanInvoice,
)
from invoicing.usecases import SOURCE, note

OPEN_PLAN = ("awaiting_signature", "active", "needs_attention")
PLANNABLE = ("sent", "partially_paid")
CLAIM_BATCH = 20
STATUS_WORDS = {"awaiting_signature": "Waiting for the patient's signature", "active": "Active",
                "needs_attention": "Needs attention", "completed": "Completed",
                "cancelled": "Cancelled"}
INSTALLMENT_WORDS = {"scheduled": "Scheduled", "due": "Being charged", "paid": "Paid",
                     "failed": "Did not go through", "cancelled": "Cancelled"}


def money(amount: int) -> dict:
    return {"amount": amount, "currency": "usd"}


# ---- setting up ------------------------------------------------------------------------

def plan_input(payload, checks: FieldChecks) -> dict:
    """Every field's problem, collected in `checks`, in the words of the form."""
    if not isinstance(payload, dict):
        raise InvalidFields({"form": "The plan details are missing."})
    client_id = checks.run("client_id", clean, payload.get("client_id"), "the client", 40,
                           required=True)
    invoice_ids = payload.get("invoice_ids")
    if isinstance(invoice_ids, str):
        invoice_ids = [invoice_ids]
    if not isinstance(invoice_ids, list) or not invoice_ids or \
            not all(isinstance(i, str) and i.strip() for i in invoice_ids):
        checks.add("invoice_ids", "Choose at least one invoice with a balance.")
        invoice_ids = []
    count = _whole(checks, "installments", payload.get("installments"),
                   "Enter the number of installments (2 to 36).")
    if count is not None and not rules.MIN_INSTALLMENTS <= count <= rules.MAX_INSTALLMENTS:
        checks.add("installments", f"Choose between {rules.MIN_INSTALLMENTS} and "
                                   f"{rules.MAX_INSTALLMENTS} installments.")
    frequency = payload.get("frequency")
    if not isinstance(frequency, str) or frequency not in rules.FREQUENCIES:
        checks.add("frequency", "Choose how often to charge.")
    first = _day(checks, payload.get("first_due_on"))
    if first is not None and first < clock.today():
        checks.add("first_due_on", "The first payment date cannot be in the past.")
    elif first is not None and (first - clock.today()).days > rules.MAX_DAYS_TO_FIRST:
        checks.add("first_due_on", "The first payment date must be within a year from today.")
    amounts = payload.get("amounts")
    if amounts not in (None, "", []):
        if not isinstance(amounts, list) or not all(
                isinstance(a, int) and not isinstance(a, bool) for a in amounts):
            checks.add("amounts", "Enter each installment as an amount in dollars and cents.")
            amounts = None
        elif count is not None and len(amounts) != count:
            checks.add("amounts", f"Enter {count} amounts, one for each installment.")
    else:
        amounts = None
    return {"client_id": client_id, "invoice_ids": list(dict.fromkeys(i.strip() for i in invoice_ids)),
            "count": count, "frequency": frequency, "first": first, "amounts": amounts}


def _whole(checks: FieldChecks, field: str, raw, message: str):
    try:
        if isinstance(raw, bool):
            raise ValueError
        return int(str(raw).strip())
    except (TypeError, ValueError):
        checks.add(field, message)
        return None


def _day(checks: FieldChecks, raw) -> date | None:
    try:
        return date.fromisoformat(str(raw).strip())
    except (TypeError, ValueError):
        checks.add("first_due_on", "Enter the first payment date, like 2026-12-15.")
        return None


def create_plan(session: Session, payload, actor: str) -> PaymentPlan:
    """A plan over open balances, waiting for the patient's signature; or
    InvalidFields (nothing saved)."""
    checks = FieldChecks()
    data = plan_input(payload, checks)
    invoices = _plannable(session, data, checks) if data["client_id"] else []
    total = sum(invoice.balance for invoice in invoices)
    planned = []
    if invoices and not checks.errors:
        try:
            planned = rules.schedule(total, data["count"], data["frequency"], data["first"],
                                     clock.today())
            if data["amounts"] is not None:
                rules.check_amounts(total, data["amounts"])
                planned = [rules.Planned(p.number, p.due_on, a)
                           for p, a in zip(planned, data["amounts"])]
        except rules.PlanRuleBroken as broken:
            checks.add(broken.field, str(broken))
    checks.raise_if_any()
    now = utcnow()
    plan = PaymentPlan(
        id=f"plan_{secrets.token_hex(8)}", client_id=data["client_id"],
        status="awaiting_signature", frequency=data["frequency"],
        installment_count=data["count"], total=total, currency="usd", first_due_on=data["first"],
        created_by=str(actor)[:40], created_at=now, updated_at=now, cancelled_reason="")
    plan.invoices = [PlanInvoice(invoice_id=invoice.id, position=n, amount=invoice.balance)
                     for n, invoice in enumerate(invoices, start=1)]
    plan.installments = [Installment(number=p.number, due_on=p.due_on, amount=p.amount,
                                     status="scheduled", paid_amount=0) for p in planned]
    session.add(plan)
    for invoice in invoices:
        note(session, invoice, f"Payment plan set up: {data['count']} installments, "
                               f"{rules.FREQUENCIES[data['frequency']].lower()}", actor)
    session.flush()
    record_event(session, SOURCE, "PaymentPlanCreated", {
        "plan_id": plan.id, "client_id": plan.client_id, "total": money(total),
        "installment_count": plan.installment_count, "frequency": plan.frequency,
        "first_due_on": plan.first_due_on.isoformat(),
        "invoice_ids": [{"invoice_id": i.id} for i in invoices], "created_by": plan.created_by})
    return plan


def _plannable(session: Session, data: dict, checks: FieldChecks) -> list[Invoice]:
    """The chosen invoices, oldest first, locked; each must be the client's,
    sent, with a balance, and not in another open plan."""
    found = {i.id: i for i in session.scalars(
        select(Invoice).where(Invoice.id.in_(sorted(data["invoice_ids"])))
        .order_by(Invoice.id).with_for_update())}
    in_plans = set(session.scalars(
        select(PlanInvoice.invoice_id).join(PaymentPlan)
        .where(PlanInvoice.invoice_id.in_(list(found)), PaymentPlan.status.in_(OPEN_PLAN))))
    problems = []
    for invoice_id in data["invoice_ids"]:
        invoice = found.get(invoice_id)
        if invoice is None or invoice.client_id != data["client_id"]:
            problems.append("One of the invoices chosen is not on this account.")
        elif invoice.status == "draft":
            problems.append(f"Send invoice {invoice.number} before putting it in a plan.")
        elif invoice.status not in PLANNABLE or invoice.balance <= 0:
            problems.append(f"Invoice {invoice.number} has no balance to pay.")
        elif invoice_id in in_plans:
            problems.append(f"Invoice {invoice.number} is already in a payment plan.")
    if problems:
        checks.add("invoice_ids", " ".join(dict.fromkeys(problems)))
        return []
    return sorted(found.values(), key=lambda i: (i.created_at, i.id))


def load_plan(session: Session, plan_id, client_id=None, lock: bool = False) -> PaymentPlan:
    query = select(PaymentPlan).where(PaymentPlan.id == str(plan_id)).options(
        selectinload(PaymentPlan.invoices),
        selectinload(PaymentPlan.installments).selectinload(Installment.attempts))
    if lock:
        query = query.with_for_update(of=PaymentPlan)
    plan = session.scalars(query).first()
    if plan is None or (client_id is not None and plan.client_id != str(client_id)):
        raise NotFound("That payment plan was not found.")
    return plan


def sign_plan(session: Session, plan_id, signer, saved_method_id, client_id=None) -> PaymentPlan:
    """The patient signs the agreement once and authorizes autopay with a
    method on file; the plan becomes active and its installments due on
    their dates (one already past is charged on the next run)."""
    plan = load_plan(session, plan_id, client_id, lock=True)
    if plan.status != "awaiting_signature":
        raise Conflict("This payment plan has already been signed." if plan.signed_at else
                       "This payment plan can no longer be signed.")
    signer = signer if isinstance(signer, dict) else {}
    checks = FieldChecks()
    name = checks.run("typed_name", clean, signer.get("typed_name"), "your full name", 120,
                      required=True)
    method = checks.run("saved_method_id", clean, saved_method_id, "a card or bank account on file",
                        40)
    if not method and "saved_method_id" not in checks.errors:
        checks.add("saved_method_id", "Add a card or bank account in Payment methods first, "
                                      "then come back to sign.")
    checks.raise_if_any()
    now, today = utcnow(), clock.today()
    plan.status, plan.updated_at = "active", now
    plan.signed_name, plan.signed_at = name, now
    plan.signed_ip = str(signer.get("ip") or "")[:64]
    plan.signed_user_agent = str(signer.get("user_agent") or "")[:300]
    plan.autopay_method_id, plan.consent_version = method, rules.CONSENT_VERSION
    for installment in plan.installments:
        if installment.status == "scheduled":
            installment.charge_on = max(installment.due_on, today)
    record_event(session, SOURCE, "PaymentPlanSigned", {
        "plan_id": plan.id, "client_id": plan.client_id, "signed_at": iso(now),
        "autopay_method_id": method, "consent_version": rules.CONSENT_VERSION})
    return plan


def cancel_plan(session: Session, plan_id, actor: str, reason: str = "") -> PaymentPlan:
    """Nothing more is charged: an installment whose charge payments has not
    started (no hold placed yet) is cancelled with its attempt, and the hold
    payments asks for later is refused. A charge already under way (its hold
    placed) still counts. Locks plan → installments → attempts."""
    plan = load_plan(session, plan_id, lock=True)
    if plan.status in ("completed", "cancelled"):
        raise Conflict(f"This payment plan is already {plan.status}.")
    plan.status, plan.updated_at = "cancelled", utcnow()
    plan.cancelled_reason = clean(reason, "the reason", 300)
    installments = _locked_installments(session, plan.id)
    attempts = _locked_attempts(session, [i.id for i in installments])
    for installment in installments:
        if installment.status in ("scheduled", "failed"):
            installment.status, installment.charge_on = "cancelled", None
        elif installment.status == "due":
            charging = [a for a in attempts if a.installment_id == installment.id
                        and a.status == "charging"]
            if charging and all(a.payment_id is None for a in charging):
                for attempt in charging:
                    attempt.status, attempt.finished_at = "cancelled", utcnow()
                installment.status, installment.charge_on = "cancelled", None
    return plan


def retry_plan(session: Session, plan_id, actor: str) -> PaymentPlan:
    """Staff, after the patient fixed their card: charge what failed on the
    next run and make the plan active again."""
    plan = load_plan(session, plan_id, lock=True)
    if plan.status != "needs_attention":
        raise Conflict("Only a plan that needs attention can be tried again.")
    plan.status, plan.updated_at = "active", utcnow()
    for installment in _locked_installments(session, plan.id):
        if installment.status == "failed":
            installment.charge_on = clock.today()
    return plan


def _locked_installments(session: Session, plan_id: str) -> list[Installment]:
    return list(session.scalars(select(Installment).where(Installment.plan_id == plan_id)
                                .order_by(Installment.number).with_for_update()
                                .execution_options(populate_existing=True)))


def _locked_attempts(session: Session, installment_ids: list[int]) -> list[InstallmentAttempt]:
    if not installment_ids:
        return []
    return list(session.scalars(select(InstallmentAttempt)
                                .where(InstallmentAttempt.installment_id.in_(installment_ids))
                                .order_by(InstallmentAttempt.id).with_for_update()
                                .execution_options(populate_existing=True)))


def _lock_plan(session: Session, plan_id: str) -> PaymentPlan:
    return session.scalars(select(PaymentPlan).where(PaymentPlan.id == plan_id).with_for_update()
                           .execution_options(populate_existing=True)).one()


# ---- autopay -----------------------------------------------------------------------------

def claim_due(session: Session, today: date, batch: int = CLAIM_BATCH) -> int:
    """Claim installments due by `today` (up to `batch` rows; one per plan:
    a plan's next installment waits until the charge in flight ends, so two
    never take the same balance) and record one InstallmentDue each; the
    caller commits. Returns how many rows were looked at, less any left
    for the next run (so the caller's loop ends)."""
    in_flight = aliased(Installment)
    query = (select(Installment).join(PaymentPlan, PaymentPlan.id == Installment.plan_id)
             .where(PaymentPlan.status == "active", Installment.charge_on <= today,
                    Installment.status.in_(("scheduled", "failed")),
                    ~exists().where(in_flight.plan_id == Installment.plan_id,
                                    in_flight.status == "due"))
             .order_by(Installment.charge_on, Installment.number).limit(batch))
    if is_postgres(session):
        # the plan row too: one charge in flight per plan, even across copies
        query = query.with_for_update(skip_locked=True, of=(Installment, PaymentPlan))
    rows = list(session.scalars(query))
    first_of_plan = {}
    for installment in rows:
        first_of_plan.setdefault(installment.plan_id, installment)
    left = sum(not _start_attempt(session, installment, today)
               for installment in first_of_plan.values())
    return len(rows) - left      # any left for the next run: the caller stops looping


def _start_attempt(session: Session, installment: Installment, today: date) -> bool:
    """False: left for the next run (a charge of the plan is in flight, or a
    payment is being applied to its invoices right now)."""
    plan = _lock_plan(session, installment.plan_id)
    # claim_due's NOT EXISTS ran on the statement's snapshot: under READ
    # COMMITTED a charge another copy started just before our lock is not
    # in it. Looked at again now, under the plan's lock: one charge per plan.
    if session.scalar(select(Installment.id).where(Installment.plan_id == plan.id,
                                                   Installment.status == "due").limit(1)):
        return False
    invoice_ids = session.scalars(select(PlanInvoice.invoice_id)
                                  .where(PlanInvoice.plan_id == plan.id)).all()
    if not _notes_allowed(session, invoice_ids):
        return False
    invoices = session.scalars(
        select(Invoice).join(PlanInvoice, PlanInvoice.invoice_id == Invoice.id)
        .where(PlanInvoice.plan_id == plan.id).order_by(Invoice.created_at, Invoice.id)
        .execution_options(populate_existing=True)).all()
    open_balance = sum(max(i.balance, 0) for i in invoices if i.status in PLANNABLE)
    shares = rules.allocate_oldest_first(
        installment.amount - installment.paid_amount,
        [(i.id, i.balance) for i in invoices if i.status in PLANNABLE])
    amount = sum(share for _, share in shares)
    installment.charge_on = None
    if open_balance < rules.MIN_INSTALLMENT:
        # paid some other way meanwhile: nothing (or less than the $0.50
        # Stripe charges at least) is left, so no installment of the plan
        # could be charged: they are settled without a charge and the plan
        # completes; a few cents left stay on the invoice for the front desk
        for left in _locked_installments(session, plan.id):
            if left.status in ("scheduled", "failed"):
                left.status, left.charge_on = "cancelled", None
        why = ("the balance was paid another way" if not open_balance else
               f"the {format_money(open_balance)} left is below the $0.50 a card can be charged; "
               "collect it or adjust it off")
        for invoice in invoices:
            if invoice.status in PLANNABLE or not open_balance:
                note(session, invoice, f"Payment plan: {why}; the installments left were "
                                       "settled without a charge", "autopay")
        _maybe_complete(session, plan)
        return True
    if amount < rules.MIN_INSTALLMENT:
        # what is left of this installment (a capped earlier charge) is
        # below Stripe's $0.50: settled without a charge; the later
        # installments still charge what the invoices have due
        installment.status = "paid" if installment.paid_amount else "cancelled"
        for invoice_id, _share in shares[:1]:
            note(session, session.get(Invoice, invoice_id),
                 f"Payment plan installment {installment.number} settled without a charge: "
                 f"the {format_money(amount)} left is below the $0.50 a card can be charged",
                 "autopay")
        _maybe_complete(session, plan)
        return True
    number = len(installment.attempts) + 1
    key = f"inst_{installment.id}_{number}"
    session.add(InstallmentAttempt(installment_id=installment.id, number=number, key=key,
                                   amount=amount, status="charging", created_at=utcnow()))
    installment.status = "due"
    record_event(session, SOURCE, "InstallmentDue", {
        "plan_id": plan.id, "client_id": plan.client_id, "installment_id": str(installment.id),
        "installment_number": installment.number, "attempt": number, "attempt_key": key,
        "amount": money(amount), "saved_method_id": plan.autopay_method_id,
        "allocations": [{"invoice_id": i, "amount": money(a)} for i, a in shares]})
    return True


def _notes_allowed(session: Session, invoice_ids: list[str]) -> bool:
    """The plan's invoices, key-share locked without waiting (balances
    steady until commit; notes on them need that lock anyway): a payment
    handler holding one, and waiting for this plan, would never give it up.
    False if any is busy."""
    got = session.scalars(select(Invoice.id).where(Invoice.id.in_(sorted(invoice_ids)))
                          .order_by(Invoice.id)
                          .with_for_update(key_share=True, skip_locked=True)).all()
    return len(got) == len(set(invoice_ids))


def _attempt(session: Session, key: str | None, accept: tuple[str, ...] = ("charging",)):
    """The plan, installment and attempt named by `key`, locked in the order
    every plan use case locks them (plan → installment → attempt; the ids
    are read first without a lock), or Nones."""
    if not key:
        return None, None, None
    found = session.execute(select(Installment.plan_id, Installment.id)
                            .join(InstallmentAttempt,
                                  InstallmentAttempt.installment_id == Installment.id)
                            .where(InstallmentAttempt.key == key)).first()
    if found is None:
        return None, None, None
    plan = _lock_plan(session, found.plan_id)
    installment = session.scalars(select(Installment).where(Installment.id == found.id)
                                  .with_for_update()
                                  .execution_options(populate_existing=True)).one()
    attempt = session.scalars(select(InstallmentAttempt).where(InstallmentAttempt.key == key)
                              .with_for_update()
                              .execution_options(populate_existing=True)).one()
    if attempt.status not in accept:
        return None, None, None
    return plan, installment, attempt


def payment_captured(session: Session, data: dict) -> None:
    """An installment's charge went through (its invoices were paid by the
    PaymentCaptured handler itself): paid, and the plan completes when
    nothing is left. A success may come after a failure (payments lets
    Stripe's word that the money moved outrank a failure it inferred, and
    the two events travel on different queues): it counts all the same,
    the retry is called off and a plan that needed attention for it is
    active again."""
    plan, installment, attempt = _attempt(session, data.get("installment_attempt"),
                                          ("charging", "failed"))
    if attempt is None:
        return
    now = utcnow()
    attempt.status, attempt.finished_at, attempt.payment_id = "succeeded", now, data["payment_id"]
    attempt.failure_code = None
    installment.paid_amount += data["amount"]["amount"]
    installment.status, installment.paid_at, installment.charge_on = "paid", now, None
    for other in _locked_attempts(session, [installment.id]):
        if other.status == "charging" and other.payment_id is None:   # a retry not started yet
            other.status, other.finished_at = "cancelled", now
    if plan.status == "needs_attention" and not any(
            i.status == "failed" for i in session.scalars(
                select(Installment).where(Installment.plan_id == plan.id))):
        plan.status, plan.updated_at = "active", now
    _maybe_complete(session, plan)


def payment_failed(session: Session, data: dict, today: date,
                   retry_days: tuple[int, ...]) -> None:
    """Try again on the retry schedule; after the last retry the plan needs
    attention. Either way the patient is told (InstallmentFailed)."""
    plan, installment, attempt = _attempt(session, data.get("installment_attempt"))
    if attempt is None:
        return
    attempt.status, attempt.finished_at = "failed", utcnow()
    attempt.payment_id, attempt.failure_code = data["payment_id"], data["failure_code"][:60]
    if installment.status in ("paid", "cancelled"):
        return      # settled meanwhile (an earlier attempt's late success, a cancel): no retry
    failures = sum(1 for a in installment.attempts if a.status == "failed")
    retry_on = rules.next_retry(failures, today, retry_days) if plan.status == "active" else None
    installment.status, installment.charge_on = "failed", retry_on
    needs_attention = retry_on is None and plan.status == "active"
    if needs_attention:
        plan.status, plan.updated_at = "needs_attention", utcnow()
    record_event(session, SOURCE, "InstallmentFailed", {
        "plan_id": plan.id, "client_id": plan.client_id, "installment_id": str(installment.id),
        "installment_number": installment.number, "attempt": attempt.number,
        "amount": money(attempt.amount), "failure_code": attempt.failure_code,
        "next_attempt_on": retry_on.isoformat() if retry_on else None,
        "needs_attention": needs_attention})


def check_autopay_hold(session: Session, key: str, payment_id: str) -> None:
    """payments asks to hold an installment's amounts: only while that
    attempt is still being charged and its plan is not cancelled (a cancel
    that came first wins; nothing is charged). The attempt then remembers
    the payment, so a cancel from now on lets the charge finish."""
    plan, installment, attempt = _attempt(session, key)
    if attempt is None or attempt.payment_id not in (None, payment_id) or \
            (plan.status == "cancelled" and attempt.payment_id is None):
        raise Conflict("This payment plan installment is no longer to be charged "
                       "(the plan was cancelled or the charge was settled).")
    attempt.payment_id = payment_id


def flag_stuck(session: Session, hours: float, batch: int = CLAIM_BATCH) -> int:
    """Attempts still "charging" `hours` after they started (InstallmentDue
    never reached payments, or its answer was lost): without charging, the
    attempt is marked failed (`no_answer`, no retry) and the plan needs
    attention, with a note on its invoices for staff. A late answer still
    counts (a success is applied; payments' hold for a charge not started
    is refused). Returns how many were flagged."""
    cutoff = utcnow() - timedelta(hours=hours)
    keys = session.scalars(select(InstallmentAttempt.key).where(
        InstallmentAttempt.status == "charging", InstallmentAttempt.created_at < cutoff)
        .order_by(InstallmentAttempt.id).limit(batch)).all()
    for key in keys:
        # invoices first, in id order, as the payment handlers lock them
        session.scalars(select(Invoice.id).join(PlanInvoice, PlanInvoice.invoice_id == Invoice.id)
                        .join(Installment, Installment.plan_id == PlanInvoice.plan_id)
                        .join(InstallmentAttempt,
                              InstallmentAttempt.installment_id == Installment.id)
                        .where(InstallmentAttempt.key == key).order_by(Invoice.id)
                        .with_for_update(of=Invoice)).all()
        plan, installment, attempt = _attempt(session, key)
        if attempt is None:
            continue
        attempt.status, attempt.finished_at, attempt.failure_code = "failed", utcnow(), "no_answer"
        installment.status, installment.charge_on = "failed", None
        if plan.status == "active":
            plan.status, plan.updated_at = "needs_attention", utcnow()
        for invoice in session.scalars(select(Invoice).join(
                PlanInvoice, PlanInvoice.invoice_id == Invoice.id)
                .where(PlanInvoice.plan_id == plan.id)):
            note(session, invoice, f"Payment plan installment {installment.number}: no answer "
                                   f"from payments after {hours:g} hours; check the payment "
                                   "before trying again", "autopay")
    return len(keys)


def _maybe_complete(session: Session, plan: PaymentPlan) -> None:
    statuses = [i.status for i in session.scalars(
        select(Installment).where(Installment.plan_id == plan.id))]
    status = rules.plan_status_after(statuses, plan.status)
    if status != plan.status:
        plan.status, plan.updated_at = status, utcnow()


# ---- what pages show ---------------------------------------------------------------------

def next_charge(plan: PaymentPlan) -> dict | None:
    if plan.status != "active":
        return None
    upcoming = [i for i in plan.installments if i.charge_on is not None]
    if not upcoming:
        return None
    first = min(upcoming, key=lambda i: (i.charge_on, i.number))
    return {"on": first.charge_on.isoformat(), "amount": first.amount - first.paid_amount,
            "installment_number": first.number}


def plan_out(plan: PaymentPlan, numbers: dict[str, str] | None = None,
             detail: bool = True) -> dict:
    numbers = numbers or {}
    paid = sum(i.paid_amount for i in plan.installments)
    out = {
        "id": plan.id, "client_id": plan.client_id, "status": plan.status,
        "status_words": STATUS_WORDS.get(plan.status, plan.status),
        "frequency": plan.frequency, "frequency_words": rules.FREQUENCIES[plan.frequency],
        "installment_count": plan.installment_count, "total": plan.total, "paid": paid,
        "remaining": max(plan.total - paid, 0), "currency": plan.currency,
        "first_due_on": plan.first_due_on.isoformat(), "next_charge": next_charge(plan),
        "signed": plan.signed_at is not None, "signed_name": plan.signed_name,
        "signed_at": iso(plan.signed_at) if plan.signed_at else None,
        "autopay_method_id": plan.autopay_method_id, "consent_version": plan.consent_version,
        "created_at": iso(plan.created_at),
        "installments_paid": sum(1 for i in plan.installments if i.status == "paid"),
    }
    if detail:
        out["invoices"] = [{"invoice_id": i.invoice_id, "amount": i.amount,
                            "invoice_number": numbers.get(i.invoice_id, "")}
                           for i in plan.invoices]
        out["installments"] = [_installment_out(i) for i in plan.installments]
        out["agreement"] = agreement_text(plan)
    return out


def _installment_out(installment: Installment) -> dict:
    return {"id": installment.id, "number": installment.number,
            "due_on": installment.due_on.isoformat(), "amount": installment.amount,
            "status": installment.status,
            "status_words": INSTALLMENT_WORDS.get(installment.status, installment.status),
            "paid_amount": installment.paid_amount,
            "charge_on": installment.charge_on.isoformat() if installment.charge_on else None,
            "attempts": [{"number": a.number, "status": a.status, "amount": a.amount,
                          "failure_code": a.failure_code, "at": iso(a.created_at)}
                         for a in installment.attempts]}


def agreement_text(plan: PaymentPlan) -> str:
    """The words the patient signs (version `plan_rules.CONSENT_VERSION`)."""
    lines = [f"I agree to pay {format_money(plan.total)} in {plan.installment_count} "
             f"installments, {rules.FREQUENCIES[plan.frequency].lower()}, starting "
             f"{plan.first_due_on.strftime('%B %-d, %Y')}:"]
    lines += [f"  {i.number}. {i.due_on.strftime('%B %-d, %Y')}: {format_money(i.amount)}"
              for i in plan.installments]
    lines.append("I authorize the clinic to charge my default card or bank account on file for "
                 "each installment on its date. If a charge does not go through, it will be "
                 "tried again a few days later and I will be emailed. I can ask the clinic to "
                 "cancel the plan at any time; a cancelled plan leaves the balance due.")
    return "\n".join(lines)


def summary_for(session: Session, client_id: str) -> list[dict]:
    """The Financial tab's plans section: 2 SQL statements."""
    plans = session.scalars(select(PaymentPlan).where(PaymentPlan.client_id == str(client_id))
                            .options(selectinload(PaymentPlan.installments))
                            .order_by(PaymentPlan.created_at.desc())).all()
    return [plan_out(plan, detail=False) for plan in plans]


def invoice_numbers(session: Session, plans: list[PaymentPlan]) -> dict[str, str]:
    ids = [i.invoice_id for plan in plans for i in plan.invoices]
    if not ids:
        return {}
    return dict(session.execute(select(Invoice.id, Invoice.number).where(Invoice.id.in_(ids))).all())


def preview(payload) -> dict:
    """The schedule a form would make (no invoices read): for the page's
    preview. `total` in cents."""
    checks = FieldChecks()
    payload = payload if isinstance(payload, dict) else {}
    total = _whole(checks, "invoice_ids", payload.get("total"), "Choose invoices with a balance.")
    parsed = plan_input({**payload, "invoice_ids": ["preview"], "client_id": "preview"}, checks)
    checks.raise_if_any()
    try:
        planned = rules.schedule(total, parsed["count"], parsed["frequency"], parsed["first"],
                                 clock.today())
        if parsed["amounts"] is not None:
            rules.check_amounts(total, parsed["amounts"])
            planned = [rules.Planned(p.number, p.due_on, a)
                       for p, a in zip(planned, parsed["amounts"])]
    except rules.PlanRuleBroken as broken:
        raise InvalidFields({broken.field: str(broken)}) from None
    return {"total": total, "installments": [
        {"number": p.number, "due_on": p.due_on.isoformat(), "amount": p.amount} for p in planned]}


