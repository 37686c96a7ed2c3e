"""estimates and Good Faith Estimates (No Surprises Act): estimates with
their delivery deadline and the patient's decision, estimate lines; the
estimate number counter

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def _text(name: str, length: int) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=False)


def upgrade() -> None:
    op.create_table(
        "estimates",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("number", sa.String(length=20), nullable=False, unique=True),
        _text("client_id", 40), _text("kind", 10), _text("provider_id", 40),
        _text("location_id", 40), _text("diagnosis_codes", 80), _text("status", 20),
        sa.Column("requested_by_patient", sa.Boolean(), nullable=False),
        sa.Column("scheduled_on", sa.Date(), nullable=False),
        sa.Column("first_service_on", sa.Date(), nullable=True),
        sa.Column("deadline", sa.Date(), nullable=True),
        _text("currency", 3),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("memo", sa.Text(), nullable=False),
        _text("disclaimer_version", 20), _text("created_by", 40),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=True),
        sa.Column("issued_on", sa.Date(), nullable=True),
        _text("issued_channels", 20), _text("signer_name", 200),
        sa.Column("decided_at", sa.DateTime(), nullable=True),
        _text("signer_ip", 64), _text("signer_user_agent", 300), _text("decided_by", 40),
        _text("invoice_id", 40))
    op.create_index("ix_estimates_client_id", "estimates", ["client_id"])
    op.create_table(
        "estimate_lines",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("estimate_id", sa.String(length=40), sa.ForeignKey("estimates.id"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        _text("service_code", 20), _text("description", 200),
        sa.Column("expected_on", sa.Date(), nullable=True),
        sa.Column("units", sa.Integer(), nullable=False),
        sa.Column("unit_price", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        _text("modifiers", 20), _text("place_of_service", 2))
    op.create_index("ix_estimate_lines_estimate_id", "estimate_lines", ["estimate_id"])
    op.execute("insert into counters (name, value) values ('estimate', 0)")


def downgrade() -> None:
    op.execute("delete from counters where name = 'estimate'")
    op.drop_index("ix_estimate_lines_estimate_id", table_name="estimate_lines")
    op.drop_table("estimate_lines")
    op.drop_index("ix_estimates_client_id", table_name="estimates")
    op.drop_table("estimates")
