"""room for twelve ICD-10 codes on an invoice ("F32.A123," × 12)

Revision ID: 0003b
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

revision = "0003b"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("diagnosis_codes", type_=sa.String(length=120),
                           existing_type=sa.String(length=80), existing_nullable=False,
                           existing_server_default="")


def downgrade() -> None:
    with op.batch_alter_table("invoices") as batch:
        batch.alter_column("diagnosis_codes", type_=sa.String(length=80),
                           existing_type=sa.String(length=120), existing_nullable=False,
                           existing_server_default="")
