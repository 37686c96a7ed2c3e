"""`handles(source, event_type)`: a nameko event handler that never loses a
message. The envelope is checked against its contract and upcast to the
version the handler understands; a handler that raises is retried after a
growing delay (a TTL'd retry queue dead-letters the message back), and after
the last retry it is parked on `<queue>.dead` for an operator to replay."""
from __future__ import annotations

import logging

from kombu import Connection, Exchange, Producer, Queue
from nameko.events import BROADCAST, SERVICE_POOL, EventHandler
from nameko.messaging import QueueConsumer

import contracts
from servicekit import config

log = logging.getLogger(__name__)

ATTEMPTS_HEADER = "x-cairn-attempts"
DEFAULT_EXCHANGE = Exchange("")


def retry_queue_name(queue_name: str, attempt: int) -> str:
    return f"{queue_name}.retry{attempt}"


def dead_queue_name(queue_name: str) -> str:
    return f"{queue_name}.dead"


def side_queues(queue_name: str, delays_ms: list[int]) -> list[Queue]:
    """The retry queues (one per attempt, each with its own TTL) and the
    dead-letter queue that belong to a handler's queue."""
    retries = [
        Queue(retry_queue_name(queue_name, attempt), exchange=DEFAULT_EXCHANGE,
              routing_key=retry_queue_name(queue_name, attempt), durable=True,
              queue_arguments={"x-message-ttl": delay,
                               "x-dead-letter-exchange": "",
                               "x-dead-letter-routing-key": queue_name})
        for attempt, delay in enumerate(delays_ms, start=1)
    ]
    dead = Queue(dead_queue_name(queue_name), exchange=DEFAULT_EXCHANGE,
                 routing_key=dead_queue_name(queue_name), durable=True)
    return retries + [dead]


class ReliableEventHandler(EventHandler):

    def __init__(self, source_service, event_type, version=1, **kwargs):
        self.version = version
        super().__init__(source_service, event_type, handler_type=SERVICE_POOL,
                         reliable_delivery=True, requeue_on_error=False, **kwargs)

    def setup(self):
        super().setup()
        self.delays_ms = self.container.config.get("EVENT_RETRY_DELAYS_MS") or config.retry_delays_ms()
        self.amqp_uri = self.container.config["AMQP_URI"]
        with Connection(self.amqp_uri) as connection:
            for queue in [self.queue] + side_queues(self.queue.name, self.delays_ms):
                queue.bind(connection.default_channel).declare()

    def handle_message(self, body, message):
        try:
            envelope = contracts.validate_envelope(body)
            if envelope["version"] > self.version:
                # a version this (older) handler cannot read: kept, never
                # dropped — replay it (`make dlq-replay`) once this service is
                # upgraded; the inbox makes a replayed event change things once
                log.warning("event %s on %s is version %d, newer than this handler reads; "
                            "parked for replay after an upgrade", envelope["id"], self.queue.name,
                            envelope["version"])
                self._park(message, body, f"version {envelope['version']} is newer than "
                                          f"{self.version}")
                self.queue_consumer.ack_message(message)
                return
            envelope = contracts.upcast(envelope, self.version)
        except contracts.ContractError as exc:
            log.error("event on %s breaks its contract (%s); dead-lettered", self.queue.name, exc)
            self._park(message, body, f"contract: {exc}")
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(envelope, message)

    def handle_message_processed(self, message, result=None, exc_info=None):
        if exc_info is not None:
            attempts = int((message.headers or {}).get(ATTEMPTS_HEADER, 0)) + 1
            try:
                if attempts <= len(self.delays_ms):
                    self._retry_later(message, attempts)
                else:
                    self._park(message, message.payload, repr(exc_info[1])[:300])
            except Exception:
                log.exception("could not schedule a retry; requeueing instead")
                self.queue_consumer.requeue_message(message)
                return
        self.queue_consumer.ack_message(message)

    def _retry_later(self, message, attempts: int) -> None:
        log.warning("handler for %s failed (attempt %d); retrying in %d ms",
                    self.queue.name, attempts, self.delays_ms[attempts - 1])
        self._republish(message, message.payload, retry_queue_name(self.queue.name, attempts),
                        {ATTEMPTS_HEADER: attempts})

    def _park(self, message, body, reason: str) -> None:
        log.error("event on %s dead-lettered: %s", self.queue.name, reason)
        self._republish(message, body, dead_queue_name(self.queue.name),
                        {"x-cairn-error": reason})

    def _republish(self, message, body, queue_name: str, extra_headers: dict) -> None:
        headers = {**(message.headers or {}), **extra_headers}
        with Connection(self.amqp_uri, transport_options={"confirm_publish": True}) as conn:
            Producer(conn.default_channel).publish(
                body, exchange=DEFAULT_EXCHANGE, routing_key=queue_name, serializer="json",
                delivery_mode=2, headers=headers, retry=True, retry_policy={"max_retries": 3})


handles = ReliableEventHandler.decorator


class _BroadcastConsumer(QueueConsumer):
    """The broadcast handlers' own consumer (and broker connection), which
    tells them each time it is connected: whatever was broadcast while it was
    away is lost with its auto-deleted queue."""

    def get_consumers(self, consumer_cls, channel):
        consumers = super().get_consumers(consumer_cls, channel)   # after any (re)connection
        for provider in list(self._providers):
            provider.connected()
        return consumers


class BroadcastHandler(EventHandler):
    """Every running copy of the service gets the event (each on its own
    exclusive, auto-deleted queue), while it runs: for dropping what a copy
    cached in memory, never for work that must happen once. The handler gets
    the envelope's `data`; a malformed event is logged and ignored. Each time
    the copy (re)connects to the broker the handler is called with `None`:
    events may have been missed, so forget everything."""
    queue_consumer = _BroadcastConsumer()

    def __init__(self, source_service, event_type, **kwargs):
        super().__init__(source_service, event_type, handler_type=BROADCAST,
                         reliable_delivery=False, requeue_on_error=False, **kwargs)

    def connected(self) -> None:
        self.container.spawn_worker(self, (None,), {})

    def handle_message(self, body, message):
        try:
            envelope = contracts.validate_envelope(body)
        except contracts.ContractError as exc:
            log.warning("broadcast %s ignored: %s", self.event_type, exc)
            self.queue_consumer.ack_message(message)
            return
        super().handle_message(envelope["data"], message)


broadcast = BroadcastHandler.decorator
