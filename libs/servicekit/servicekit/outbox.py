"""Transactional outbox. `record_event` writes the event in the caller's
transaction; `OutboxRelay` publishes committed rows in batches with
`mandatory`, awaits the batch's publisher confirms together, and marks sent
only what the broker confirmed and routed, so an event nobody can receive
stays in the outbox."""
from __future__ import annotations

import json
import logging
import socket
import time
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Callable

import eventlet
import eventlet.event
from kombu import Connection
from kombu.serialization import dumps
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
CONFIRM_TIMEOUT_SECONDS = 10


# database URL -> wakes that database's relay; set by OutboxRelay.setup
_wakers: dict[str, Callable[[], None]] = {}
_INSERT = insert(outbox)


def record_event(session: Session, source: str, event_type: str, data: dict,
                 version: int = 1) -> dict:
    """Add an event to the outbox inside the caller's transaction; the relay
    is woken as soon as that transaction commits."""
    envelope = contracts.make_envelope(source, event_type, data, version)
    # parameters apart from the statement: half the CPU of .values(...)
    session.execute(_INSERT, {
        "event_id": envelope["id"], "event_type": event_type, "version": version,
        "envelope": json.dumps(envelope), "created_at": utcnow(), "attempts": 0})
    _wake_relay_after_commit(session)
    return envelope


def record_events(session: Session, source: str, event_type: str, datas: list[dict],
                  version: int = 1) -> list[dict]:
    """Many events of one type in the caller's transaction, in one INSERT
    (batch work: a chunk of statements and their events commit together)."""
    envelopes = [contracts.make_envelope(source, event_type, data, version) for data in datas]
    if envelopes:
        now = utcnow()
        session.execute(_INSERT, [{
            "event_id": envelope["id"], "event_type": event_type, "version": version,
            "envelope": json.dumps(envelope), "created_at": now, "attempts": 0}
            for envelope in envelopes])
        _wake_relay_after_commit(session)
    return envelopes


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


class PublishFailed(Exception):
    """The broker did not confirm the message (nack, timeout, lost connection)."""


@dataclass
class Confirmed:
    """What the broker said about one batch, by envelope id."""
    sent: set[str] = field(default_factory=set)          # routed and acked
    unroutable: set[str] = field(default_factory=set)    # returned, then acked
    failed: dict[str, str] = field(default_factory=dict)  # id -> why not confirmed


class Publisher:
    """One confirm-mode channel. A batch is published in one go and its
    confirms are awaited together: the broker, not a round trip per message,
    sets the pace."""

    def __init__(self, amqp_uri: str, confirm_timeout: float = CONFIRM_TIMEOUT_SECONDS):
        self.amqp_uri = amqp_uri
        self.confirm_timeout = confirm_timeout
        self.connection = None
        self.channel = None
        self._next_tag = 1
        self._declared: set[str] = set()
        self._start_batch()

    def publish_batch(self, batch: list[tuple[dict, bool]], exchange) -> Confirmed:
        """Publish each (envelope, mandatory), then wait for all their
        confirms; writes and confirms together get `confirm_timeout`."""
        self._start_batch()
        deadline = time.monotonic() + self.confirm_timeout
        error = None
        try:
            channel = self._open(exchange)
            for envelope, mandatory in batch:
                self._send(channel, envelope, exchange, mandatory, deadline)
            self._await_confirms(deadline)
        except Exception as exc:  # broker down, connection or channel closed
            log.warning("publishing a batch of %d event(s) failed: %r", len(batch), exc)
            error = f"publish failed: {type(exc).__name__}"
        if error or self._unconfirmed or self._nacked:
            self._drop()  # the next pass starts on a fresh connection
        return self._outcome(batch, error or
                             f"publish failed: no confirm within {self.confirm_timeout:g} s")

    def publish(self, envelope: dict, exchange, mandatory: bool) -> None:
        """One message: raises Unroutable or PublishFailed unless it was routed."""
        confirmed = self.publish_batch([(envelope, mandatory)], exchange)
        if envelope["id"] in confirmed.unroutable:
            raise Unroutable(envelope["type"])
        if envelope["id"] in confirmed.failed:
            raise PublishFailed(confirmed.failed[envelope["id"]])

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.release()
            except Exception:  # already broken: nothing left to release
                pass
            self.connection = self.channel = None

    def _drop(self) -> None:
        """Close the socket without the AMQP close handshake, which waits
        for the broker without a timeout (a stalled broker would hang us)."""
        if self.connection is not None:
            try:
                self.connection.collect()
            except Exception:
                pass
            self.connection = self.channel = None

    def _start_batch(self) -> None:
        self._unconfirmed: dict[int, str] = {}   # delivery tag -> envelope id
        self._acked: set[str] = set()
        self._nacked: set[str] = set()
        self._returned: set[str] = set()

    def _open(self, exchange):
        if self.connection is None:
            self.connection = Connection(self.amqp_uri)
            self.connection.connect()
            # py-amqp's own channel: kombu's default_channel would reconnect
            # silently, onto a channel without confirms
            self.channel = self.connection.connection.channel()
            self.channel.confirm_select()
            self.channel.events["basic_ack"].add(self._on_ack)
            self.channel.events["basic_nack"].add(self._on_nack)
            self.channel.events["basic_return"].add(self._on_return)
            self._next_tag = 1  # confirm mode numbers a channel's publishes from 1
            self._declared = set()
        if exchange.name not in self._declared:
            exchange(self.channel).declare()
            self._declared.add(exchange.name)
        return self.channel

    def _send(self, channel, envelope: dict, exchange, mandatory: bool, deadline: float) -> None:
        content_type, content_encoding, body = dumps(envelope, serializer="json")
        message = channel.prepare_message(
            body, content_type=content_type, content_encoding=content_encoding, headers={},
            properties={"delivery_mode": 2, "message_id": envelope["id"]})
        # a broker that stops reading (memory alarm) must not hold us past the deadline
        channel.basic_publish(message, exchange=exchange.name, routing_key=envelope["type"],
                              mandatory=mandatory, timeout=max(deadline - time.monotonic(), 0.001))
        self._unconfirmed[self._next_tag] = envelope["id"]
        self._next_tag += 1

    def _await_confirms(self, deadline: float) -> None:
        while self._unconfirmed:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            try:
                self.channel.connection.drain_events(timeout=remaining)
            except socket.timeout:
                return

    def _on_ack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self._acked)

    def _on_nack(self, delivery_tag: int, multiple: bool) -> None:
        self._settle(delivery_tag, multiple, self._nacked)

    def _settle(self, delivery_tag: int, multiple: bool, into: set[str]) -> None:
        tags = [t for t in self._unconfirmed if t <= delivery_tag] if multiple else [delivery_tag]
        for tag in tags:
            if tag in self._unconfirmed:
                into.add(self._unconfirmed.pop(tag))

    def _on_return(self, _exc, _exchange, _routing_key, message) -> None:
        # a return always comes before the ack of the same message
        self._returned.add(message.properties.get("message_id"))

    def _outcome(self, batch: list[tuple[dict, bool]], error: str) -> Confirmed:
        confirmed = Confirmed()
        for envelope, _ in batch:
            event_id = envelope["id"]
            if event_id in self._acked and event_id in self._returned:
                confirmed.unroutable.add(event_id)
            elif event_id in self._acked:
                confirmed.sent.add(event_id)
            elif event_id in self._nacked:
                confirmed.failed[event_id] = "publish failed: nacked by the broker"
            else:
                confirmed.failed[event_id] = error
        return confirmed


class Relay:
    """Publishes pending outbox rows a batch at a time. Safe with several
    copies running: rows are claimed with FOR UPDATE SKIP LOCKED on
    PostgreSQL and stay locked until the broker has confirmed them and they
    are marked sent; a crash in between only means they are sent again
    (consumers are idempotent on the event id)."""

    def __init__(self, sessionmaker_: sessionmaker, exchange, publisher: Publisher):
        self.sessionmaker = sessionmaker_
        self.exchange = exchange
        self.publisher = publisher
        self.unroutable_total = 0
        self.published_total = 0

    def publish_pending(self) -> int:
        """One pass over at most BATCH due rows; returns how many were sent."""
        with self.sessionmaker() as session:
            batch = self._publishable(session, session.execute(self._claim_query(session)).all())
            confirmed = self._publish(batch)
            self._mark_sent(session, [row for row, envelope, _ in batch
                                      if envelope["id"] in confirmed.sent])
            self._postpone_unconfirmed(session, batch, confirmed)
            session.commit()
            return len(confirmed.sent)

    def _publish(self, batch) -> Confirmed:
        if not batch:
            return Confirmed()
        return self.publisher.publish_batch(
            [(envelope, mandatory) for _, envelope, mandatory in batch], self.exchange)

    def _claim_query(self, session: Session):
        now = utcnow()
        query = (select(outbox.c.seq, outbox.c.envelope, outbox.c.attempts)
                 .where(outbox.c.sent_at.is_(None))
                 .where(or_(outbox.c.next_attempt_at.is_(None), outbox.c.next_attempt_at <= now))
                 .order_by(outbox.c.seq).limit(BATCH))
        if is_postgres(session):
            query = query.with_for_update(skip_locked=True)
        return query

    def _publishable(self, session: Session, rows) -> list[tuple]:
        """(row, envelope, mandatory) for each row that can be published; the
        others are postponed and do not hold back the batch."""
        batch = []
        for row in rows:
            try:
                envelope = json.loads(row.envelope)
                batch.append((row, envelope,
                              contracts.has_consumer(envelope["type"], envelope["version"])))
            except (ValueError, KeyError, TypeError, contracts.ContractError) as exc:
                log.error("outbox row %s cannot be published: %s", row.seq, exc)
                self._postpone(session, row, f"unpublishable: {type(exc).__name__}")
        return batch

    def _mark_sent(self, session: Session, rows) -> None:
        if rows:
            session.execute(update(outbox).where(outbox.c.seq.in_([row.seq for row in rows]))
                            .values(sent_at=utcnow(), attempts=outbox.c.attempts + 1))
            self.published_total += len(rows)

    def _postpone_unconfirmed(self, session: Session, batch, confirmed: Confirmed) -> None:
        for row, envelope, _ in batch:
            if envelope["id"] in confirmed.unroutable:
                self.unroutable_total += 1
                log.warning("event %s (%s) unroutable: no queue bound; kept in outbox",
                            envelope["id"], envelope["type"])
                self._postpone(session, row, "unroutable: no queue bound")
            elif envelope["id"] in confirmed.failed:
                self._postpone(session, row, confirmed.failed[envelope["id"]])
        if confirmed.failed:
            log.warning("%d event(s) not confirmed by the broker (%s); kept in outbox",
                        len(confirmed.failed), next(iter(confirmed.failed.values())))

    @staticmethod
    def _postpone(session: Session, row, error: str) -> None:
        delay = min(0.5 * 2 ** row.attempts, MAX_BACKOFF_SECONDS)
        session.execute(update(outbox).where(outbox.c.seq == row.seq).values(
            attempts=row.attempts + 1, last_error=error[:200],
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
        engine = engine_for(service_database_url(config, self.container.service_name),
                            self.container.max_workers)
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
