"""catalog modifiers, place of service and per-location fees; billing
providers; an invoice's provider, diagnoses, no-charge mark and void reason;
a line's own discount, date of service, modifiers and place of service

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def _text(name: str, length: int | None = None) -> sa.Column:
    kind = sa.String(length=length) if length else sa.Text()
    return sa.Column(name, kind, nullable=False, server_default="")


def upgrade() -> None:
    with op.batch_alter_table("service_catalog") as batch:
        batch.add_column(_text("modifiers", 20))
        batch.add_column(_text("place_of_service", 2))
        batch.add_column(sa.Column("updated_at", sa.DateTime(), nullable=True))
    op.create_table(
        "service_location_fees",
        sa.Column("code", sa.String(length=20), sa.ForeignKey("service_catalog.code"),
                  nullable=False),
        sa.Column("location_id", sa.String(length=40), nullable=False),
        sa.Column("fee", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("code", "location_id"))
    op.create_table(
        "billing_providers",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("credentials", sa.String(length=40), nullable=False),
        sa.Column("npi", sa.String(length=10), nullable=False),
        sa.Column("tax_id", sa.String(length=20), nullable=False),
        sa.Column("license", sa.String(length=60), nullable=False),
        sa.Column("staff_id", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False))
    with op.batch_alter_table("invoices") as batch:
        batch.add_column(_text("provider_id", 40))
        batch.add_column(_text("diagnosis_codes", 80))
        batch.add_column(sa.Column("no_charge", sa.Boolean(), nullable=False,
                                   server_default=sa.false()))
        batch.add_column(_text("void_reason"))
    with op.batch_alter_table("invoice_lines") as batch:
        batch.add_column(sa.Column("discount_kind", sa.String(length=10), nullable=False,
                                   server_default="none"))
        batch.add_column(sa.Column("discount_value", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("line_discount", sa.Integer(), nullable=False,
                                   server_default="0"))
        batch.add_column(sa.Column("service_date", sa.Date(), nullable=True))
        batch.add_column(_text("modifiers", 20))
        batch.add_column(_text("place_of_service", 2))


def downgrade() -> None:
    with op.batch_alter_table("invoice_lines") as batch:
        for name in ("place_of_service", "modifiers", "service_date", "line_discount",
                     "discount_value", "discount_kind"):
            batch.drop_column(name)
    with op.batch_alter_table("invoices") as batch:
        for name in ("void_reason", "no_charge", "diagnosis_codes", "provider_id"):
            batch.drop_column(name)
    op.drop_table("billing_providers")
    op.drop_table("service_location_fees")
    with op.batch_alter_table("service_catalog") as batch:
        for name in ("updated_at", "place_of_service", "modifiers"):
            batch.drop_column(name)
