"""Tables the payments service owns."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, DateTime, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class PaymentLink(Base):
    """A one-time payment link for one invoice, sent by email."""
    __tablename__ = "payment_links"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    request_key: Mapped[str] = mapped_column(String(80), unique=True)
    invoice_id: Mapped[str] = mapped_column(String(40), index=True)
    client_id: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(DateTime)
    # when the invoice was sent: a later send supersedes this link, whatever
    # order the emails were made in
    sent_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    used_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # a link dies when its invoice is paid, voided or sent again
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # locked after repeated declines (card testing) until staff unlock it
    declines: Mapped[int] = mapped_column(Integer, default=0)
    locked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # wrong dates of birth before the invoice's lines are shown
    identity_failures: Mapped[int] = mapped_column(Integer, default=0)
    identity_locked_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)


class LinkAttempt(Base):
    """Every try at a pay link (paying, or proving who the payer is), kept to
    limit tries per link and per address."""
    __tablename__ = "link_attempts"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    link_id: Mapped[str] = mapped_column(String(40), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(10))        # pay | identity
    outcome: Mapped[str] = mapped_column(String(20))     # ok | declined | wrong | refused | limited
    at: Mapped[datetime] = mapped_column(DateTime, index=True)


class LinkViewGrant(Base):
    """A payer who proved who they are may see the invoice's lines for a
    while; the browser keeps the random token, we keep its hash."""
    __tablename__ = "link_view_grants"
    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    link_id: Mapped[str] = mapped_column(String(40), index=True)
    expires_at: Mapped[datetime] = mapped_column(DateTime)


IN_FLIGHT = ("pending", "requires_action", "processing")


class Payment(Base):
    """One attempt to take money, whatever the channel and method. It pays
    one or more invoices (allocations) and may leave a credit on the account."""
    __tablename__ = "payments"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    amount: Mapped[int] = mapped_column(Integer)
    credit_amount: Mapped[int] = mapped_column(Integer, default=0)
    currency: Mapped[str] = mapped_column(String(3))
    method: Mapped[str] = mapped_column(String(20), default="card")
    channel: Mapped[str] = mapped_column(String(20), default="pay_link")
    initiated_by: Mapped[str] = mapped_column(String(20), default="patient")
    actor_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    link_id: Mapped[str | None] = mapped_column(String(40), nullable=True, index=True)
    request_key: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    payment_method: Mapped[str | None] = mapped_column(String(100), nullable=True)
    saved_method_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    save_method: Mapped[bool] = mapped_column(Boolean, default=False)
    make_default: Mapped[bool] = mapped_column(Boolean, default=False)
    off_session: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_customer: Mapped[str | None] = mapped_column(String(80), nullable=True)
    status: Mapped[str] = mapped_column(String(20))
    stripe_payment_intent: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    card_brand: Mapped[str | None] = mapped_column(String(20), nullable=True)
    card_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    bank_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    bank_last4: Mapped[str | None] = mapped_column(String(4), nullable=True)
    check_number: Mapped[str | None] = mapped_column(String(30), nullable=True)
    reference: Mapped[str | None] = mapped_column(String(60), nullable=True)
    payer_name: Mapped[str | None] = mapped_column(String(120), nullable=True)
    failure_code: Mapped[str | None] = mapped_column(String(60), nullable=True)
    failure_message: Mapped[str | None] = mapped_column(String(300), nullable=True)
    next_action_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    consent_text: Mapped[str | None] = mapped_column(Text, nullable=True)
    consent_ip: Mapped[str | None] = mapped_column(String(64), nullable=True)
    consent_user_agent: Mapped[str | None] = mapped_column(String(300), nullable=True)
    # the reconciler: when to look again, and who is looking now
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    expected_by: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)
    allocations: Mapped[list["PaymentAllocation"]] = relationship(
        order_by="PaymentAllocation.position", cascade="all, delete-orphan", lazy="selectin")

    def idempotency_key(self, step: str) -> str:
        """Derived from our own record, committed before the first call."""
        return f"cairn-{self.id}-{step}"

    @property
    def in_flight(self) -> bool:
        return self.status in IN_FLIGHT


class PaymentAllocation(Base):
    """How much of a payment goes to one invoice. While the payment is in
    flight the allocation is open, and an invoice has at most one open
    allocation: two pages, links or clicks can never charge one balance twice."""
    __tablename__ = "payment_allocations"
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), primary_key=True)
    invoice_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    position: Mapped[int] = mapped_column(Integer, default=1)
    amount: Mapped[int] = mapped_column(Integer)
    in_flight: Mapped[bool] = mapped_column(Boolean, default=True)
    # from invoicing's hold; none for payments recorded before 0004
    invoice_number: Mapped[str | None] = mapped_column(String(20), nullable=True)

    __table_args__ = (
        Index("uq_allocations_one_in_flight_per_invoice", "invoice_id", unique=True,
              postgresql_where=text("in_flight"), sqlite_where=text("in_flight")),
    )


class Refund(Base):
    __tablename__ = "refunds"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    payment_id: Mapped[str] = mapped_column(ForeignKey("payments.id"), index=True)
    invoice_id: Mapped[str | None] = mapped_column(String(40), nullable=True)   # None: from credit
    amount: Mapped[int] = mapped_column(Integer)
    currency: Mapped[str] = mapped_column(String(3))
    reason: Mapped[str | None] = mapped_column(String(40), nullable=True)
    note: Mapped[str] = mapped_column(String(300), default="")
    # requested (Stripe not answered yet) → pending | succeeded → failed;
    # refused: Stripe said no, nothing moved
    status: Mapped[str] = mapped_column(String(20))
    manual: Mapped[bool] = mapped_column(Boolean, default=False)
    stripe_refund: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    request_key: Mapped[str] = mapped_column(String(80), unique=True)
    requested_by: Mapped[str] = mapped_column(String(40))
    failure_reason: Mapped[str | None] = mapped_column(String(120), nullable=True)
    next_check_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True, index=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)

    def idempotency_key(self) -> str:
        return f"cairn-{self.id}-refund"


class StripeCustomer(Base):
    """The Stripe customer for one client or guarantor account; it carries no
    name, email or description, only our opaque id in metadata."""
    __tablename__ = "stripe_customers"
    client_id: Mapped[str] = mapped_column(String(40), primary_key=True)
    stripe_customer: Mapped[str] = mapped_column(String(80), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)


class SavedMethod(Base):
    """A card or bank account kept on file, with the consent to keep it."""
    __tablename__ = "saved_methods"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    stripe_payment_method: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(20))              # card | us_bank_account
    card_brand: Mapped[str | None] = mapped_column(String(20), nullable=True)
    exp_month: Mapped[int | None] = mapped_column(Integer, nullable=True)
    exp_year: Mapped[int | None] = mapped_column(Integer, nullable=True)
    bank_name: Mapped[str | None] = mapped_column(String(80), nullable=True)
    last4: Mapped[str] = mapped_column(String(4))
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(String(10), default="active")   # active | removed
    consent_text: Mapped[str] = mapped_column(Text)
    consented_at: Mapped[datetime] = mapped_column(DateTime)
    consented_by: Mapped[str] = mapped_column(String(60))      # "staff:st_1", "portal:pa_1", "payer"
    consent_ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(DateTime)
    removed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    removed_by: Mapped[str | None] = mapped_column(String(60), nullable=True)

    __table_args__ = (
        Index("uq_saved_methods_one_default", "client_id", unique=True,
              postgresql_where=text("is_default AND status = 'active'"),
              sqlite_where=text("is_default AND status = 'active'")),
    )


class SetupAttempt(Base):
    """Saving a method without paying (a SetupIntent), which may need the
    card holder to authenticate first."""
    __tablename__ = "setup_attempts"
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(40), index=True)
    request_key: Mapped[str] = mapped_column(String(80), unique=True)
    payment_method: Mapped[str] = mapped_column(String(100))
    stripe_setup_intent: Mapped[str | None] = mapped_column(String(80), nullable=True, unique=True)
    status: Mapped[str] = mapped_column(String(20))   # pending | requires_action | succeeded | failed
    make_default: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_text: Mapped[str] = mapped_column(Text)
    consented_by: Mapped[str] = mapped_column(String(60))
    consent_ip: Mapped[str] = mapped_column(String(64), default="")
    consent_user_agent: Mapped[str] = mapped_column(String(300), default="")
    saved_method_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    next_action_url: Mapped[str | None] = mapped_column(String(500), nullable=True)
    failure_message: Mapped[str | None] = mapped_column(String(300), nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime)


class StripeEvent(Base):
    """Every webhook, stored raw in its own transaction before it is processed."""
    __tablename__ = "stripe_events"
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    type: Mapped[str] = mapped_column(String(80))
    payload: Mapped[str] = mapped_column(Text)
    received_at: Mapped[datetime] = mapped_column(DateTime)
    processed_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    # applied | unmatched (no Cairn record: left for reconciliation) | ignored
    outcome: Mapped[str | None] = mapped_column(String(20), nullable=True)
    last_error: Mapped[str | None] = mapped_column(String(200), nullable=True)


class ReconciliationRun(Base):
    """One comparison of a day's Stripe objects with ours."""
    __tablename__ = "reconciliation_runs"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    started_at: Mapped[datetime] = mapped_column(DateTime)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    intents_checked: Mapped[int] = mapped_column(Integer, default=0)
    refunds_checked: Mapped[int] = mapped_column(Integer, default=0)


class Mismatch(Base):
    """Where Stripe and Cairn disagree; repaired by replaying Stripe's object."""
    __tablename__ = "reconciliation_mismatches"
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("reconciliation_runs.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    stripe_object: Mapped[str] = mapped_column(String(80))
    payment_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    refund_id: Mapped[str | None] = mapped_column(String(40), nullable=True)
    ours: Mapped[str] = mapped_column(String(200), default="")
    theirs: Mapped[str] = mapped_column(String(200), default="")
    found_at: Mapped[datetime] = mapped_column(DateTime)
    repaired_at: Mapped[datetime | None] = mapped_column(DateTime, nullable=True)
    repair_note: Mapped[str | None] = mapped_column(String(200), nullable=True)
