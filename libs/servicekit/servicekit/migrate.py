"""Alembic, driven from code: every service's migrations/env.py calls `run`,
and `python -m servicekit.migrate <service>` upgrades one service to head."""
from __future__ import annotations

import sys

from alembic import command, context
from alembic.config import Config

from servicekit import config as cairn_config
from servicekit.tables import messaging_metadata

SERVICES_DIR = cairn_config.REPO_ROOT / "services"


def alembic_config(service: str, url: str | None = None) -> Config:
    package = service.replace("-", "_")
    alembic_cfg = Config()
    alembic_cfg.set_main_option(
        "script_location", str(SERVICES_DIR / service / package / "migrations"))
    alembic_cfg.set_main_option(
        "sqlalchemy.url", (url or cairn_config.database_url(service)).replace("%", "%%"))
    return alembic_cfg


def upgrade(service: str, url: str | None = None) -> None:
    command.upgrade(alembic_config(service, url), "head")


def run(service_metadata) -> None:
    """Body of a service's migrations/env.py."""
    from sqlalchemy import engine_from_config, pool

    target = [service_metadata, messaging_metadata]
    connectable = engine_from_config(
        context.config.get_section(context.config.config_ini_section, {}),
        prefix="sqlalchemy.", poolclass=pool.NullPool)
    with connectable.connect() as connection:
        context.configure(connection=connection, target_metadata=target,
                          render_as_batch=connection.dialect.name == "sqlite")
        with context.begin_transaction():
            context.run_migrations()


if __name__ == "__main__":
    for name in sys.argv[1:]:
        upgrade(name)
        print(f"migrated {name}")


def create_messaging_tables_v1() -> None:
    """The outbox and processed_events tables as first shipped; every
    service's initial migration calls this. A later change to them gets its
    own function (v2), so old migrations keep meaning what they meant."""
    import sqlalchemy as sa
    from alembic import op

    op.create_table(
        "outbox",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("event_type", sa.String(length=80), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("envelope", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("sent_at", sa.DateTime(), nullable=True),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(), nullable=True),
        sa.Column("last_error", sa.String(length=200), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
        sa.UniqueConstraint("event_id"),
    )
    op.create_index("ix_outbox_sent_at", "outbox", ["sent_at"], unique=False)
    op.create_table(
        "processed_events",
        sa.Column("event_id", sa.String(length=36), nullable=False),
        sa.Column("handler", sa.String(length=120), nullable=False),
        sa.Column("processed_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", "handler"),
    )


def drop_messaging_tables_v1() -> None:
    from alembic import op

    op.drop_table("processed_events")
    op.drop_index("ix_outbox_sent_at", table_name="outbox")
    op.drop_table("outbox")
