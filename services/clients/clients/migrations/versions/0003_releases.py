"""releases of information: a contact's release consent and status, the
revoked release consents, and portal links for third-party contacts

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 10:15:00.000000
"""
from alembic import op
import sqlalchemy as sa


revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('release_consent_id', sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column('release_status', sa.String(length=10),
                                      server_default='none', nullable=False))
    op.create_table('revoked_releases',
    sa.Column('consent_id', sa.String(length=40), nullable=False),
    sa.Column('contact_id', sa.String(length=40), nullable=False),
    sa.Column('revoked_at', sa.DateTime(), nullable=False),
    sa.PrimaryKeyConstraint('consent_id')
    )
    with op.batch_alter_table('account_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('contact_id', sa.String(length=40), nullable=True))
        batch_op.create_foreign_key('account_clients_contact_id_fkey', 'contacts',
                                    ['contact_id'], ['id'])


def downgrade() -> None:
    op.execute("DELETE FROM account_clients WHERE relationship = 'contact'")
    with op.batch_alter_table('account_clients', schema=None) as batch_op:
        batch_op.drop_constraint('account_clients_contact_id_fkey', type_='foreignkey')
        batch_op.drop_column('contact_id')
    op.drop_table('revoked_releases')
    with op.batch_alter_table('contacts', schema=None) as batch_op:
        batch_op.drop_column('release_status')
        batch_op.drop_column('release_consent_id')
