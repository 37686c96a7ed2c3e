"""initial schema

Revision ID: 0001
Revises: 
Create Date: 2026-12-01 10:30:00.000000
"""
from alembic import op
import sqlalchemy as sa

from servicekit.migrate import create_messaging_tables_v1, drop_messaging_tables_v1


revision = '0001'
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('appointments',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('starts_at', sa.DateTime(), nullable=False),
    sa.Column('ends_at', sa.DateTime(), nullable=False),
    sa.Column('mode', sa.String(length=12), nullable=False),
    sa.Column('location_id', sa.String(length=40), nullable=True),
    sa.Column('location_name', sa.String(length=200), nullable=False),
    sa.Column('location_address', sa.String(length=300), nullable=False),
    sa.Column('clinician_name', sa.String(length=120), nullable=False),
    sa.Column('clinician_key', sa.String(length=120), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('join_room', sa.String(length=64), nullable=True),
    sa.Column('cancelled_reason', sa.Text(), nullable=True),
    sa.Column('revision', sa.Integer(), nullable=False),
    sa.Column('request_key', sa.String(length=80), nullable=True),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.Column('created_by_kind', sa.String(length=10), nullable=False),
    sa.Column('created_by_name', sa.String(length=200), nullable=False),
    sa.Column('updated_at', sa.DateTime(), nullable=False),
    sa.Column('updated_by_name', sa.String(length=200), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('join_room'),
    sa.UniqueConstraint('request_key')
    )
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.create_index('ix_appointments_clinician_time', ['clinician_key', 'starts_at'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_appointments_starts_at'), ['starts_at'], unique=False)
    create_messaging_tables_v1()


def downgrade() -> None:
    drop_messaging_tables_v1()
    with op.batch_alter_table('appointments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_appointments_starts_at'))
        batch_op.drop_index(batch_op.f('ix_appointments_client_id'))
        batch_op.drop_index('ix_appointments_clinician_time')
    op.drop_table('appointments')
