"""payment plans: plans, the invoices they pay, installments and each
attempt to charge one

Revision ID: 0005
Revises: 0004
"""
from alembic import op
import sqlalchemy as sa

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "payment_plans",
        sa.Column("id", sa.String(length=40), primary_key=True),
        sa.Column("client_id", sa.String(length=40), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("frequency", sa.String(length=10), nullable=False),
        sa.Column("installment_count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("first_due_on", sa.Date(), nullable=False),
        sa.Column("created_by", sa.String(length=40), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("signed_name", sa.String(length=120), nullable=True),
        sa.Column("signed_at", sa.DateTime(), nullable=True),
        sa.Column("signed_ip", sa.String(length=64), nullable=True),
        sa.Column("signed_user_agent", sa.String(length=300), nullable=True),
        sa.Column("autopay_method_id", sa.String(length=40), nullable=True),
        sa.Column("consent_version", sa.String(length=40), nullable=True),
        sa.Column("cancelled_reason", sa.Text(), nullable=False))
    op.create_index("ix_payment_plans_client_id", "payment_plans", ["client_id"])
    op.create_table(
        "plan_invoices",
        sa.Column("plan_id", sa.String(length=40), sa.ForeignKey("payment_plans.id"),
                  nullable=False),
        sa.Column("invoice_id", sa.String(length=40), sa.ForeignKey("invoices.id"),
                  nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("plan_id", "invoice_id"))
    op.create_index("ix_plan_invoices_invoice_id", "plan_invoices", ["invoice_id"])
    op.create_table(
        "plan_installments",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("plan_id", sa.String(length=40), sa.ForeignKey("payment_plans.id"),
                  nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("due_on", sa.Date(), nullable=False),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("paid_amount", sa.Integer(), nullable=False),
        sa.Column("charge_on", sa.Date(), nullable=True),
        sa.Column("paid_at", sa.DateTime(), nullable=True),
        sa.UniqueConstraint("plan_id", "number", name="uq_plan_installment_number"))
    op.create_index("ix_plan_installments_plan_id", "plan_installments", ["plan_id"])
    op.create_index("ix_plan_installments_charge_on", "plan_installments", ["charge_on"])
    op.create_table(
        "installment_attempts",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("installment_id", sa.Integer(), sa.ForeignKey("plan_installments.id"),
                  nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=40), nullable=False, unique=True),
        sa.Column("amount", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("payment_id", sa.String(length=40), nullable=True),
        sa.Column("failure_code", sa.String(length=60), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True))
    op.create_index("ix_installment_attempts_installment_id", "installment_attempts",
                    ["installment_id"])


def downgrade() -> None:
    op.drop_table("installment_attempts")
    op.drop_table("plan_installments")
    op.drop_table("plan_invoices")
    op.drop_table("payment_plans")
