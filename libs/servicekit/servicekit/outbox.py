"""Transactional outbox. `record_event` writes the event in the caller's
transaction; `OutboxRelay` publishes committed rows with publisher confirms
and `mandatory`, so an event nobody can receive stays in the outbox."""
from __future__ import annotations

import json
import logging
from datetime import timedelta
from typing import Callable

import eventlet
import eventlet.event
from kombu import Connection, Producer
from nameko.extensions import DependencyProvider
from nameko.standalone.events import get_event_exchange
from sqlalchemy import event, insert, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

import contracts
from servicekit.db import engine_for, is_postgres, service_database_url, utcnow
from servicekit.tables import outbox

log = logging.getLogger(__name__)

BATCH = 200
MAX_BACKOFF_SECONDS = 60


# database URL -> wakes that database's relay; set by OutboxRelay.setup
_wakers: dict[str, Callable[[], None]] = {}


def record_event(session: Session, source: str, event_type: str, data: dict,
                 version: int = 1) -> dict:
    """Add an event to the outbox inside the caller's transaction; the relay
    is woken as soon as that transaction commits."""
    envelope = contracts.make_envelope(source, event_type, data, version)
    session.execute(insert(outbox).values(
        event_id=envelope["id"], event_type=event_type, version=version,
        envelope=json.dumps(envelope), created_at=utcnow(), attempts=0))
    _wake_relay_after_commit(session)
    return envelope


def _wake_relay_after_commit(session: Session) -> None:
    wake = _wakers.get(str(session.get_bind().url))
    if wake is None or session.info.get("cairn_relay_wake"):
        return
    session.info["cairn_relay_wake"] = True

    def after_commit(committed):
        committed.info.pop("cairn_relay_wake", None)
        wake()
    event.listen(session, "after_commit", after_commit, once=True)


class Unroutable(Exception):
    """The broker returned the message: no queue is bound for it yet."""


class Publisher:
    """One confirmed channel to the broker; tells whether a message was routed."""

    def __init__(self, amqp_uri: str):
        self.amqp_uri = amqp_uri
        self.connection = None
        self.returned: set[str] = set()

    def _producer(self) -> Producer:
        if self.connection is None:
            self.connection = Connection(
                self.amqp_uri, transport_options={"confirm_publish": True})
            channel = self.connection.default_channel
            channel.events["basic_return"].add(self._on_return)
        return Producer(self.connection.default_channel)

    def _on_return(self, _exc, _exchange, _routing_key, message):
        self.returned.add(message.properties.get("message_id"))

    def publish(self, envelope: dict, exchange, mandatory: bool) -> None:
        message_id = envelope["id"]
        self._producer().publish(
            envelope, exchange=exchange, routing_key=envelope["type"],
            serializer="json", delivery_mode=2, mandatory=mandatory,
            message_id=message_id, declare=[exchange], retry=False)
        if message_id in self.returned:
            self.returned.discard(message_id)
            raise Unroutable(envelope["type"])

    def close(self) -> None:
        if self.connection is not None:
            self.connection.release()
            self.connection = None


class Relay:
    """Publishes pending outbox rows. Safe with several copies running: rows
    are claimed with FOR UPDATE SKIP LOCKED on PostgreSQL."""

    def __init__(self, sessionmaker_: sessionmaker, exchange, publisher: Publisher):
        self.sessionmaker = sessionmaker_
        self.exchange = exchange
        self.publisher = publisher
        self.unroutable_total = 0
        self.published_total = 0

    def publish_pending(self) -> int:
        with self.sessionmaker() as session:
            rows = session.execute(self._claim_query(session)).all()
            published = 0
            for row in rows:
                published += self._publish_row(session, row)
            session.commit()
            return published

    def _claim_query(self, session: Session):
        now = utcnow()
        query = (select(outbox.c.seq, outbox.c.envelope, outbox.c.attempts)
                 .where(outbox.c.sent_at.is_(None))
                 .where(or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
                 .order_by(outbox.c.seq).limit(BATCH))
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        return query

    def _publish_row(self, session: Session, row) -> int:
        try:
            envelope = json.loads(row.envelope)
            mandatory = contracts.has_consumer(envelope["type"], envelope["version"])
        except (ValueError, KeyError, contracts.ContractError) as exc:
            log.error("outbox row %s cannot be published: %s", row.seq, exc)
            self._postpone(session, row, f"unpublishable: {type(exc).__name__}")
            return 0
        try:
            self.publisher.publish(envelope, self.exchange, mandatory)
        except Unroutable:
            self.unroutable_total += 1
            log.warning("event %s (%s) unroutable: no queue bound; kept in outbox",
                        envelope["id"], envelope["type"])
            self._postpone(session, row, "unroutable: no queue bound")
            return 0
        except Exception as exc:  # broker down, channel closed: retry later
            self.publisher.close()
            log.warning("publishing event %s failed: %s", envelope["id"], exc)
            self._postpone(session, row, f"publish failed: {type(exc).__name__}")
            return 0
        session.execute(update(outbox).where(outbox.c.seq == row.seq)
                        .values(sent_at=utcnow(), attempts=row.attempts + 1))
        self.published_total += 1
        return 1

    @staticmethod
    def _postpone(session: Session, row, error: str) -> None:
        delay = min(0.5 * 2 ** row.attempts, MAX_BACKOFF_SECONDS)
        session.execute(update(outbox).where(outbox.c.seq == row.seq).values(
            attempts=row.attempts + 1, last_error=error,
            next_attempt_at=utcnow() + timedelta(seconds=delay)))


class OutboxRelay(DependencyProvider):
    """Runs the relay in the service: woken when a transaction that recorded
    an event commits (so events leave at once), and on a short poll that
    catches anything left over (a crash, a broker outage, an unroutable
    event waiting for its queue)."""

    def __init__(self, poll_seconds: float = 0.5):
        self.poll_seconds = poll_seconds

    def setup(self):
        config = self.container.config
        engine = engine_for(service_database_url(config, self.container.service_name))
        exchange = get_event_exchange(self.container.service_name, config)
        self.publisher = Publisher(config["AMQP_URI"])
        self.relay = Relay(sessionmaker(bind=engine), exchange, self.publisher)
        self._wake = eventlet.event.Event()
        self._running = False
        _wakers[str(engine.url)] = self._poke

    def start(self):
        self._running = True
        self.container.spawn_managed_thread(self._run)

    def stop(self):
        self._running = False
        self._poke()

    def kill(self):
        self.stop()

    def get_dependency(self, worker_ctx):
        return self.relay

    def _poke(self):
        if not self._wake.ready():
            self._wake.send(True)

    def _run(self):
        while self._running:
            try:
                while self.relay.publish_pending() == BATCH:
                    pass
            except Exception:
                log.exception("outbox relay pass failed; will retry")
            with eventlet.Timeout(self.poll_seconds, False):
                self._wake.wait()
            self._wake = eventlet.event.Event()
        self.publisher.close()
