"""forms and consents

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 10:30:00

Form assignments (answers as JSON), consents and their insert-only
signatures. Triggers make the signed copy unalterable in the database
itself: a signature row can be neither updated nor deleted, and a consent's
text never changes, nor does a signed or revoked consent go back.
"""
from alembic import op
import sqlalchemy as sa


revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None

PG_TRIGGERS = [
    """
    CREATE FUNCTION consent_signatures_insert_only() RETURNS trigger AS $$
    BEGIN
        RAISE EXCEPTION 'a signed consent cannot be altered';
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER consent_signatures_insert_only
    BEFORE UPDATE OR DELETE ON consent_signatures
    FOR EACH ROW EXECUTE FUNCTION consent_signatures_insert_only()
    """,
    """
    CREATE FUNCTION consents_fixed_text() RETURNS trigger AS $$
    BEGIN
        IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION 'a consent cannot be deleted';
        END IF;
        IF NEW.text IS DISTINCT FROM OLD.text OR NEW.client_id IS DISTINCT FROM OLD.client_id
           OR NEW.contact_id IS DISTINCT FROM OLD.contact_id THEN
            RAISE EXCEPTION 'a consent''s text is fixed when it is requested';
        END IF;
        IF OLD.status = 'revoked' OR (OLD.status = 'signed' AND NEW.status NOT IN ('signed', 'revoked'))
           OR (OLD.signed_at IS NOT NULL AND NEW.signed_at IS DISTINCT FROM OLD.signed_at) THEN
            RAISE EXCEPTION 'a signed consent cannot be altered';
        END IF;
        RETURN NEW;
    END;
    $$ LANGUAGE plpgsql
    """,
    """
    CREATE TRIGGER consents_fixed_text
    BEFORE UPDATE OR DELETE ON consents
    FOR EACH ROW EXECUTE FUNCTION consents_fixed_text()
    """,
]

SQLITE_TRIGGERS = [
    """
    CREATE TRIGGER consent_signatures_no_update BEFORE UPDATE ON consent_signatures
    BEGIN SELECT RAISE(ABORT, 'a signed consent cannot be altered'); END
    """,
    """
    CREATE TRIGGER consent_signatures_no_delete BEFORE DELETE ON consent_signatures
    BEGIN SELECT RAISE(ABORT, 'a signed consent cannot be altered'); END
    """,
    """
    CREATE TRIGGER consents_fixed_text BEFORE UPDATE ON consents
    WHEN NEW.text IS NOT OLD.text OR NEW.client_id IS NOT OLD.client_id
         OR OLD.status = 'revoked'
         OR (OLD.status = 'signed' AND NEW.status NOT IN ('signed', 'revoked'))
    BEGIN SELECT RAISE(ABORT, 'a signed consent cannot be altered'); END
    """,
]


def upgrade() -> None:
    op.create_table('form_assignments',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('form_key', sa.String(length=40), nullable=False),
    sa.Column('form_version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('self_started', sa.Boolean(), nullable=False),
    sa.Column('request_key', sa.String(length=80), nullable=True),
    sa.Column('assigned_at', sa.DateTime(), nullable=False),
    sa.Column('assigned_by_kind', sa.String(length=10), nullable=False),
    sa.Column('assigned_by_id', sa.String(length=40), nullable=False),
    sa.Column('assigned_by_name', sa.String(length=200), nullable=False),
    sa.Column('answers', sa.JSON(), nullable=True),
    sa.Column('completed_at', sa.DateTime(), nullable=True),
    sa.Column('completed_by_kind', sa.String(length=10), nullable=True),
    sa.Column('completed_by_id', sa.String(length=40), nullable=True),
    sa.Column('completed_by_name', sa.String(length=200), nullable=True),
    sa.Column('score', sa.Integer(), nullable=True),
    sa.Column('severity', sa.String(length=30), nullable=True),
    sa.Column('severity_label', sa.String(length=60), nullable=True),
    sa.Column('flagged', sa.Boolean(), nullable=False),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_key')
    )
    op.create_index('ix_form_assignments_client_status', 'form_assignments',
                    ['client_id', 'status'], unique=False)
    op.create_index('uq_form_assignments_open_survey', 'form_assignments',
                    ['client_id', 'form_key'], unique=True,
                    postgresql_where=sa.text("self_started AND status = 'assigned'"),
                    sqlite_where=sa.text("self_started AND status = 'assigned'"))
    op.create_table('consents',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('client_id', sa.String(length=40), nullable=False),
    sa.Column('template_key', sa.String(length=40), nullable=False),
    sa.Column('template_version', sa.Integer(), nullable=False),
    sa.Column('title', sa.String(length=200), nullable=False),
    sa.Column('kind', sa.String(length=10), nullable=False),
    sa.Column('text', sa.Text(), nullable=False),
    sa.Column('status', sa.String(length=12), nullable=False),
    sa.Column('request_key', sa.String(length=80), nullable=True),
    sa.Column('requested_at', sa.DateTime(), nullable=False),
    sa.Column('requested_by_kind', sa.String(length=10), nullable=False),
    sa.Column('requested_by_id', sa.String(length=40), nullable=False),
    sa.Column('requested_by_name', sa.String(length=200), nullable=False),
    sa.Column('contact_id', sa.String(length=40), nullable=True),
    sa.Column('contact_name', sa.String(length=200), nullable=True),
    sa.Column('contact_may_receive', sa.String(length=30), nullable=True),
    sa.Column('contact_until', sa.Date(), nullable=True),
    sa.Column('signed_at', sa.DateTime(), nullable=True),
    sa.Column('signer_name', sa.String(length=200), nullable=True),
    sa.Column('revoked_at', sa.DateTime(), nullable=True),
    sa.Column('revoked_by_kind', sa.String(length=10), nullable=True),
    sa.Column('revoked_by_name', sa.String(length=200), nullable=True),
    sa.PrimaryKeyConstraint('id'),
    sa.UniqueConstraint('request_key')
    )
    op.create_index('ix_consents_client_status', 'consents', ['client_id', 'status'], unique=False)
    op.create_index(op.f('ix_consents_contact_id'), 'consents', ['contact_id'], unique=False)
    op.create_table('consent_signatures',
    sa.Column('consent_id', sa.String(length=40), nullable=False),
    sa.Column('typed_name', sa.String(length=200), nullable=False),
    sa.Column('method', sa.String(length=10), nullable=False),
    sa.Column('signed_at', sa.DateTime(), nullable=False),
    sa.Column('signer_kind', sa.String(length=10), nullable=False),
    sa.Column('signer_id', sa.String(length=40), nullable=False),
    sa.Column('signer_name', sa.String(length=200), nullable=False),
    sa.Column('ip', sa.String(length=64), nullable=False),
    sa.Column('user_agent', sa.String(length=500), nullable=False),
    sa.Column('drawing_sha256', sa.String(length=64), nullable=True),
    sa.Column('drawing_key', sa.String(length=200), nullable=True),
    sa.Column('document', sa.Text(), nullable=False),
    sa.Column('document_key', sa.String(length=200), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.ForeignKeyConstraint(['consent_id'], ['consents.id'], ),
    sa.PrimaryKeyConstraint('consent_id')
    )
    dialect = op.get_bind().dialect.name
    for statement in PG_TRIGGERS if dialect == "postgresql" else \
            SQLITE_TRIGGERS if dialect == "sqlite" else []:
        op.execute(statement)


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS consents_fixed_text ON consents")
        op.execute("DROP TRIGGER IF EXISTS consent_signatures_insert_only ON consent_signatures")
        op.execute("DROP FUNCTION IF EXISTS consents_fixed_text()")
        op.execute("DROP FUNCTION IF EXISTS consent_signatures_insert_only()")
    op.drop_table('consent_signatures')
    op.drop_index(op.f('ix_consents_contact_id'), table_name='consents')
    op.drop_index('ix_consents_client_status', table_name='consents')
    op.drop_table('consents')
    op.drop_index('uq_form_assignments_open_survey', table_name='form_assignments')
    op.drop_index('ix_form_assignments_client_status', table_name='form_assignments')
    op.drop_table('form_assignments')
