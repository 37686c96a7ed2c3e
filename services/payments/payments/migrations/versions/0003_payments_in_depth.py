"""payments in depth: allocations over several invoices, link limits, saved
methods and consent, refunds, setup intents, webhook outcomes, reconciliation

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

OLD_IN_FLIGHT_SQL = "status IN ('pending', 'requires_action', 'processing')"
DEFAULT_SQL = "is_default AND status = 'active'"


def upgrade() -> None:
    _payment_links()
    _payments_and_allocations()
    _refunds()
    _saved_methods()
    _webhooks_and_reconciliation()


def _payment_links() -> None:
    with op.batch_alter_table("payment_links") as batch:
        batch.add_column(sa.Column("sent_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("revoked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("declines", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_at", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("identity_failures", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("identity_locked_at", sa.DateTime(), nullable=True))
    op.create_table(
        "link_attempts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("ip", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("outcome", sa.String(length=20), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"))
    for column in ("link_id", "ip", "at"):
        op.create_index(f"ix_link_attempts_{column}", "link_attempts", [column])
    op.create_table(
        "link_view_grants",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("link_id", sa.String(length=40), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("token_hash"))
    op.create_index("ix_link_view_grants_link_id", "link_view_grants", ["link_id"])


def _payments_and_allocations() -> None:
    op.drop_index("uq_payments_one_in_flight_per_invoice", table_name="payments")
    op.create_table(
        "payment_allocations",
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("in_flight", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"]),
        sa.PrimaryKeyConstraint("payment_id", "invoice_id"))
    op.create_index("uq_allocations_one_in_flight_per_invoice", "payment_allocations",
                    ["invoice_id"], unique=True, postgresql_where=sa.text("in_flight"),
                    sqlite_where=sa.text("in_flight"))
    op.execute("INSERT INTO payment_allocations (payment_id, invoice_id, position, amount, in_flight) "
               f"SELECT id, invoice_id, 1, amount, {OLD_IN_FLIGHT_SQL} FROM payments")
    with op.batch_alter_table("payments") as batch:
        batch.drop_index("ix_payments_invoice_id")
        batch.drop_column("invoice_id")
        for name, kind, default in [
                ("credit_amount", sa.Integer(), "0"), ("channel", sa.String(20), "pay_link"),
                ("initiated_by", sa.String(20), "patient"),
                ("save_method", sa.Boolean(), sa.false()),
                ("make_default", sa.Boolean(), sa.false()),
                ("off_session", sa.Boolean(), sa.false())]:
            batch.add_column(sa.Column(name, kind, nullable=False, server_default=default))
        for name, kind in [
                ("actor_id", sa.String(40)), ("request_key", sa.String(80)),
                ("saved_method_id", sa.String(40)), ("stripe_customer", sa.String(80)),
                ("bank_name", sa.String(80)), ("bank_last4", sa.String(4)),
                ("check_number", sa.String(30)), ("reference", sa.String(60)),
                ("payer_name", sa.String(120)), ("next_action_url", sa.String(500)),
                ("consent_text", sa.Text()), ("consent_ip", sa.String(64)),
                ("consent_user_agent", sa.String(300)), ("next_check_at", sa.DateTime()),
                ("lease_until", sa.DateTime()), ("expected_by", sa.DateTime())]:
            batch.add_column(sa.Column(name, kind, nullable=True))
        batch.create_unique_constraint("uq_payments_request_key", ["request_key"])
        batch.create_index("ix_payments_client_id", ["client_id"])
        batch.create_index("ix_payments_next_check_at", ["next_check_at"])
    # payments in flight when upgrading: the reconciler looks at them at once
    op.execute(f"UPDATE payments SET next_check_at = '2000-01-01 00:00:00' WHERE {OLD_IN_FLIGHT_SQL}")


def _refunds() -> None:
    op.create_table(
        "refunds",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("reason", sa.String(length=40), nullable=True),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("manual", sa.Boolean(), nullable=False),
        sa.Column("stripe_refund", sa.String(length=80), nullable=True),
        sa.Column("request_key", sa.String(length=80), nullable=False),
        sa.Column("requested_by", sa.String(length=40), nullable=False),
        sa.Column("failure_reason", sa.String(length=120), nullable=True),
        sa.Column("next_check_at", sa.DateTime(), nullable=True),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["payment_id"], ["payments.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
        sa.UniqueConstraint("stripe_refund"))
    op.create_index("ix_refunds_payment_id", "refunds", ["payment_id"])
    op.create_index("ix_refunds_next_check_at", "refunds", ["next_check_at"])


def _saved_methods() -> None:
    op.create_table(
        "stripe_customers",
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("stripe_customer", sa.String(length=80), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("client_id"),
        sa.UniqueConstraint("stripe_customer"))
    op.create_table(
        "saved_methods",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("stripe_payment_method", sa.String(length=100), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("card_brand", sa.String(length=20), nullable=True),
        sa.Column("exp_month", sa.Integer(), nullable=True),
        sa.Column("exp_year", sa.Integer(), nullable=True),
        sa.Column("bank_name", sa.String(length=80), nullable=True),
        sa.Column("last4", sa.String(length=4), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consented_at", sa.DateTime(), nullable=False),
        sa.Column("consented_by", sa.String(length=60), nullable=False),
        sa.Column("consent_ip", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("removed_at", sa.DateTime(), nullable=True),
        sa.Column("removed_by", sa.String(length=60), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stripe_payment_method"))
    op.create_index("ix_saved_methods_client_id", "saved_methods", ["client_id"])
    op.create_index("uq_saved_methods_one_default", "saved_methods", ["client_id"], unique=True,
                    postgresql_where=sa.text(DEFAULT_SQL), sqlite_where=sa.text(DEFAULT_SQL))
    op.create_table(
        "setup_attempts",
        sa.Column("id", sa.String(length=40), nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("request_key", sa.String(length=80), nullable=False),
        sa.Column("payment_method", sa.String(length=100), nullable=False),
        sa.Column("stripe_setup_intent", sa.String(length=80), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("make_default", sa.Boolean(), nullable=False),
        sa.Column("consent_text", sa.Text(), nullable=False),
        sa.Column("consented_by", sa.String(length=60), nullable=False),
        sa.Column("consent_ip", sa.String(length=64), nullable=False),
        sa.Column("consent_user_agent", sa.String(length=300), nullable=False),
        sa.Column("saved_method_id", sa.String(length=40), nullable=True),
        sa.Column("next_action_url", sa.String(length=500), nullable=True),
        sa.Column("failure_message", sa.String(length=300), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("request_key"),
        sa.UniqueConstraint("stripe_setup_intent"))
    op.create_index("ix_setup_attempts_client_id", "setup_attempts", ["client_id"])


def _webhooks_and_reconciliation() -> None:
    with op.batch_alter_table("stripe_events") as batch:
        batch.add_column(sa.Column("outcome", sa.String(length=20), nullable=True))
        batch.add_column(sa.Column("last_error", sa.String(length=200), nullable=True))
    op.create_table(
        "reconciliation_runs",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("intents_checked", sa.Integer(), nullable=False),
        sa.Column("refunds_checked", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("day"))
    op.create_table(
        "reconciliation_mismatches",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("run_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("stripe_object", sa.String(length=80), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("refund_id", sa.String(length=40), nullable=True),
        sa.Column("ours", sa.String(length=200), nullable=False),
        sa.Column("theirs", sa.String(length=200), nullable=False),
        sa.Column("found_at", sa.DateTime(), nullable=False),
        sa.Column("repaired_at", sa.DateTime(), nullable=True),
        sa.Column("repair_note", sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(["run_id"], ["reconciliation_runs.id"]),
        sa.PrimaryKeyConstraint("id"))
    op.create_index("ix_reconciliation_mismatches_run_id", "reconciliation_mismatches", ["run_id"])


def downgrade() -> None:
    for table in ("reconciliation_mismatches", "reconciliation_runs", "setup_attempts",
                  "saved_methods", "stripe_customers", "refunds", "link_view_grants",
                  "link_attempts"):
        op.drop_table(table)
    with op.batch_alter_table("stripe_events") as batch:
        batch.drop_column("last_error")
        batch.drop_column("outcome")
    with op.batch_alter_table("payments") as batch:
        batch.add_column(sa.Column("invoice_id", sa.String(40), nullable=True))
    op.execute("UPDATE payments SET invoice_id = (SELECT invoice_id FROM payment_allocations a "
               "WHERE a.payment_id = payments.id ORDER BY position LIMIT 1)")
    op.drop_table("payment_allocations")
    with op.batch_alter_table("payments") as batch:
        batch.drop_constraint("uq_payments_request_key", type_="unique")
        batch.drop_index("ix_payments_client_id")
        batch.drop_index("ix_payments_next_check_at")
        for name in ("credit_amount", "channel", "initiated_by", "save_method", "make_default",
                     "off_session", "actor_id", "request_key", "saved_method_id",
                     "stripe_customer", "bank_name", "bank_last4", "check_number", "reference",
                     "payer_name", "next_action_url", "consent_text", "consent_ip",
                     "consent_user_agent", "next_check_at", "lease_until", "expected_by"):
            batch.drop_column(name)
        batch.create_index("ix_payments_invoice_id", ["invoice_id"])
    op.create_index("uq_payments_one_in_flight_per_invoice", "payments", ["invoice_id"],
                    unique=True, postgresql_where=sa.text(OLD_IN_FLIGHT_SQL),
                    sqlite_where=sa.text(OLD_IN_FLIGHT_SQL))
    with op.batch_alter_table("payment_links") as batch:
        for name in ("identity_locked_at", "identity_failures", "locked_at", "declines",
                     "revoked_at", "sent_at"):
            batch.drop_column(name)
