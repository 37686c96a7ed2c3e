"""Payments service: one-time payment links, payments by card and bank account
through Stripe (new or on file, on or off session, with 3-D Secure), manual
payments, refunds, cards and bank accounts on file, Stripe webhook intake,
and the reconciler that keeps Cairn and Stripe in agreement."""
from __future__ import annotations

import logging
from datetime import date, datetime, timedelta

import stripe
from nameko.timer import timer
from sqlalchemy import select

from servicekit.cache import Cache
from servicekit.db import Database, iso, utcnow
from servicekit.errors import EXPECTED, InvalidInput, NotFound, PaymentDeclined
from servicekit.events import broadcast, handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy, rpc

from payments import autopay, domain, links, methods, reconcile, refunds, schemas, webhooks
from payments.charging import (
    ChargeRequest, Collaborators, complete_action,
    free_invoice_for_new_attempt, take_payment,
)
from payments.models import Payment, PaymentAllocation, Refund
from payments.settings import Settings, reconcile_interval_seconds
from payments.stripe_gateway import StripeGateway

log = logging.getLogger(__name__)
SOURCE = "payments"
ORGANIZATION, LAST_NAME = "organization", "last known clinic name"
LAST_NAME_SECONDS = 7 * 24 * 3600


class PaymentsService:
    name = SOURCE
    db = Database()
    relay = OutboxRelay()
    stripe = StripeGateway()
    invoicing = TimedRpcProxy("invoicing")
    clients = TimedRpcProxy("clients")
    settings = Settings()
    organizations = Cache("ORGANIZATION_CACHE_SECONDS", 300)

    # ---- pay links -------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def issue_payment_link(self, invoice_id, client_id, request_key, sent_at=None):
        sent = _parse_iso(sent_at)
        link = links.issue_link(self.db, str(invoice_id), str(client_id), str(request_key),
                                self.settings.link_ttl, sent)
        self.db.commit()
        token = domain.sign_link(link.id, self.settings.link_secret)
        return {"token": token, "path": f"/pay/{token}", "expires_at": iso(link.expires_at)}

    @rpc(expected_exceptions=EXPECTED)
    def open_payment_link(self, token, grant=None):
        opened = links.open_link(self.db, token, self.settings.link_secret, grant)
        return schemas.link_out(opened.link, opened.verified)

    @rpc(expected_exceptions=EXPECTED)
    def verify_payment_link(self, token, date_of_birth, ip):
        """The payer proves who they are with the patient's date of birth;
        the answer is a grant to see the invoice's lines for a while."""
        link = links.open_link(self.db, token, self.settings.link_secret).link
        born = schemas.date_of_birth_input(date_of_birth)
        limits = self.settings.limits
        links.check_identity_allowed(self.db, link, ip, limits)
        self.db.rollback()                        # no transaction open across the RPC
        matched = self.clients.check_date_of_birth(link.client_id, born.isoformat())
        return {"grant": links.note_identity(self.db, link.id, ip, bool(matched), limits)}

    @rpc(expected_exceptions=EXPECTED)
    def pay_with_link(self, token, payment_method, ip="", user_agent="", amount=None,
                      return_url_prefix=None):
        payment_method = schemas.payment_method_input(payment_method)
        if amount is not None:
            amount = schemas.amount_input(amount)
        link = links.open_link(self.db, token, self.settings.link_secret).link
        links.check_pay_allowed(self.db, link, ip, self.settings.limits)
        self.db.rollback()
        c = self._collaborators()
        request = ChargeRequest(
            client_id=link.client_id, allocations=[(link.invoice_id, amount)], method="card",
            channel="pay_link", initiated_by="patient", link_id=link.id,
            payment_method=payment_method, ip=ip, user_agent=user_agent,
            return_url_prefix=return_url_prefix)
        free_invoice_for_new_attempt(c, request)
        try:
            payment = take_payment(c, request)
        except PaymentDeclined:
            self.db.rollback()
            links.note_decline(self.db, link.id, ip, self.settings.limits)
            raise
        except Exception:
            self.db.rollback()
            links.record_attempt(self.db, link.id, ip, "pay", "refused")
            self.db.commit()
            raise
        links.record_attempt(self.db, link.id, ip, "pay", "ok")
        self.db.commit()
        return self._payment_out(payment)

    @rpc(expected_exceptions=EXPECTED)
    def unlock_payment_link(self, invoice_id, actor):
        schemas.actor_label(actor)
        count = links.unlock(self.db, schemas.identifier(invoice_id, "The invoice"))
        self.db.commit()
        log.info("pay links of invoice %s unlocked by %s", invoice_id, actor.get("id"))
        return {"unlocked": count}

    @rpc(expected_exceptions=EXPECTED)
    def payment_link_status(self, invoice_id):
        return links.link_status(self.db, str(invoice_id))

    # ---- taking money ------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def pay_in_portal(self, actor, client_id, payload):
        """A signed-in patient or guardian pays outstanding invoices, with a
        method on file or a new one — inside the session, no link minted."""
        client_id = schemas.client_id_of(actor, client_id)
        payload = _payload(payload)
        request = ChargeRequest(
            client_id=client_id, allocations=schemas.allocations_input(payload.get("allocations")),
            method="card", channel="portal", initiated_by="patient",
            actor_id=schemas.identifier(actor.get("id"), "The user"),
            request_key=schemas.request_key(payload.get("request_key")),
            **self._method_choice(payload), ip=str(actor.get("ip") or ""),
            user_agent=str(payload.get("user_agent") or ""),
            return_url_prefix=payload.get("return_url_prefix"))
        return self._take(request)

    @rpc(expected_exceptions=EXPECTED)
    def collect_payment(self, actor, client_id, payload):
        """Staff Collect Payment: one or several invoices, in full or in part,
        by card or bank account (new or on file), check, cash or an outside
        terminal; an amount over the invoices stays as credit only if asked."""
        schemas.actor_label(actor)
        client_id = schemas.identifier(client_id, "The account")
        payload = _payload(payload)
        kind = payload.get("method")
        credit = payload.get("credit") or 0
        if credit:
            credit = schemas.amount_input(credit, "The credit to leave on the account")
        common = dict(client_id=client_id, allocations=schemas.allocations_input(
            payload.get("allocations")), channel="staff", initiated_by="staff",
            actor_id=actor["id"], request_key=schemas.request_key(payload.get("request_key")),
            credit=credit, payer_name=schemas.optional_text(payload.get("payer_name"), 120),
            ip=str(actor.get("ip") or ""), user_agent=str(payload.get("user_agent") or ""),
            return_url_prefix=payload.get("return_url_prefix"))
        if kind in domain.MANUAL_METHODS:
            check_number = schemas.optional_text(payload.get("check_number"), 30)
            if kind == "check" and not check_number:
                raise InvalidInput("Enter the check number.")
            request = ChargeRequest(**common, method=kind, check_number=check_number,
                                    reference=schemas.optional_text(payload.get("reference"), 60))
        elif kind in ("new", "saved"):
            request = ChargeRequest(**common, method="card", **self._method_choice(payload),
                                    off_session=kind == "saved")
        else:
            raise InvalidInput("Choose how the payment is made.")
        return self._take(request)

    @rpc(expected_exceptions=EXPECTED)
    def charge_saved_method(self, client_id, allocations, request_key, saved_method_id=None,
                            initiated_by="autopay"):
        """Charge a method on file without the payer present (autopay): no
        3-D Secure is possible, so a bank asking for it fails the payment
        (authentication_required) and the patient is asked to pay in the portal."""
        client_id = schemas.identifier(client_id, "The account")
        if initiated_by not in ("autopay", "staff"):
            raise InvalidInput("initiated_by must be autopay or staff")
        c = self._collaborators()
        chosen = saved_method_id or next(
            (m.id for m in methods.active_methods(c, client_id) if m.is_default), None)
        if chosen is None:
            raise InvalidInput("There is no card or bank account on file to charge.")
        request = ChargeRequest(
            client_id=client_id, allocations=schemas.allocations_input(allocations),
            method="card", channel="autopay" if initiated_by == "autopay" else "staff",
            initiated_by=initiated_by, request_key=schemas.request_key(request_key),
            saved_method_id=chosen, off_session=True)
        return self._take(request)

    @rpc(expected_exceptions=EXPECTED)
    def complete_payment_action(self, payment_id, actor=None, intent_id=None):
        """Back from 3-D Secure: the payment as Stripe now has it. A payer who
        is not signed in is recognized by the intent id Stripe's redirect
        carries, which must be this payment's."""
        payment = self._payment(payment_id, actor)
        if not isinstance(actor, dict) and (not intent_id or
                                            intent_id != payment.stripe_payment_intent):
            raise NotFound("That payment was not found.")
        return self._payment_out(complete_action(self._collaborators(), payment.id))

    @rpc(expected_exceptions=EXPECTED)
    def get_payment(self, payment_id, actor=None):
        payment = self._payment(payment_id, actor)
        rows = self.db.scalars(select(Refund).where(Refund.payment_id == payment.id)
                               .order_by(Refund.created_at)).all()
        refundable = refunds.refundable(self.db, payment) if payment.status == "succeeded" else None
        return schemas.payment_out(payment, rows, refundable)

    @rpc(expected_exceptions=EXPECTED)
    def list_payments(self, client_id=None, invoice_id=None):
        return self._payments_of(client_id, invoice_id)

    # ---- what one page shows, in one call ------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def client_billing_overview(self, client_id):
        """The staff Financial tab: the client's payments and methods on file."""
        return {"payments": self._payments_of(client_id, None),
                "methods": self._methods_of(str(client_id))}

    @rpc(expected_exceptions=EXPECTED)
    def invoice_billing_overview(self, invoice_id):
        """The staff invoice page: the invoice's payments and its pay links' state."""
        return {"payments": self._payments_of(None, invoice_id),
                "links": links.link_status(self.db, str(invoice_id))}

    @rpc(expected_exceptions=EXPECTED)
    def payment_form_context(self, client_id):
        """A payment form (portal or staff): methods on file and the texts agreed to."""
        return {"methods": self._methods_of(str(client_id)),
                "terms": schemas.terms_out(self._clinic_name())}

    # ---- refunds ----------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def refund_payment(self, actor, payment_id, payload):
        """Staff (biller or administrator: the gateway checks the role)."""
        requested_by = schemas.actor_label(actor)
        payload = _payload(payload)
        invoice_id = payload.get("invoice_id") or None
        refund = refunds.request_refund(
            self._collaborators(), payment_id=schemas.identifier(payment_id, "The payment"),
            amount=payload.get("amount"), invoice_id=invoice_id, reason=payload.get("reason"),
            note=str(payload.get("note") or ""), requested_by=requested_by,
            request_key=schemas.request_key(payload.get("request_key")))
        return schemas.refund_out(refund)

    # ---- methods on file ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_saved_methods(self, client_id, actor=None):
        client_id = schemas.client_id_of(actor, client_id) if actor else str(client_id)
        return self._methods_of(client_id)

    @rpc(expected_exceptions=EXPECTED)
    def save_method(self, actor, client_id, payload):
        client_id = schemas.client_id_of(actor, client_id)
        payload = _payload(payload)
        attempt = methods.start_setup(
            self._collaborators(), client_id=client_id,
            payment_method=schemas.payment_method_input(payload.get("payment_method")),
            make_default=bool(payload.get("make_default")),
            consented_by=schemas.actor_label(actor), ip=str(actor.get("ip") or ""),
            user_agent=str(payload.get("user_agent") or ""),
            request_key=schemas.request_key(payload.get("request_key")),
            return_url_prefix=payload.get("return_url_prefix"))
        return schemas.setup_out(methods.raise_if_failed(attempt))

    @rpc(expected_exceptions=EXPECTED)
    def complete_method_setup(self, actor, client_id, attempt_id):
        client_id = schemas.client_id_of(actor, client_id)
        attempt = methods.complete_setup(self._collaborators(), client_id, str(attempt_id))
        return schemas.setup_out(attempt)

    @rpc(expected_exceptions=EXPECTED)
    def set_default_method(self, actor, client_id, method_id):
        client_id = schemas.client_id_of(actor, client_id)
        method = methods.make_default(self._collaborators(), client_id, str(method_id))
        return schemas.saved_method_out(method)

    @rpc(expected_exceptions=EXPECTED)
    def remove_saved_method(self, actor, client_id, method_id):
        client_id = schemas.client_id_of(actor, client_id)
        method = methods.remove(self._collaborators(), client_id, str(method_id),
                                schemas.actor_label(actor))
        return schemas.saved_method_out(method)

    @rpc(expected_exceptions=EXPECTED)
    def payment_terms(self):
        """The exact words payers agree to, as Cairn records them."""
        return schemas.terms_out(self._clinic_name())

    # ---- Stripe's side ------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def handle_stripe_webhook(self, raw_body, signature):
        try:
            event = self.stripe.verify_webhook(raw_body, signature or "")
        except (stripe.SignatureVerificationError, ValueError):
            raise InvalidInput("webhook signature could not be verified") from None
        c = self._collaborators()
        webhooks.store(c, event)
        return webhooks.process(c, event["id"])

    @timer(interval=reconcile_interval_seconds())
    def reconcile_in_flight(self):
        c = self._collaborators()
        reconcile.sweep(c)
        day = reconcile.due_day(utcnow(), self.settings.nightly_hour)
        if day is not None:
            reconcile.compare_day(c, day)

    @rpc(expected_exceptions=EXPECTED)
    def reconcile(self, day=None, repair=False):
        """For the operator (`make reconcile`): settle what is due now, compare
        a day (yesterday by default) with Stripe, optionally repair, and
        report every open mismatch."""
        c = self._collaborators()
        settled = reconcile.sweep(c)
        when = _parse_day(day)
        run = reconcile.compare_day(c, when, force=True)
        if repair:
            for mismatch in reconcile.open_mismatches(c):
                reconcile.repair(c, mismatch.id)
        return {"settled": settled, "day": when.isoformat(),
                "intents_checked": run.intents_checked if run else 0,
                "refunds_checked": run.refunds_checked if run else 0,
                "mismatches": [_mismatch_out(m) for m in reconcile.open_mismatches(c)]}

    @rpc(expected_exceptions=EXPECTED)
    def repair_mismatch(self, mismatch_id):
        return _mismatch_out(reconcile.repair(self._collaborators(), int(mismatch_id)))

    # ---- what invoicing says ----------------------------------------------------------------
    @handles("invoicing", "InvoicePaid")
    def on_invoice_paid(self, envelope):
        handle_once(self.db, envelope, "payments.on_invoice_paid",
                    lambda data: links.end_links(self.db, data["invoice_id"], paid=True))

    @handles("invoicing", "InvoiceVoided")
    def on_invoice_voided(self, envelope):
        handle_once(self.db, envelope, "payments.on_invoice_voided",
                    lambda data: links.end_links(self.db, data["invoice_id"], paid=False))

    # ---- payment plans (plans): autopay of an installment ----------------------------------
    @handles("invoicing", "InstallmentDue")
    def on_installment_due(self, envelope):
        """Charge the method the patient authorized, off session, once per
        attempt key (see autopay.py)."""
        autopay.installment_due(self._collaborators(), envelope, "payments.on_installment_due")

    @broadcast("clients", "OrganizationChanged")
    def on_organization_changed(self, data):
        """The clinic's name may have changed: read it again next time."""
        self.organizations.drop(ORGANIZATION)

    # ---- helpers ----------------------------------------------------------------------------
    def _take(self, request: ChargeRequest) -> dict:
        c = self._collaborators()
        free_invoice_for_new_attempt(c, request)
        return self._payment_out(take_payment(c, request))

    def _method_choice(self, payload: dict) -> dict:
        saved = payload.get("saved_method_id")
        if saved:
            return {"saved_method_id": schemas.identifier(saved, "The card on file")}
        return {"payment_method": schemas.payment_method_input(payload.get("payment_method")),
                "save_method": bool(payload.get("save")),
                "make_default": bool(payload.get("make_default"))}

    def _payment(self, payment_id, actor) -> Payment:
        payment = self.db.get(Payment, str(payment_id))
        if payment is None or (isinstance(actor, dict) and actor.get("kind") == "portal"
                               and actor.get("client_id") != payment.client_id):
            raise NotFound("That payment was not found.")
        return payment

    def _payment_out(self, payment: Payment) -> dict:
        out = schemas.payment_out(payment)
        if payment.status == "pending":
            out["message"] = domain.UNANSWERED
        return out

    def _collaborators(self) -> Collaborators:
        return Collaborators(db=self.db, stripe=self.stripe, invoicing=self.invoicing,
                             clinic_name=self._clinic_name)

    def _payments_of(self, client_id, invoice_id) -> list[dict]:
        query = select(Payment).order_by(Payment.created_at.desc()).limit(200)
        if invoice_id:
            query = query.where(Payment.id.in_(select(PaymentAllocation.payment_id).where(
                PaymentAllocation.invoice_id == str(invoice_id))))
        elif client_id:
            query = query.where(Payment.client_id == str(client_id))
        else:
            raise InvalidInput("Say whose payments to list.")
        found = self.db.scalars(query).all()
        # the portal's payment history shows refunds too: one statement for all of them
        refunded: dict[str, list] = {}
        if found:
            for row in self.db.scalars(select(Refund).where(
                    Refund.payment_id.in_([p.id for p in found])).order_by(Refund.created_at)):
                refunded.setdefault(row.payment_id, []).append(row)
        return [schemas.payment_out(p, refunded.get(p.id, ())) for p in found]

    def _methods_of(self, client_id: str) -> list[dict]:
        return [schemas.saved_method_out(m)
                for m in methods.active_methods(self._collaborators(), client_id)]

    def _clinic_name(self) -> str:
        """The clinic's name for the texts people agree to, from the
        organization this process keeps (until OrganizationChanged or
        ORGANIZATION_CACHE_SECONDS)."""
        try:
            name = self.organizations.get_or_load(ORGANIZATION, self.clients.get_organization)["name"]
        except Exception:   # noqa: BLE001 — a stale name beats no payment
            log.warning("could not read the clinic's name; using the last one known")
            return self.organizations.get(LAST_NAME, None) or "the clinic"
        self.organizations.put(LAST_NAME, name, ttl=LAST_NAME_SECONDS)
        return name


def _payload(payload) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput("The payment details are missing.")
    return payload


def _parse_iso(value):
    if not value:
        return None
    try:
        return datetime.fromisoformat(str(value).rstrip("Z"))
    except ValueError:
        raise InvalidInput("sent_at must be an ISO-8601 time") from None


def _parse_day(value) -> date:
    """A day to compare: "today", an ISO date, or yesterday (UTC) by default."""
    today = utcnow().date()
    if not value:
        return today - timedelta(days=1)
    if value == "today":
        return today
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidInput("day must look like 2026-12-01") from None


def _mismatch_out(mismatch) -> dict:
    return {"id": mismatch.id, "kind": mismatch.kind, "stripe_object": mismatch.stripe_object,
            "payment_id": mismatch.payment_id, "refund_id": mismatch.refund_id,
            "ours": mismatch.ours, "theirs": mismatch.theirs,
            "repaired": mismatch.repaired_at is not None, "repair_note": mismatch.repair_note}
