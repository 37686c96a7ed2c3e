"""Invoicing service: the service catalog and invoices."""
from __future__ import annotations


from nameko.timer import timer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from servicekit import clock, config
from servicekit.cache import Cache
from servicekit.db import Database
from servicekit.errors import EXPECTED, InvalidFields, InvalidInput, NotFound
from servicekit.events import broadcast, handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy, rpc
from servicekit.text import FieldChecks

from invoicing import (adjustments, billing_documents, catalog, estimate_input, estimate_pdf,
                       estimates, handlers, holds, ledger, ledger_reads, plan_rules, plans,
                       references, refund_reservations, schemas, statement_runs, statements, superbills, usecases)
from invoicing.domain import PAYABLE
from invoicing.models import BillingProvider, Invoice, PaymentPlan


class InvoicingService:
    name = "invoicing"
    db = Database()
    relay = OutboxRelay()
    clients = TimedRpcProxy("clients")
    organizations = Cache("ORGANIZATION_CACHE_SECONDS", 300)
    known_clients = Cache("KNOWN_CLIENTS_CACHE_SECONDS", 86400, max_entries=100_000)

    # ---- catalog and billing providers (core area) -------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def list_services(self, include_inactive=False):
        return catalog.list_services(self.db, bool(include_inactive))

    @rpc(expected_exceptions=EXPECTED)
    def get_service(self, code):
        return catalog.get_service(self.db, code)

    @rpc(expected_exceptions=EXPECTED)
    def save_service(self, payload, actor):
        payload = payload if isinstance(payload, dict) else {}
        self._check_locations([loc for loc, fee in dict(payload.get("location_fees") or {}).items()
                               if fee is not None])
        item = catalog.save_service(self.db, payload)
        self.db.commit()
        return catalog.service_of(self.db, item)

    @rpc(expected_exceptions=EXPECTED)
    def set_service_active(self, code, active, actor):
        item = catalog.set_service_active(self.db, code, active)
        self.db.commit()
        return catalog.service_of(self.db, item)

    @rpc(expected_exceptions=EXPECTED)
    def set_location_fee(self, code, location_id, fee, actor):
        self._check_locations([location_id] if fee is not None else [])
        item = catalog.set_location_fee(self.db, code, location_id, fee)
        self.db.commit()
        return catalog.service_of(self.db, item)

    @rpc(expected_exceptions=EXPECTED)
    def list_providers(self, include_inactive=False):
        return catalog.list_providers(self.db, bool(include_inactive))

    @rpc(expected_exceptions=EXPECTED)
    def save_provider(self, payload, actor):
        provider = catalog.save_provider(self.db, payload if isinstance(payload, dict) else {})
        self.db.commit()
        return schemas.provider_out(provider)

    @rpc(expected_exceptions=EXPECTED)
    def set_provider_active(self, provider_id, active, actor):
        provider = catalog.set_provider_active(self.db, provider_id, active)
        self.db.commit()
        return schemas.provider_out(provider)

    # ---- invoices -------------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_invoice(self, payload, actor, check_only=False):
        """Every problem at once (InvalidFields, keyed by the form's field
        names), or the saved invoice. `check_only`: find problems, save nothing."""
        return self._save(payload, actor, None, check_only)

    @rpc(expected_exceptions=EXPECTED)
    def update_invoice(self, invoice_id, payload, actor, check_only=False):
        return self._save(payload, actor, str(invoice_id), check_only)

    @rpc(expected_exceptions=EXPECTED)
    def finalize_invoice(self, invoice_id, actor):
        invoice = usecases.finalize_invoice(self.db, str(invoice_id), actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def get_invoice(self, invoice_id):
        invoice = usecases.load_invoice(self.db, invoice_id)
        shown = self._out(invoice)
        # estimates: billed versus the client's Good Faith Estimate for this
        # provider (None without one), for the invoice page's warning
        shown["estimate_variance"] = estimates.variance_of_invoice(self.db, invoice)
        return shown

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
                "ledger": entries, "aging": entries["aging"],
                "plans": plans.summary_for(self.db, cid),
                "statements": statements.summary_for(self.db, cid),
                "estimates": estimates.summary_for(self.db, cid)}

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

    # ---- refunds reserved before Stripe is asked (b8-fixrefunds) ----
    @rpc(expected_exceptions=EXPECTED)
    def reserve_refund(self, refund_id, client_id, invoice_id, payment_id, amount):
        """Check there is still room (the account's credit, invoice None, or
        what stays paid on the invoice) and take the refund off it now:
        {reserved, room}. The same refund id again changes nothing."""
        reply = refund_reservations.reserve(
            self.db, str(refund_id), str(client_id), None if invoice_id is None else str(invoice_id),
            str(payment_id), amount)
        self.db.commit()
        return reply

    @rpc(expected_exceptions=EXPECTED)
    def release_refund(self, refund_id):
        """A reserved refund that never went out: put it back (once)."""
        reply = refund_reservations.release(self.db, str(refund_id))
        self.db.commit()
        return reply

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
    def hold_for_payment(self, payment_id, client_id, allocations, channel, ended=(),
                         installment_attempt=None):
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
                                      channel, [str(p) for p in ended if p != payment_id],
                                      installment_attempt)
        self.db.commit()
        return held

    @rpc(expected_exceptions=EXPECTED)
    def send_invoice(self, invoice_id, channel, actor):
        invoice = usecases.send_invoice(self.db, invoice_id, channel, actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def void_invoice(self, invoice_id, actor, reason=""):
        invoice = usecases.void_invoice(self.db, invoice_id, reason, actor)
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
    def issue_statement(self, client_id, period_start, period_end, actor, request_key=None):
        """One client's statement for a period, issued now (StatementIssued);
        the same `request_key` again returns the same statement."""
        start, end = statements.period_input(period_start, period_end)
        try:
            key = adjustments.check_key(request_key) if request_key is not None else None
        except InvalidInput as expired:
            raise InvalidFields({"form": str(expired)}) from None
        bill_to = self._directory([str(client_id)]).get(str(client_id))
        if bill_to is None:
            raise NotFound("client not found")
        try:
            row = statements.issue_one(self.db, str(client_id), start, end, bill_to, str(actor),
                                       key)
            self.db.commit()
        except IntegrityError:          # the same key at the same moment: that one stands
            self.db.rollback()
            if key is None:
                raise
            row = statements.load(self.db, statements.key_id(key), str(client_id))
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
        owner = billing_documents.load_invoice(self.db, invoice_id, client_id).client_id
        self.db.commit()       # no read transaction left open across the two RPCs
        client = self._directory([owner]).get(owner) or {}
        organization = self._organization()
        invoice = billing_documents.load_invoice(self.db, invoice_id, client_id)
        reply = billing_documents.invoice_pdf(self.db, invoice, client, organization)
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
        """{filename, content_type, pdf_base64, client_id} (as the other
        PDFs); with `client_id`, only that client's estimate, once it was
        sent (the portal). Rendered once per version, kept in `pdf_cache`."""
        estimate = estimates.estimate_out(self.db, estimates.with_lines(self.db, estimate_id))
        if client_id is not None and (estimate["client_id"] != str(client_id)
                                      or estimate["status"] == "draft"):
            raise NotFound("estimate not found")
        self.db.rollback()      # nothing written; no transaction held across the RPC below
        org = references.organization(self.clients, self.organizations)
        patient = self.clients.get_client(estimate["client_id"])   # a GFE names the patient
        reply = estimate_pdf.reply(self.db, estimate, org, patient)
        self.db.commit()
        return reply

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
                    lambda data: (handlers.payment_captured(self.db, data),
                                  plans.payment_captured(self.db, data)))

    @handles("payments", "PaymentProcessing")
    def on_payment_processing(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_processing",
                    lambda data: handlers.payment_processing(self.db, data))

    @handles("payments", "PaymentFailed", version=2)
    def on_payment_failed(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_failed",
                    lambda data: (handlers.payment_failed(self.db, data),
                                  plans.payment_failed(self.db, data, clock.today(),
                                                       plan_rules.retry_days())))

    @handles("payments", "PaymentRefunded")
    def on_payment_refunded(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_refunded",
                    lambda data: handlers.payment_refunded(self.db, data))

    @handles("payments", "RefundFailed")
    def on_refund_failed(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_refund_failed",
                    lambda data: handlers.refund_failed(self.db, data))

    # ---- payment plans (plans) ---------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_plan(self, payload, actor):
        """Installments over open balances (InvalidFields: nothing saved)."""
        plan = plans.create_plan(self.db, payload, str(actor))
        self.db.commit()
        return self._plan_out(plan)

    @rpc(expected_exceptions=EXPECTED)
    def preview_plan(self, payload):
        """The schedule a plan form would make, for the page to show."""
        return plans.preview(payload)

    @rpc(expected_exceptions=EXPECTED)
    def get_plan(self, plan_id, client_id=None):
        """client_id (the portal's session client): another client's plan is NotFound."""
        return self._plan_out(plans.load_plan(self.db, plan_id, client_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_plans(self, client_id):
        found = self.db.scalars(select(PaymentPlan).where(PaymentPlan.client_id == str(client_id))
                                .order_by(PaymentPlan.created_at.desc())).all()
        return [self._plan_out(plan) for plan in found]

    @rpc(expected_exceptions=EXPECTED)
    def sign_plan(self, plan_id, signer, saved_method_id, client_id=None):
        """signer: {typed_name, ip, user_agent}; the method on file autopay charges."""
        plan = plans.sign_plan(self.db, plan_id, signer, saved_method_id, client_id)
        self.db.commit()
        return self._plan_out(plan)

    @rpc(expected_exceptions=EXPECTED)
    def cancel_plan(self, plan_id, actor, reason=""):
        plan = plans.cancel_plan(self.db, plan_id, str(actor), reason)
        self.db.commit()
        return self._plan_out(plan)

    @rpc(expected_exceptions=EXPECTED)
    def retry_plan(self, plan_id, actor):
        plan = plans.retry_plan(self.db, plan_id, str(actor))
        self.db.commit()
        return self._plan_out(plan)

    @timer(interval=float(config.env("AUTOPAY_INTERVAL_SECONDS", "60")))
    def charge_due_installments(self):
        """Claim due installments in small batches (SKIP LOCKED) and emit
        InstallmentDue for each; safe with several copies running."""
        while plans.claim_due(self.db, clock.today()) == plans.CLAIM_BATCH:
            self.db.commit()
        self.db.commit()
        # charges never answered: staff are asked to look (payment plans)
        while plans.flag_stuck(self.db, plan_rules.stuck_hours()) == plans.CLAIM_BATCH:
            self.db.commit()
        self.db.commit()

    def _plan_out(self, plan):
        return plans.plan_out(plan, plans.invoice_numbers(self.db, [plan]))

    def _out(self, invoice):
        provider = self.db.get(BillingProvider, invoice.provider_id) if invoice.provider_id else None
        shown = schemas.invoice_out(invoice, usecases.activity(self.db, invoice.id),
                                    holds.held_amounts(self.db, [invoice.id]).get(invoice.id),
                                    provider)
        shown["adjustment_list"] = adjustments.listed(self.db, invoice.id)   # one invoice's only
        return shown

    def _check_locations(self, location_ids):
        checks = FieldChecks()
        for location_id in location_ids:
            checks.run("location_id", references.check_location, self.clients, self.organizations,
                       str(location_id))
        checks.raise_if_any()

    def _save(self, payload, actor, invoice_id, check_only):
        data, checks = schemas.invoice_input(payload)
        if not data:
            checks.raise_if_any()
        references.check(self.clients, self.organizations, self.known_clients,
                         data["client_id"], data["location_id"], checks)
        invoice = usecases.save_invoice(self.db, data, checks, actor, invoice_id, bool(check_only))
        if invoice is None:
            self.db.rollback()
            return None
        self.db.commit()
        return self._out(invoice)

    def _invoices_of(self, client_id: str) -> list[dict]:
        invoices = self._client_invoices(client_id, with_lines=True)
        held = holds.held_amounts(self.db, [invoice.id for invoice in invoices])
        return [schemas.invoice_out(invoice, held=held.get(invoice.id)) for invoice in invoices]

