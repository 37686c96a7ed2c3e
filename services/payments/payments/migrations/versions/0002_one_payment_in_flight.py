"""one payment in flight per invoice; the payment method a payment uses

Revision ID: 0002
Revises: 0001
"""
from alembic import op
import sqlalchemy as sa

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

IN_FLIGHT_SQL = "status IN ('pending', 'requires_action', 'processing')"


def upgrade() -> None:
    with op.batch_alter_table("payments") as batch_op:
        batch_op.add_column(sa.Column("payment_method", sa.String(length=100), nullable=True))
    op.create_index("uq_payments_one_in_flight_per_invoice", "payments", ["invoice_id"],
                    unique=True, postgresql_where=sa.text(IN_FLIGHT_SQL),
                    sqlite_where=sa.text(IN_FLIGHT_SQL))


def downgrade() -> None:
    op.drop_index("uq_payments_one_in_flight_per_invoice", table_name="payments")
    with op.batch_alter_table("payments") as batch_op:
        batch_op.drop_column("payment_method")
