"""payments in flight hold invoice amounts; one payment may pay several
invoices; refunds; credit on the account

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def _payments_primary_key(columns: list[str]) -> None:
    with op.batch_alter_table("invoice_payments", recreate="always") as batch:
        if op.get_bind().dialect.name == "postgresql":
            batch.drop_constraint("invoice_payments_pkey", type_="primary")
        batch.create_primary_key("invoice_payments_pkey", columns)


def upgrade() -> None:
    _payments_primary_key(["payment_id", "invoice_id"])
    op.create_table(
        "payment_holds",
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("method", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("released_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.PrimaryKeyConstraint("payment_id", "invoice_id"))
    op.create_index("ix_payment_holds_invoice_id", "payment_holds", ["invoice_id"])
    op.create_table(
        "invoice_refunds",
        sa.Column("refund_id", sa.String(length=40), nullable=False),
        sa.Column("invoice_id", sa.String(length=40), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("refunded_at", sa.DateTime(), nullable=False),
        sa.Column("failed_at", sa.DateTime(), nullable=True),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoices.id"]),
        sa.PrimaryKeyConstraint("refund_id"))
    op.create_index("ix_invoice_refunds_invoice_id", "invoice_refunds", ["invoice_id"])
    op.create_table(
        "credit_entries",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=80), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source"))
    op.create_index("ix_credit_entries_client_id", "credit_entries", ["client_id"])


def downgrade() -> None:
    op.drop_table("credit_entries")
    op.drop_table("invoice_refunds")
    op.drop_table("payment_holds")
    _payments_primary_key(["payment_id"])
