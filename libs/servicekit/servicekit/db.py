"""The database: one engine per URL per process, and a nameko dependency that
hands each worker its own session."""
from __future__ import annotations

import threading
from datetime import datetime, timezone

from nameko.extensions import DependencyProvider
from sqlalchemy import create_engine, event
from sqlalchemy.engine import Engine
from sqlalchemy.pool import QueuePool
from sqlalchemy.orm import Session, sessionmaker

from servicekit import config

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


# Beside the workers, a service's own background threads hold connections:
# the outbox relay, the write-behind flusher and a timer or two.
BACKGROUND_CONNECTIONS = 4


def engine_for(url: str, workers: int = config.DEFAULT_MAX_WORKERS) -> Engine:
    """The process's engine for `url` (made by the first caller, sized for
    `workers` concurrent workers)."""
    with _lock:
        if url not in _engines:
            _engines[url] = _make_engine(url, workers + BACKGROUND_CONNECTIONS)
        return _engines[url]


def _make_engine(url: str, pool_size: int) -> Engine:
    if url.startswith("sqlite"):
        # One connection per process: SQLite's busy-wait would block eventlet's
        # hub while another greenthread holds the write lock (a stall until the
        # timeout); waiting on the pool yields to the other greenthreads instead.
        engine = create_engine(url, connect_args={"timeout": 30}, hide_parameters=True,
                               poolclass=QueuePool, pool_size=1, max_overflow=0, pool_timeout=60)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    # Every worker keeps a pooled connection: no new connections after warm-up.
    # No pre-ping round trip per checkout: a connection the server dropped
    # fails its first statement, SQLAlchemy then discards the whole pool and
    # the next request reconnects (pool_recycle retires idle ones first).
    return create_engine(url, pool_size=pool_size, max_overflow=4, pool_timeout=10,
                         pool_recycle=1800, hide_parameters=True)  # no PHI in error texts


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def is_postgres(session_or_engine) -> bool:
    bind = getattr(session_or_engine, "bind", session_or_engine)
    return bind.dialect.name == "postgresql"


def utcnow() -> datetime:
    """Naive UTC, as every Cairn table stores it."""
    return datetime.now(timezone.utc).replace(tzinfo=None)


def iso(moment: datetime) -> str:
    return moment.isoformat(timespec="microseconds") + "Z"


def service_database_url(container_config: dict, service_name: str) -> str:
    return container_config.get("DATABASE_URL") or config.database_url(service_name)


class Database(DependencyProvider):
    """Injects a SQLAlchemy session; closed (and rolled back if uncommitted)
    when the worker ends."""

    def setup(self):
        url = service_database_url(self.container.config, self.container.service_name)
        self.engine = engine_for(url, self.container.max_workers)
        self.sessionmaker = sessionmaker(bind=self.engine, expire_on_commit=False)
        self.sessions: dict = {}

    def get_dependency(self, worker_ctx) -> Session:
        session = self.sessionmaker()
        self.sessions[worker_ctx] = session
        return session

    def worker_teardown(self, worker_ctx):
        session = self.sessions.pop(worker_ctx, None)
        if session is not None:
            session.close()
