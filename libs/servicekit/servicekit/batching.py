"""Rows written behind the request: a worker adds a row and returns at once;
a background greenthread inserts what has gathered in one statement and one
commit, every `flush_seconds` or sooner when `max_batch` rows wait. For
append-only records of reads (the audit trail of who looked at what), where
a page that only reads should not pay for its own INSERT and COMMIT.

What is lost on a hard crash is at most the last `flush_seconds` of rows; a
graceful stop writes everything first. A failed insert is retried on the
next pass (rows are kept, the oldest dropped with an error only beyond
`max_pending`)."""
from __future__ import annotations

import logging

import eventlet
import eventlet.event
from nameko.extensions import DependencyProvider
from sqlalchemy import Table, insert

from servicekit import config
from servicekit.db import engine_for, service_database_url

log = logging.getLogger(__name__)


class RowBuffer:
    """What a worker gets: `add(**columns)`."""

    def __init__(self, max_batch: int, max_pending: int, wake):
        self.rows: list[dict] = []
        self.max_batch, self.max_pending, self._wake = max_batch, max_pending, wake
        self.dropped = 0

    def add(self, **columns) -> None:
        self.rows.append(columns)
        if len(self.rows) > self.max_pending:
            excess = len(self.rows) - self.max_pending
            del self.rows[:excess]
            self.dropped += excess
            log.error("write-behind buffer full: %d oldest rows dropped", excess)
        if len(self.rows) >= self.max_batch:
            self._wake()

    def take(self, limit: int) -> list[dict]:
        batch, self.rows = self.rows[:limit], self.rows[limit:]
        return batch

    def put_back(self, batch: list[dict]) -> None:
        self.rows[:0] = batch


class BatchedInserts(DependencyProvider):
    """Injects a RowBuffer whose rows land in `table` (the service's own
    database). The interval is the setting `flush_setting` (seconds)."""

    def __init__(self, table: Table, flush_setting: str = "WRITE_BEHIND_SECONDS",
                 flush_seconds: float = 0.2, max_batch: int = 500, max_pending: int = 100_000):
        self.table, self.flush_setting = table, flush_setting
        self.flush_seconds, self.max_batch, self.max_pending = flush_seconds, max_batch, max_pending

    def setup(self):
        container_config = self.container.config
        self.flush_seconds = float(config.setting(container_config, self.flush_setting,
                                                  self.flush_seconds))
        self.engine = engine_for(service_database_url(container_config, self.container.service_name),
                                 self.container.max_workers)
        self.buffer = RowBuffer(self.max_batch, self.max_pending, self._poke)
        self._wake = eventlet.event.Event()
        self._running = False

    def start(self):
        self._running = True
        self._thread = self.container.spawn_managed_thread(self._run)

    def stop(self):
        self._running = False
        self._poke()
        self._thread.wait()

    def kill(self):
        self._running = False
        self._poke()

    def get_dependency(self, worker_ctx) -> RowBuffer:
        return self.buffer

    def flush(self) -> int:
        """Insert everything waiting; the number of rows written."""
        written = 0
        while self.buffer.rows:
            batch = self.buffer.take(self.max_batch)
            try:
                with self.engine.begin() as connection:
                    connection.execute(insert(self.table), batch)
            except Exception:
                self.buffer.put_back(batch)
                raise
            written += len(batch)
        return written

    def _poke(self):
        if not self._wake.ready():
            self._wake.send(True)

    def _run(self):
        while self._running:
            with eventlet.Timeout(self.flush_seconds, False):
                self._wake.wait()
            self._wake = eventlet.event.Event()
            self._flush_logged()
        self._flush_logged()

    def _flush_logged(self) -> None:
        try:
            self.flush()
        except Exception as exc:  # database away: keep the rows, try again next pass
            log.warning("write-behind insert into %s failed (%s); will retry",
                        self.table.name, type(exc).__name__)
