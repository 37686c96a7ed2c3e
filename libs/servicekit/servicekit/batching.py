"""Rows written behind the request: a worker adds a row and returns at once;
a background greenthread inserts what has gathered in one statement and one
commit, every `flush_seconds` or sooner when `max_batch` rows wait. For
append-only records of reads (the audit trail of who looked at what), where
a page that only reads should not pay for its own INSERT and COMMIT.

What is lost on a hard crash is at most the last `flush_seconds` of rows; a
graceful stop writes everything first. While the database is away rows are
kept and retried with a growing pause (the oldest dropped with an error only
beyond `max_pending`); a row the database refuses is set aside with an
error, never blocking the rows after it."""
from __future__ import annotations

import logging

import eventlet
import eventlet.event
from nameko.extensions import DependencyProvider
from sqlalchemy import Table, insert
from sqlalchemy.exc import DataError, IntegrityError

from servicekit import config
from servicekit.db import engine_for, service_database_url

log = logging.getLogger(__name__)
MAX_BACKOFF_SECONDS = 30


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
        if len(self.rows) == self.max_batch:   # once, as the batch fills
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
        self.refused = 0

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
        """Insert everything waiting; the number of rows written. A row the
        database refuses (too long, a broken constraint) is set aside with
        an error instead of holding back every row behind it."""
        written = 0
        while self.buffer.rows:
            batch = self.buffer.take(self.max_batch)
            try:
                self._insert(batch)
            except (DataError, IntegrityError):
                written += self._insert_one_by_one(batch)
                continue
            except Exception:
                self.buffer.put_back(batch)
                raise
            written += len(batch)
        return written

    def _insert(self, rows: list[dict]) -> None:
        with self.engine.begin() as connection:
            connection.execute(insert(self.table), rows)

    def _insert_one_by_one(self, batch: list[dict]) -> int:
        written = 0
        for position, row in enumerate(batch):
            try:
                self._insert([row])
                written += 1
            except (DataError, IntegrityError) as refused:
                self.refused += 1
                log.error("write-behind row refused by %s (%s); set aside",
                          self.table.name, type(refused.orig).__name__)
            except Exception:
                self.buffer.put_back(batch[position:])
                raise
        return written

    def _poke(self):
        if not self._wake.ready():
            self._wake.send(True)

    def _run(self):
        failures = 0
        while self._running:
            # after a failure, wait longer each time (the database is away):
            # no reconnect storm, and rows are kept meanwhile
            pause = min(self.flush_seconds * 2 ** failures, MAX_BACKOFF_SECONDS)
            with eventlet.Timeout(pause, False):
                self._wake.wait()
            self._wake = eventlet.event.Event()
            failures = 0 if self._flush_logged() else failures + 1
        if not self._flush_logged() and self.buffer.rows:
            log.error("write-behind: %d row(s) for %s not written at stop",
                      len(self.buffer.rows), self.table.name)

    def _flush_logged(self) -> bool:
        try:
            self.flush()
            return True
        except Exception as exc:  # database away: keep the rows, try again later
            log.warning("write-behind insert into %s failed (%s); %d row(s) kept for a retry",
                        self.table.name, type(exc).__name__, len(self.buffer.rows))
            return False
