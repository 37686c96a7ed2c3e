"""Invoicing service: the service catalog and invoices."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from servicekit.cache import Cache
from servicekit.db import Database
from servicekit.errors import EXPECTED, InvalidInput
from servicekit.events import broadcast, handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy, rpc

from invoicing import adjustments, handlers, holds, ledger, ledger_reads, references, schemas, usecases
from invoicing.domain import PAYABLE
from invoicing.models import Invoice, ServiceItem


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
        (bank payments clearing), the credit on the account, the ledger and
        its aging: 3 SQL statements however many invoices."""
        cid = str(client_id)
        found = self._client_invoices(cid, with_lines=True)
        read = ledger_reads.read(self.db, cid, found)
        invoices = [schemas.invoice_out(invoice, held=read.held.get(invoice.id)) for invoice in found]
        live = [i for i in invoices if i["status"] != "void"]
        entries = ledger.ledger_out(read.ledger)
        return {"invoices": invoices, "credit": read.ledger.credit,
                "balance": sum(i["balance"] for i in live),
                "pending": sum(i["pending"] for i in live),
                "ledger": entries, "aging": entries["aging"]}

    # ---- ledger: the client's ledger, adjustments, credit notes, write-offs, credit applied ----
    @rpc(expected_exceptions=EXPECTED)
    def ledger(self, client_id):
        """Entries (oldest first, with the running balance), aging, balance,
        credit and pending: 2 SQL statements."""
        cid = str(client_id)
        return ledger.ledger_out(ledger_reads.read(self.db, cid, self._client_invoices(cid)).ledger)

    @rpc(expected_exceptions=EXPECTED)
    def adjust_invoice(self, invoice_id, payload, actor):
        """payload {kind: adjustment | write_off | credit_note, amount (cents;
        signed for an adjustment), reason, request_key}."""
        data = adjustments.adjustment_input(payload)
        invoice = adjustments.adjust(self.db, str(invoice_id), data, str(actor))
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def apply_credit(self, client_id, invoice_id, amount, actor, request_key):
        """Pay an invoice from the account's credit (amount None: as much as
        both allow); the same request key again changes nothing."""
        if amount is not None and (isinstance(amount, bool) or not isinstance(amount, int)):
            raise InvalidInput("amount must be a whole number of cents")
        invoice = adjustments.apply_credit(self.db, str(client_id), str(invoice_id), amount,
                                           str(actor), adjustments.check_key(request_key))
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def refund_room(self, client_id, invoice_id=None):
        """What may still go back: the account's credit (invoice None), or
        what stays paid on the invoice. Payments asks before a refund, so
        credit already applied to an invoice, or paid money a credit note
        moved to the credit, is not paid out twice."""
        if invoice_id is None:
            return adjustments.credit_of(self.db, str(client_id))
        invoice = usecases.load_invoice(self.db, invoice_id)
        return max(invoice.amount_paid, 0) if invoice.client_id == str(client_id) else 0

    def _client_invoices(self, client_id: str, with_lines: bool = False) -> list[Invoice]:
        query = select(Invoice).where(Invoice.client_id == client_id).order_by(
            Invoice.created_at.desc())
        if with_lines:
            query = query.options(selectinload(Invoice.lines))
        return self.db.scalars(query).all()

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
