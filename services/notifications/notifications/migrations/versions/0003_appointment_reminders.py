"""appointment reminders

Additive: `appointment_reminders`, notifications' own copy of scheduling's
appointments (from AppointmentScheduled / AppointmentChanged) and the state
of each one's reminder.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:40:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointment_reminders',
    sa.Column('appointment_id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=True),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('revision', sa.Integer(), nullable=True),
    sa.Column('occurred_at', sa.DateTime(), nullable=False),
    sa.Column('reminder_key', sa.String(length=36), nullable=True),
    sa.Column('reminder_due_at', sa.DateTime(), nullable=True),
    sa.Column('reminder_state', sa.String(length=10), nullable=False),
    sa.Column('claimed_until', sa.DateTime(), nullable=True),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('appointment_id')
    )
    with op.batch_alter_table('appointment_reminders', schema=None) as batch_op:
        batch_op.create_index('ix_appointment_reminders_due', ['reminder_state', 'reminder_due_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_appointment_reminders_client_id'), ['client_id'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('appointment_reminders', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointment_reminders_client_id'))
        batch_op.drop_index('ix_appointment_reminders_due')
    op.drop_table('appointment_reminders')
