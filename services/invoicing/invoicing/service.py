"""Invoicing service: the service catalog and invoices."""
from __future__ import annotations

import base64

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from servicekit.cache import Cache
from servicekit.db import Database
from servicekit.errors import EXPECTED, InvalidInput, NotFound
from servicekit.events import broadcast, handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy, rpc

from invoicing import handlers, holds, references, schemas, usecases
from invoicing import estimate_input, estimate_pdf, estimates
from invoicing.domain import PAYABLE
from invoicing.models import CreditEntry, Invoice, ServiceItem


class InvoicingService:
    name = "invoicing"
    db = Database()
    relay = OutboxRelay()
    clients = TimedRpcProxy("clients")
    organizations = Cache("ORGANIZATION_CACHE_SECONDS", 300)
    known_clients = Cache("KNOWN_CLIENTS_CACHE_SECONDS", 86400, max_entries=100_000)

    @rpc(expected_exceptions=EXPECTED)
    def list_services(self):
        items = self.db.scalars(select(ServiceItem).where(ServiceItem.active).order_by(ServiceItem.code))
        return [schemas.service_out(item) for item in items]

    @rpc(expected_exceptions=EXPECTED)
    def create_invoice(self, payload, actor):
        data = schemas.invoice_input(payload)
        self._check_references(data)
        invoice = usecases.save_invoice(self.db, data, actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def update_invoice(self, invoice_id, payload, actor):
        data = schemas.invoice_input(payload)
        self._check_references(data)
        invoice = usecases.save_invoice(self.db, data, actor, invoice_id=invoice_id)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def get_invoice(self, invoice_id):
        return self._out(usecases.load_invoice(self.db, invoice_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_invoices(self, client_id):
        return self._invoices_of(str(client_id))

    @rpc(expected_exceptions=EXPECTED)
    def financial_summary(self, client_id):
        """A client's or account's invoices, what is due, what is pending
        (bank payments clearing), and the credit on the account."""
        invoices = self._invoices_of(str(client_id))
        credit = self.db.scalar(select(func.coalesce(func.sum(CreditEntry.amount), 0))
                                .where(CreditEntry.client_id == str(client_id)))
        live = [i for i in invoices if i["status"] != "void"]
        return {"invoices": invoices, "credit": credit,
                "balance": sum(i["balance"] for i in live),
                "pending": sum(i["pending"] for i in live),
                "estimates": estimates.summary_for(self.db, str(client_id))}

    @rpc(expected_exceptions=EXPECTED)
    def list_payable_invoices(self, client_id, channel):
        """What this channel may offer for payment now, oldest first."""
        if channel not in PAYABLE:
            raise InvalidInput("unknown payment channel")
        return [i for i in reversed(self._invoices_of(str(client_id)))
                if i["status"] in PAYABLE[channel] and i["available"] > 0]

    @rpc(expected_exceptions=EXPECTED)
    def hold_for_payment(self, payment_id, client_id, allocations, channel, ended=()):
        """Hold each invoice's amount for a payment about to be taken (amount
        None: all that is due). Refused, with the reason, if an invoice is not
        this account's, void, paid, not yet sent (for patients), has another
        payment in flight, or has less due than asked."""
        if channel not in PAYABLE:
            raise InvalidInput("unknown payment channel")
        if not isinstance(allocations, list) or not allocations:
            raise InvalidInput("choose at least one invoice")
        if not isinstance(ended, (list, tuple)):
            raise InvalidInput("ended must be a list of payment ids")
        held = holds.hold_for_payment(self.db, str(payment_id), str(client_id), allocations,
                                      channel, [str(p) for p in ended if p != payment_id])
        self.db.commit()
        return held

    @rpc(expected_exceptions=EXPECTED)
    def send_invoice(self, invoice_id, channel, actor):
        invoice = usecases.send_invoice(self.db, invoice_id, channel, actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def void_invoice(self, invoice_id, actor):
        invoice = usecases.void_invoice(self.db, invoice_id, actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def release_hold(self, payment_id):
        """Payments failed this attempt while its payer watches the page: free
        the invoices now (PaymentFailed, on its way, then changes nothing)."""
        holds.release_payment(self.db, str(payment_id))
        self.db.commit()
        return {"released": str(payment_id)}

    # ---- estimates and Good Faith Estimates (No Surprises Act) -------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_estimate_providers(self):
        """Active billing providers an estimate may name."""
        return estimates.providers(self.db)

    @rpc(expected_exceptions=EXPECTED)
    def create_estimate(self, payload, actor):
        """A draft estimate; every field's problem at once (InvalidFields)."""
        data = estimate_input.parse(self.db, payload, self._known_client, self._known_location)
        estimate = estimates.create(self.db, data, str(actor))
        self.db.commit()
        return estimates.estimate_out(self.db, estimate)

    @rpc(expected_exceptions=EXPECTED)
    def get_estimate(self, estimate_id, with_variance=False):
        estimate = estimates.with_lines(self.db, estimate_id)
        out = estimates.estimate_out(self.db, estimate)
        if with_variance and estimate.kind == "gfe" and estimate.provider_id:
            out["variance"] = estimates.variance(self.db, estimate.client_id, estimate.provider_id)
        return out

    @rpc(expected_exceptions=EXPECTED)
    def list_estimates(self, client_id):
        return estimates.of_client(self.db, str(client_id))

    @rpc(expected_exceptions=EXPECTED)
    def issue_estimate(self, estimate_id, channels, actor):
        """Send to the portal and/or by email (EstimateIssued)."""
        estimate = estimates.issue(self.db, str(estimate_id), channels, str(actor))
        self.db.commit()
        return estimates.estimate_out(self.db, estimate)

    @rpc(expected_exceptions=EXPECTED)
    def decide_estimate(self, estimate_id, decision, signer, account):
        """The patient approves or declines with a typed name (EstimateDecided);
        `account` is {id, client_id} of the portal session."""
        estimate = estimates.decide(self.db, str(estimate_id), decision, signer, account)
        self.db.commit()
        return estimates.estimate_out(self.db, estimate)

    @rpc(expected_exceptions=EXPECTED)
    def invoice_from_estimate(self, estimate_id, actor):
        """An approved estimate becomes a draft invoice in one step."""
        invoice = estimates.invoice_from(self.db, str(estimate_id), str(actor))
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def estimate_variance(self, client_id, provider_id, proposed_total=0):
        """Billed versus the latest Good Faith Estimate for this client and
        provider; `warning` when `proposed_total` more would be $400+ over."""
        return estimates.variance(self.db, str(client_id), str(provider_id), proposed_total)

    @rpc(expected_exceptions=EXPECTED)
    def estimate_pdf(self, estimate_id, client_id=None):
        """{filename, content_b64}; with `client_id`, only that client's
        estimate, once it was sent (the portal)."""
        estimate = estimates.estimate_out(self.db, estimates.with_lines(self.db, estimate_id))
        if client_id is not None and (estimate["client_id"] != str(client_id)
                                      or estimate["status"] == "draft"):
            raise NotFound("estimate not found")
        self.db.rollback()      # nothing written; no transaction held across the RPC below
        org = references.organization(self.clients, self.organizations)
        patient = self.clients.get_client(estimate["client_id"])   # a GFE names the patient
        content = estimate_pdf.render(estimate, org, patient)
        return {"filename": estimate_pdf.filename(estimate), "client_id": estimate["client_id"],
                "content_b64": base64.b64encode(content).decode("ascii")}

    def _known_client(self, client_id: str) -> bool:
        try:
            references.check_client(self.clients, self.known_clients, client_id)
        except InvalidInput:
            return False
        return True

    def _known_location(self, location_id: str) -> bool:
        try:
            references.check_location(self.clients, self.organizations, location_id)
        except InvalidInput:
            return False
        return True

    @broadcast("clients", "OrganizationChanged")
    def on_organization_changed(self, data):
        """A location (or the organization) changed: read it again next time."""
        self.organizations.drop(references.ORGANIZATION)

    @handles("payments", "PaymentCaptured", version=2)
    def on_payment_captured(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_captured",
                    lambda data: handlers.payment_captured(self.db, data))

    @handles("payments", "PaymentProcessing")
    def on_payment_processing(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_processing",
                    lambda data: handlers.payment_processing(self.db, data))

    @handles("payments", "PaymentFailed", version=2)
    def on_payment_failed(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_failed",
                    lambda data: handlers.payment_failed(self.db, data))

    @handles("payments", "PaymentRefunded")
    def on_payment_refunded(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_refunded",
                    lambda data: handlers.payment_refunded(self.db, data))

    @handles("payments", "RefundFailed")
    def on_refund_failed(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_refund_failed",
                    lambda data: handlers.refund_failed(self.db, data))

    def _out(self, invoice):
        return schemas.invoice_out(invoice, usecases.activity(self.db, invoice.id),
                                   holds.held_amounts(self.db, [invoice.id]).get(invoice.id))

    def _invoices_of(self, client_id: str) -> list[dict]:
        invoices = self.db.scalars(select(Invoice).where(Invoice.client_id == client_id)
                                   .options(selectinload(Invoice.lines))
                                   .order_by(Invoice.created_at.desc())).all()
        held = holds.held_amounts(self.db, [invoice.id for invoice in invoices])
        return [schemas.invoice_out(invoice, held=held.get(invoice.id)) for invoice in invoices]

    def _check_references(self, data):
        references.check(self.clients, self.organizations, self.known_clients,
                         data["client_id"], data["location_id"])
