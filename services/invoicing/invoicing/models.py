"""Tables the invoicing service owns."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean, Date, DateTime, ForeignKey, Integer, LargeBinary, String, Text, UniqueConstraint, false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class ServiceItem(Base):
    """A billable service. Never deleted: a deactivated one is not offered
    for new lines, and old invoices keep showing it."""
    __tablename__ = "service_catalog"
    code: Mapped[str] = mapped_column(String(20), primary_key=True)
    description: Mapped[str] = mapped_column(String(200))
    fee: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(default=True)
    modifiers: Mapped[str] = mapped_column(String(20), default="", server_default="")  # "HJ,95"
    place_of_service: Mapped[str] = mapped_column(String(2), default="", server_default="")
    updated_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LocationFee(Base):
    """A service's fee at one location, instead of its default fee."""
    __tablename__ = "service_location_fees"
    code: Mapped[str] = mapped_column(ForeignKey("service_catalog.code"), primary_key=True)
    location_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    fee: Mapped[int] = mapped_column(Integer)


class BillingProvider(Base):
    """Who renders services, as a superbill or a Good Faith Estimate names
    them: the billing identity (NPI, tax id, license), not the staff login."""
    __tablename__ = "billing_providers"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    credentials: Mapped[str] = mapped_column(String(40), default="")   # "LCSW", "MD"
    npi: Mapped[str] = mapped_column(String(10), default="")
    tax_id: Mapped[str] = mapped_column(String(20), default="")
    license: Mapped[str] = mapped_column(String(60), default="")
    staff_id: Mapped[str] = mapped_column(String(40), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Counter(Base):
    __tablename__ = "counters"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Invoice(Base):
    __tablename__ = "invoices"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    location_id: Mapped[str] = mapped_column(String(40))
    payment_type: Mapped[str] = mapped_column(String(30))
    discount_kind: Mapped[str] = mapped_column(String(10), default="none")
    discount_value: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    subtotal: Mapped[int] = mapped_column(Integer, default=0)
    discount_amount: Mapped[int] = mapped_column(Integer, default=0)
    total: Mapped[int] = mapped_column(Integer, default=0)
    amount_paid: Mapped[int] = mapped_column(Integer, default=0)
    memo: Mapped[str] = mapped_column(Text, default="")
    due_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    provider_id: Mapped[str] = mapped_column(String(40), default="", server_default="")
    diagnosis_codes: Mapped[str] = mapped_column(String(120), default="", server_default="")  # "F32.1,F41.1"
    no_charge: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    void_reason: Mapped[str] = mapped_column(Text, default="", server_default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # ledger: what adjustments, write-offs and credit notes changed of what is owed (signed)
    adjustments_total: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    lines: Mapped[list["InvoiceLine"]] = relationship(
        order_by="InvoiceLine.position", cascade="all, delete-orphan")

    @property
    def owed(self) -> int:
        """The total as adjustments, write-offs and credit notes left it."""
        return self.total + (self.adjustments_total or 0)

    @property
    def balance(self) -> int:
        return max(self.owed - self.amount_paid, 0)


class InvoiceLine(Base):
    __tablename__ = "invoice_lines"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    units: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    # the line's own discount, then its share of the invoice's discount
    discount_kind: Mapped[str] = mapped_column(String(10), default="none", server_default="none")
    discount_value: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    line_discount: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    discount_share: Mapped[int] = mapped_column(Integer, default=0)
    service_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    modifiers: Mapped[str] = mapped_column(String(20), default="", server_default="")
    place_of_service: Mapped[str] = mapped_column(String(2), default="", server_default="")


class InvoicePayment(Base):
    """A payment's share applied to an invoice; (payment, invoice) makes
    applying idempotent. One payment may pay several invoices."""
    __tablename__ = "invoice_payments"
    payment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True,
                                            index=True)
    amount: Mapped[int] = mapped_column(Integer)
    method: Mapped[str] = mapped_column(String(20))
    applied_at: Mapped[datetime] = mapped_column(DateTime)


class PaymentHold(Base):
    """An amount a payment in flight is taking from an invoice. While a hold
    stands, that amount is not offered for payment again and the invoice
    cannot be voided or edited. A released hold stays as a tombstone, so a
    hold request that arrives after its payment ended is refused."""
    __tablename__ = "payment_holds"
    payment_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True,
                                            index=True)
    amount: Mapped[int] = mapped_column(Integer)
    # held (being charged) | processing (a bank payment clearing) | released
    status: Mapped[str] = mapped_column(String(20))
    method: Mapped[str] = mapped_column(String(20), default="card")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    released_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class InvoiceRefund(Base):
    """Money given back on an invoice; the refund id makes it idempotent."""
    __tablename__ = "invoice_refunds"
    refund_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    payment_id: Mapped[str] = mapped_column(String(40))
    amount: Mapped[int] = mapped_column(Integer)
    refunded_at: Mapped[datetime] = mapped_column(DateTime)
    failed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class CreditEntry(Base):
    """Credit on a client's account: what a payment left over (positive),
    what was refunded out of it (negative). The sum is the credit."""
    __tablename__ = "credit_entries"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(80), unique=True)   # "payment:…", "refund:…"
    at: Mapped[datetime] = mapped_column(DateTime)


class InvoiceActivity(Base):
    """What happened to an invoice, for the staff's history view."""
    __tablename__ = "invoice_activity"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    at: Mapped[datetime] = mapped_column(DateTime)
    what: Mapped[str] = mapped_column(String(200))
    actor: Mapped[str] = mapped_column(String(40), default="")


# ---- payment plans (plans) ---------------------------------------------------------

class PaymentPlan(Base):
    """Invoice balances paid in installments, charged by autopay once the
    patient signed. awaiting_signature → active → completed; or
    needs_attention (a charge kept failing), or cancelled."""
    __tablename__ = "payment_plans"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    status: Mapped[str] = mapped_column(String(20))
    frequency: Mapped[str] = mapped_column(String(10))             # weekly | biweekly | monthly
    installment_count: Mapped[int] = mapped_column(Integer)
    total: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    first_due_on: Mapped[date] = mapped_column(Date)
    created_by: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    signed_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    signed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    signed_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    signed_user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    autopay_method_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    consent_version: Mapped[str | None] = mapped_column(String(40), nullable=True)
    cancelled_reason: Mapped[str] = mapped_column(Text, default="")
    invoices: Mapped[list["PlanInvoice"]] = relationship(
        order_by="PlanInvoice.position", cascade="all, delete-orphan")
    installments: Mapped[list["Installment"]] = relationship(
        order_by="Installment.number", cascade="all, delete-orphan")


class PlanInvoice(Base):
    """An invoice a plan pays, and its balance when the plan was made."""
    __tablename__ = "plan_invoices"
    plan_id: Mapped[str] = mapped_column(ForeignKey("payment_plans.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), primary_key=True,
                                            index=True)
    position: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)


class Installment(Base):
    """One charge of a plan. `charge_on` is when autopay next charges it
    (its due date, or a retry's date); none while a charge is under way or
    once it is paid, cancelled or out of retries."""
    __tablename__ = "plan_installments"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    plan_id: Mapped[str] = mapped_column(ForeignKey("payment_plans.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    due_on: Mapped[date] = mapped_column(Date)
    amount: Mapped[int] = mapped_column(Integer)
    # scheduled | due (being charged) | paid | failed | cancelled
    status: Mapped[str] = mapped_column(String(20), default="scheduled")
    paid_amount: Mapped[int] = mapped_column(Integer, default=0)
    charge_on: Mapped[date | None] = mapped_column(Date, nullable=True, index=True)
    paid_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    attempts: Mapped[list["InstallmentAttempt"]] = relationship(
        order_by="InstallmentAttempt.number", cascade="all, delete-orphan")
    __table_args__ = (UniqueConstraint("plan_id", "number", name="uq_plan_installment_number"),)


class InstallmentAttempt(Base):
    """One try at charging an installment; `key` (`inst_<installment>_<n>`)
    is the payment's request key at payments, so a redelivered or doubled
    InstallmentDue never charges twice."""
    __tablename__ = "installment_attempts"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    installment_id: Mapped[int] = mapped_column(ForeignKey("plan_installments.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    key: Mapped[str] = mapped_column(String(40), unique=True)
    amount: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20), default="charging")  # charging | succeeded | failed | cancelled
    payment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
# ---- statements, superbills and PDFs (b8-statements) ------------------------

class StatementRun(Base):
    """One batch of statements for a period over the whole clinic. One run
    per period: starting it again resumes it (or reports it, once done). The
    cursor is the last client id worked through, moved in the same
    transaction as that chunk's statements, so a resumed run never issues a
    client's statement twice. A worker owns the run while its lease lasts."""
    __tablename__ = "statement_runs"
    __table_args__ = (UniqueConstraint("period_start", "period_end"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))          # running | finished
    total: Mapped[int] = mapped_column(Integer, default=0)    # clients to look at
    done: Mapped[int] = mapped_column(Integer, default=0)     # looked at (issued + skipped)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    skipped: Mapped[int] = mapped_column(Integer, default=0)  # nothing owed, nothing happened
    total_due: Mapped[int] = mapped_column(Integer, default=0)
    cursor: Mapped[str] = mapped_column(String(40), default="")
    lease_owner: Mapped[str] = mapped_column(String(40), default="")
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    started_by: Mapped[str] = mapped_column(String(40), default="")
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class Statement(Base):
    """A client's or account's statement for a period, as issued: the
    amounts (cents) and who it was addressed to then."""
    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("run_id", "client_id"),)
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    run_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    period_start: Mapped[date] = mapped_column(Date)
    period_end: Mapped[date] = mapped_column(Date)
    opening_balance: Mapped[int] = mapped_column(Integer)
    charges: Mapped[int] = mapped_column(Integer)
    payments: Mapped[int] = mapped_column(Integer)
    refunds: Mapped[int] = mapped_column(Integer)
    credits: Mapped[int] = mapped_column(Integer)
    adjustments: Mapped[int] = mapped_column(Integer)
    closing_balance: Mapped[int] = mapped_column(Integer)
    aging_current: Mapped[int] = mapped_column(Integer)
    aging_31_60: Mapped[int] = mapped_column(Integer)
    aging_61_90: Mapped[int] = mapped_column(Integer)
    aging_over_90: Mapped[int] = mapped_column(Integer)
    credit_on_account: Mapped[int] = mapped_column(Integer)
    activity: Mapped[str] = mapped_column(Text, default="[]")   # JSON lines, as shown
    bill_to_name: Mapped[str] = mapped_column(String(200), default="")
    bill_to_address: Mapped[str] = mapped_column(Text, default="")
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    issued_by: Mapped[str] = mapped_column(String(40), default="")
    issued_at: Mapped[datetime] = mapped_column(DateTime)


class PdfCache(Base):
    """A rendered PDF, keyed by what it shows: (kind, subject, fingerprint of
    the HTML it was made from). Changed data makes a new fingerprint, so a
    stale PDF is never served; only the latest per subject is kept."""
    __tablename__ = "pdf_cache"
    kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    subject_id: Mapped[str] = mapped_column(String(120), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64), primary_key=True)
    pdf: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(DateTime)
# ---- ledger: adjustments, write-offs and credit notes ---------------------------------------
class InvoiceAdjustment(Base):
    """A change to what is owed on an invoice once it stands, keeping the
    history: `adjustment` (+ or −, with a reason), `write_off` (uncollectible,
    −), `credit_note` (−; what was already paid over the new amount owed
    moves to the account's credit, `credited`). The request key makes
    posting the same form twice change nothing."""
    __tablename__ = "invoice_adjustments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(ForeignKey("invoices.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(20))
    amount: Mapped[int] = mapped_column(Integer)          # signed change of what is owed
    credited: Mapped[int] = mapped_column(Integer, default=0)
    reason: Mapped[str] = mapped_column(Text, default="")
    actor: Mapped[str] = mapped_column(String(40), default="")
    request_key: Mapped[str] = mapped_column(String(80), unique=True)
    at: Mapped[datetime] = mapped_column(DateTime)
# ---- estimates and Good Faith Estimates (No Surprises Act) -------------------

class Estimate(Base):
    """An estimate (`estimate`) or a Good Faith Estimate (`gfe`, for self-pay
    clients): draft → issued → approved | declined; approved → invoiced.
    The decision keeps the patient's e-signature: typed name, time, address,
    browser. Totals are integer cents; the disclaimer wording is stored by
    version (gfe_notice)."""
    __tablename__ = "estimates"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    number: Mapped[str] = mapped_column(String(20), unique=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    kind: Mapped[str] = mapped_column(String(10))                       # gfe | estimate
    provider_id: Mapped[str] = mapped_column(String(40), default="")   # BillingProvider.id
    location_id: Mapped[str] = mapped_column(String(40))               # the facility
    diagnosis_codes: Mapped[str] = mapped_column(String(80), default="")
    status: Mapped[str] = mapped_column(String(20), default="draft")
    requested_by_patient: Mapped[bool] = mapped_column(Boolean, default=False)
    scheduled_on: Mapped[date] = mapped_column(Date)
    first_service_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    deadline: Mapped[date | None] = mapped_column(Date, nullable=True)
    currency: Mapped[str] = mapped_column(String(3), default="usd")
    total: Mapped[int] = mapped_column(Integer, default=0)
    memo: Mapped[str] = mapped_column(Text, default="")
    disclaimer_version: Mapped[str] = mapped_column(String(20))
    created_by: Mapped[str] = mapped_column(String(40), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    issued_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    issued_on: Mapped[date | None] = mapped_column(Date, nullable=True)   # business date
    issued_channels: Mapped[str] = mapped_column(String(20), default="")  # "portal,email"
    signer_name: Mapped[str] = mapped_column(String(200), default="")
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    signer_ip: Mapped[str] = mapped_column(String(64), default="")
    signer_user_agent: Mapped[str] = mapped_column(String(300), default="")
    decided_by: Mapped[str] = mapped_column(String(40), default="")     # portal account id
    invoice_id: Mapped[str] = mapped_column(String(40), default="")
    lines: Mapped[list["EstimateLine"]] = relationship(
        order_by="EstimateLine.position", cascade="all, delete-orphan")


class EstimateLine(Base):
    __tablename__ = "estimate_lines"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    estimate_id: Mapped[str] = mapped_column(ForeignKey("estimates.id"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    service_code: Mapped[str] = mapped_column(String(20))
    description: Mapped[str] = mapped_column(String(200))
    expected_on: Mapped[date | None] = mapped_column(Date, nullable=True)
    units: Mapped[int] = mapped_column(Integer)
    unit_price: Mapped[int] = mapped_column(Integer)
    amount: Mapped[int] = mapped_column(Integer)
    modifiers: Mapped[str] = mapped_column(String(20), default="")
    place_of_service: Mapped[str] = mapped_column(String(2), default="")
