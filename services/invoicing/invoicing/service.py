"""Invoicing service: the service catalog and invoices."""
from __future__ import annotations

from nameko.timer import timer
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from servicekit import clock, config

from servicekit.cache import Cache
from servicekit.db import Database
from servicekit.errors import EXPECTED, InvalidInput, NotFound
from servicekit.events import broadcast, handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy, rpc

from invoicing import handlers, holds, references, schemas, usecases
from invoicing import billing_documents, statement_runs, statements, superbills
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
                "statements": statements.summary_for(self.db, client_id)}  # b8-statements

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

    # ---- statements, superbills and PDFs (b8-statements) ------------------------
    @rpc(expected_exceptions=EXPECTED)
    def issue_statement(self, client_id, period_start, period_end, actor):
        """One client's statement for a period, issued now (StatementIssued)."""
        start, end = statements.period_input(period_start, period_end)
        bill_to = self._directory([str(client_id)]).get(str(client_id))
        if bill_to is None:
            raise NotFound("client not found")
        row = statements.issue_one(self.db, str(client_id), start, end, bill_to, str(actor))
        self.db.commit()
        return statements.out(row)

    @rpc(expected_exceptions=EXPECTED)
    def list_statements(self, client_id):
        return statements.summary_for(self.db, client_id)

    @rpc(expected_exceptions=EXPECTED)
    def get_statement(self, statement_id, client_id=None):
        """`client_id` (the portal's): another client's is NotFound."""
        return statements.out(statements.load(self.db, statement_id, client_id))

    @rpc(expected_exceptions=EXPECTED)
    def start_statement_run(self, period_start, period_end, actor):
        """The period's batch over the whole clinic (made once; asking again
        resumes or reports it). Worked by the timer below, in chunks."""
        start, end = statements.period_input(period_start, period_end)
        run, _ = statement_runs.start(self.db, start, end, str(actor))
        self.db.commit()
        return statement_runs.progress(run)

    @rpc(expected_exceptions=EXPECTED)
    def statement_run_progress(self, run_id):
        return statement_runs.progress(statement_runs.load(self.db, run_id))

    @timer(interval=float(config.env("STATEMENT_RUN_POLL_SECONDS", "2")))
    def work_statement_runs(self):
        """Take a running run nobody holds (new, or its worker died) and
        work it to the end; several copies never work the same chunk."""
        claimed = statement_runs.claim(self.db)
        if claimed is not None:
            statement_runs.work(self.db, *claimed, directory=self._directory,
                                chunk=int(config.env("STATEMENT_CHUNK", "500")))

    @rpc(expected_exceptions=EXPECTED)
    def invoice_pdf(self, invoice_id, client_id=None):
        """{filename, content_type, pdf_base64, client_id, number};
        `client_id` (the portal's): only that client's, never a draft."""
        invoice = billing_documents.load_invoice(self.db, invoice_id, client_id)
        client = self._directory([invoice.client_id]).get(invoice.client_id) or {}
        reply = billing_documents.invoice_pdf(self.db, invoice, client, self._organization())
        self.db.commit()
        return reply

    @rpc(expected_exceptions=EXPECTED)
    def statement_pdf(self, statement_id, client_id=None):
        reply = billing_documents.statement_pdf(self.db, statement_id, client_id,
                                                self._organization())
        self.db.commit()
        return reply

    @rpc(expected_exceptions=EXPECTED)
    def superbill(self, client_id, start, end):
        """The services billed between two days as an insurer needs them,
        with the PDF; InvalidFields (start/end) when there are none."""
        first, last = superbills.dates_input(start, end)
        client = self._directory([str(client_id)]).get(str(client_id))
        if client is None:
            raise NotFound("client not found")
        reply = billing_documents.superbill(self.db, client, self._organization(), first, last,
                                            clock.today())
        self.db.commit()
        return reply

    def _directory(self, client_ids):
        return self.clients.billing_directory(client_ids) if client_ids else {}

    def _organization(self):
        return references.organization(self.clients, self.organizations)

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
