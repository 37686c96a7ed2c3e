"""ledger: adjustments, write-offs and credit notes on invoices, and what
they changed of each invoice's amount owed

Revision ID: 0004
Revises: 0003b
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003b"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(sa.Column("adjustments_total", sa.Integer(), nullable=False,
                                   server_default="0"))
    op.create_table(
        "invoice_adjustments",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("invoice_id", sa.String(length=40), sa.ForeignKey("invoices.id"),
                  nullable=False),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("credited", sa.Integer(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("actor", sa.String(length=40), nullable=False),
        sa.Column("request_key", sa.String(length=80), nullable=False, unique=True),
        sa.Column("at", sa.DateTime(), nullable=False))
    op.create_index("ix_invoice_adjustments_invoice_id", "invoice_adjustments", ["invoice_id"])
    op.create_index("ix_invoice_adjustments_client_id", "invoice_adjustments", ["client_id"])


def downgrade() -> None:
    op.drop_index("ix_invoice_adjustments_client_id", "invoice_adjustments")
    op.drop_index("ix_invoice_adjustments_invoice_id", "invoice_adjustments")
    op.drop_table("invoice_adjustments")
    with op.batch_alter_table("invoices") as batch:
        batch.drop_column("adjustments_total")
