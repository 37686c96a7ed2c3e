"""each allocation keeps its invoice's number (from invoicing's hold), so the
payment's events can name the invoices and the receipt needs no lookup

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("payment_allocations") as batch:
        batch.add_column(sa.Column("invoice_number", sa.String(length=20), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("payment_allocations") as batch:
        batch.drop_column("invoice_number")
