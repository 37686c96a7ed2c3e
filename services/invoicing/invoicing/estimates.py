"""Estimate use cases: each takes the session, changes state and records its
event in the same transaction; the caller commits. Output shapes are here
too (an estimate is read by the staff page, the portal and the PDF)."""
from __future__ import annotations

import secrets

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from servicekit import clock
from servicekit.db import iso, utcnow
from servicekit.errors import InvalidFields, InvalidInput, NotFound
from servicekit.outbox import record_event
from servicekit.text import FieldChecks, clean

from invoicing import estimate_rules as rules
from invoicing import gfe_notice, schemas, usecases
from invoicing.models import BillingProvider, Counter, Estimate, EstimateLine, Invoice

SOURCE = "invoicing"
COUNTED = ("issued", "approved", "invoiced")   # estimates a patient has received


def load(session: Session, estimate_id, lock: bool = False) -> Estimate:
    query = select(Estimate).where(Estimate.id == str(estimate_id))
    if lock:
        query = query.with_for_update()
    estimate = session.scalars(query).first()
    if estimate is None:
        raise NotFound("estimate not found")
    return estimate


def create(session: Session, data: dict, actor: str) -> Estimate:
    lines = [rules.EstimateLine(line["service_code"], line["units"], line["unit_price"])
             for line in data["lines"]]
    try:
        total = rules.total(lines)
    except rules.RuleBroken as broken:
        raise InvalidFields({"lines": str(broken)}) from None
    number = session.execute(update(Counter).where(Counter.name == "estimate")
                             .values(value=Counter.value + 1).returning(Counter.value)).scalar_one()
    deadline = (rules.delivery_deadline(data["scheduled_on"], data["first_service_on"],
                                        data["requested_by_patient"])
                if data["kind"] == "gfe" else None)
    now = utcnow()
    estimate = Estimate(
        id=f"est_{secrets.token_hex(8)}", number=rules.estimate_number(number),
        client_id=data["client_id"], kind=data["kind"], provider_id=data["provider_id"],
        location_id=data["location_id"], diagnosis_codes=data["diagnosis_codes"],
        status="draft", requested_by_patient=data["requested_by_patient"],
        scheduled_on=data["scheduled_on"], first_service_on=data["first_service_on"],
        deadline=deadline, currency="usd", total=total, memo=data["memo"],
        disclaimer_version=gfe_notice.CURRENT, created_by=actor, created_at=now, updated_at=now,
        issued_channels="", signer_name="", signer_ip="", signer_user_agent="", decided_by="",
        invoice_id="",
        lines=[EstimateLine(position=n, service_code=line["service_code"],
                            description=line["description"], expected_on=line["expected_on"],
                            units=line["units"], unit_price=line["unit_price"],
                            amount=line["units"] * line["unit_price"],
                            modifiers=line["modifiers"], place_of_service=line["place_of_service"])
               for n, line in enumerate(data["lines"], start=1)])
    session.add(estimate)
    session.flush()
    return estimate


def issue(session: Session, estimate_id: str, channels, actor: str) -> Estimate:
    """Send to the portal and/or by email (again, if asked: a lost email)."""
    if (not isinstance(channels, (list, tuple)) or not channels
            or any(channel not in rules.CHANNELS for channel in channels)):
        raise InvalidFields({"channels": "Choose the portal, email or both."})
    channels = [channel for channel in rules.CHANNELS if channel in channels]
    estimate = load(session, estimate_id, lock=True)
    try:
        rules.check_issuable(estimate.status)
    except rules.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    if estimate.issued_at is None:
        estimate.issued_at, estimate.issued_on = utcnow(), clock.today()
    estimate.status, estimate.updated_at = "issued", utcnow()
    known = set(filter(None, estimate.issued_channels.split(",")))
    estimate.issued_channels = ",".join(c for c in rules.CHANNELS if c in known | set(channels))
    record_event(session, SOURCE, "EstimateIssued", {
        **_ids(estimate), "kind": estimate.kind, "channels": channels,
        "total": schemas.money(estimate.total, estimate.currency), "issued_by": actor})
    return estimate


def decide(session: Session, estimate_id: str, decision, signer, account) -> Estimate:
    """The patient (or guardian) approves or declines, signing with a typed
    name; the time, address and browser are kept with it."""
    signer = signer if isinstance(signer, dict) else {}
    account = account if isinstance(account, dict) else {}
    estimate = load(session, estimate_id, lock=True)
    if str(account.get("client_id") or "") != estimate.client_id or estimate.status == "draft":
        raise NotFound("estimate not found")      # another client's looks like none
    checks = FieldChecks()
    if decision not in rules.DECISIONS:
        checks.add("decision", "Choose approve or decline.")
    name = checks.run("typed_name", clean, signer.get("typed_name"), "your full name", 200, True)
    checks.raise_if_any()
    try:
        estimate.status = rules.decided_status(estimate.status, decision)
    except rules.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    estimate.signer_name, estimate.decided_at = name, utcnow()
    estimate.signer_ip = str(signer.get("ip") or "")[:64]
    estimate.signer_user_agent = str(signer.get("user_agent") or "")[:300]
    estimate.decided_by = str(account.get("id") or "")[:40]
    estimate.updated_at = estimate.decided_at
    record_event(session, SOURCE, "EstimateDecided", {
        **_ids(estimate), "decision": estimate.status, "decided_at": iso(estimate.decided_at)})
    return estimate


def invoice_from(session: Session, estimate_id: str, actor: str) -> Invoice:
    """An approved estimate becomes a draft invoice in one step: the same
    lines (at the estimated fees), location, provider and diagnoses."""
    estimate = load(session, estimate_id, lock=True)
    try:
        rules.check_invoiceable(estimate.status)
    except rules.RuleBroken as broken:
        raise InvalidInput(str(broken)) from None
    data, checks = schemas.invoice_input({
        "client_id": estimate.client_id, "location_id": estimate.location_id,
        "payment_type": "private_pay", "discount": {"kind": "none"},
        "provider_id": estimate.provider_id, "diagnosis_codes": estimate.diagnosis_codes,
        "lines": [{"service_code": line.service_code, "units": line.units,
                   "unit_price": line.unit_price,
                   "service_date": line.expected_on.isoformat() if line.expected_on else None,
                   "modifiers": line.modifiers, "place_of_service": line.place_of_service}
                  for line in estimate.lines],
        "memo": f"From estimate {estimate.number}", "due_on": None})
    checks.raise_if_any()
    invoice = usecases.save_invoice(session, data, checks, actor)
    usecases.note(session, invoice, f"Created from estimate {estimate.number}", actor)
    estimate.status, estimate.invoice_id, estimate.updated_at = "invoiced", invoice.id, utcnow()
    session.flush()
    return invoice


def variance(session: Session, client_id: str, provider_id: str, proposed: int = 0) -> dict:
    """Billed since the latest Good Faith Estimate this client received for
    this provider, against its total; `warning` when billing `proposed` more
    would reach the $400 dispute threshold."""
    if isinstance(proposed, bool) or not isinstance(proposed, int) or proposed < 0:
        raise InvalidInput("proposed_total must be a whole number of cents, 0 or more")
    estimate = session.scalars(
        select(Estimate).where(Estimate.client_id == str(client_id),
                               Estimate.provider_id == str(provider_id), Estimate.kind == "gfe",
                               Estimate.status.in_(COUNTED))
        .order_by(Estimate.issued_at.desc()).limit(1)).first()
    if estimate is None:
        return {"estimate_id": None, "estimate_number": None, "provider_name": "",
                "estimated": 0, "billed": 0, "proposed": proposed, "variance": 0, "over": 0,
                "threshold": rules.DISPUTE_THRESHOLD, "warning": ""}
    # billed: what the invoices owe after adjustments, write-offs and credit notes
    billed = session.scalar(select(func.coalesce(
        func.sum(Invoice.total + func.coalesce(Invoice.adjustments_total, 0)), 0)).where(
        Invoice.client_id == estimate.client_id, Invoice.provider_id == estimate.provider_id,
        Invoice.status != "void", Invoice.created_at >= estimate.created_at))
    provider = session.get(BillingProvider, estimate.provider_id)
    name = provider.name if provider else "this provider"
    figures = rules.Variance(estimate.total, int(billed), proposed)
    return {"estimate_id": estimate.id, "estimate_number": estimate.number,
            "provider_name": name, "estimated": figures.estimated, "billed": figures.billed,
            "proposed": proposed, "variance": figures.variance, "over": figures.over,
            "threshold": rules.DISPUTE_THRESHOLD, "warning": rules.warning(figures, name)}


def variance_of_invoice(session: Session, invoice: Invoice) -> dict | None:
    """`variance` for a saved invoice (it is among what was billed), or None
    when it has no provider, is void, or the client has no GFE for it."""
    if not invoice.provider_id or invoice.status == "void":
        return None
    found = variance(session, invoice.client_id, invoice.provider_id, 0)
    return found if found["estimate_id"] else None


def of_client(session: Session, client_id: str) -> list[dict]:
    """A client's estimates, newest first, without lines (2 SQL statements)."""
    rows = session.scalars(select(Estimate).where(Estimate.client_id == str(client_id))
                           .order_by(Estimate.created_at.desc())).all()
    ids = {row.provider_id for row in rows if row.provider_id}
    providers = {p.id: p for p in session.scalars(
        select(BillingProvider).where(BillingProvider.id.in_(ids)))} if ids else {}
    today = clock.today()
    return [summary_out(row, providers.get(row.provider_id), today) for row in rows]


def summary_for(session: Session, client_id: str) -> dict:
    """The Financial tab's `summary.estimates`: the list, and how many GFEs
    are due or late to deliver."""
    items = of_client(session, client_id)
    return {"items": items, "due": sum(i["delivery"]["state"] == "due" for i in items),
            "late": sum(i["delivery"]["state"] == "late" for i in items)}


def providers(session: Session) -> list[dict]:
    return [provider_out(p) for p in session.scalars(
        select(BillingProvider).where(BillingProvider.active).order_by(BillingProvider.name))]


def with_lines(session: Session, estimate_id: str) -> Estimate:
    estimate = session.scalars(select(Estimate).where(Estimate.id == str(estimate_id))
                               .options(selectinload(Estimate.lines))).first()
    if estimate is None:
        raise NotFound("estimate not found")
    return estimate


# ---- shapes ---------------------------------------------------------------------

def _ids(estimate: Estimate) -> dict:
    """An estimate in an event: ids only, no PHI."""
    return {"estimate_id": estimate.id, "estimate_number": estimate.number,
            "client_id": estimate.client_id}


def _day(value) -> str | None:
    return value.isoformat() if value else None


def provider_out(provider: BillingProvider | None) -> dict | None:
    if provider is None:
        return None
    return {"id": provider.id, "name": provider.name, "credentials": provider.credentials,
            "npi": provider.npi, "tax_id": provider.tax_id, "license": provider.license}


def delivery_out(estimate: Estimate, today) -> dict:
    state = rules.delivery_state(estimate.deadline, estimate.issued_on, today)
    return {"state": state, "label": rules.STATE_WORDS[state], "deadline": _day(estimate.deadline)}


def summary_out(estimate: Estimate, provider: BillingProvider | None, today) -> dict:
    return {"id": estimate.id, "number": estimate.number, "client_id": estimate.client_id,
            "kind": estimate.kind, "kind_label": rules.KIND_WORDS[estimate.kind],
            "status": estimate.status, "total": estimate.total, "currency": estimate.currency,
            "provider_id": estimate.provider_id,
            "provider_name": provider.name if provider else "",
            "scheduled_on": _day(estimate.scheduled_on),
            "first_service_on": _day(estimate.first_service_on),
            "deadline": _day(estimate.deadline), "delivery": delivery_out(estimate, today),
            "issued_on": _day(estimate.issued_on), "invoice_id": estimate.invoice_id or None,
            "created_at": estimate.created_at.isoformat()}


def estimate_out(session: Session, estimate: Estimate) -> dict:
    provider = session.get(BillingProvider, estimate.provider_id) if estimate.provider_id else None
    decision = None
    if estimate.decided_at is not None:
        decision = {"status": estimate.status if estimate.status != "invoiced" else "approved",
                    "typed_name": estimate.signer_name, "at": iso(estimate.decided_at),
                    "ip": estimate.signer_ip, "user_agent": estimate.signer_user_agent}
    return {**summary_out(estimate, provider, clock.today()),
            "provider": provider_out(provider), "location_id": estimate.location_id,
            "diagnosis_codes": [c for c in estimate.diagnosis_codes.split(",") if c],
            "requested_by_patient": estimate.requested_by_patient, "memo": estimate.memo,
            "issued_at": iso(estimate.issued_at) if estimate.issued_at else None,
            "issued_channels": [c for c in estimate.issued_channels.split(",") if c],
            "decision": decision,
            "lines": [{"service_code": line.service_code, "description": line.description,
                       "expected_on": _day(line.expected_on), "units": line.units,
                       "unit_price": line.unit_price, "amount": line.amount,
                       "modifiers": line.modifiers} for line in estimate.lines],
            "wording": gfe_notice.wording(estimate.disclaimer_version, estimate.kind)}
