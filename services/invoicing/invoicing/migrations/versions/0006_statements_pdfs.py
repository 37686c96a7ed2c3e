"""statements, statement runs, and the PDF cache (b8-statements)

Revision ID: 0006
Revises: 0005
"""
from alembic import op
import sqlalchemy as sa

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MONEY = ("opening_balance", "charges", "payments", "refunds", "credits", "adjustments",
         "closing_balance", "aging_current", "aging_31_60", "aging_61_90", "aging_over_90",
         "credit_on_account")


def upgrade() -> None:
    op.create_table(
        "statement_runs",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False)
          for name in ("total", "done", "issued", "skipped", "total_due")],
        sa.Column("cursor", sa.String(length=40), nullable=False),
        sa.Column("lease_owner", sa.String(length=40), nullable=False),
        sa.Column("lease_until", sa.DateTime(), nullable=True),
        sa.Column("started_by", sa.String(length=40), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("period_start", "period_end"))
    op.create_table(
        "statements",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("run_id", sa.String(length=40), nullable=True),
        sa.Column("period_start", sa.Date(), nullable=False),
        sa.Column("period_end", sa.Date(), nullable=False),
        *[sa.Column(name, sa.Integer(), nullable=False) for name in MONEY],
        sa.Column("activity", sa.Text(), nullable=False),
        sa.Column("bill_to_name", sa.String(length=200), nullable=False),
        sa.Column("bill_to_address", sa.Text(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("issued_by", sa.String(length=40), nullable=False),
        sa.Column("issued_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("run_id", "client_id"))
    op.create_index("ix_statements_client_id", "statements", ["client_id"])
    op.create_table(
        "pdf_cache",
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("subject_id", sa.String(length=120), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("pdf", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("kind", "subject_id", "fingerprint"))


def downgrade() -> None:
    op.drop_table("pdf_cache")
    op.drop_index("ix_statements_client_id", table_name="statements")
    op.drop_table("statements")
    op.drop_table("statement_runs")
