"""The relay publishes a batch, then awaits the batch's confirms together,
on the real RabbitMQ and a real PostgreSQL outbox."""
import json
import uuid

import eventlet
import pytest
from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange
from sqlalchemy import create_engine, insert, select
from sqlalchemy.orm import sessionmaker

import contracts
from servicekit.db import utcnow
from servicekit.outbox import BATCH, Publisher, Relay, Unroutable, record_event
from servicekit.tables import messaging_metadata, outbox
from tests.fixtures.databases import URL_HOST, _admin
from tests.support.processes import wait_until

EXCHANGE = get_event_exchange("payments", {})
CAPTURED_QUEUE = "evt-payments-PaymentCaptured--test.on_captured"


@pytest.fixture
def sessions():
    """A sessionmaker on a throwaway PostgreSQL database holding the outbox."""
    name = f"cairn_t_relay_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    engine = create_engine(f"{URL_HOST}/{name}")
    messaging_metadata.create_all(engine)
    yield sessionmaker(bind=engine)
    engine.dispose()
    _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def relays(rabbit_config, sessions):
    made = []

    def make() -> Relay:
        made.append(Relay(sessions, EXCHANGE, Publisher(rabbit_config["AMQP_URI"])))
        return made[-1]
    yield make
    for relay in made:
        relay.publisher.close()


def bind_queue(amqp_uri, name=CAPTURED_QUEUE, routing_key="PaymentCaptured", **arguments):
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        EXCHANGE(channel).declare()
        Queue(name, exchange=EXCHANGE, routing_key=routing_key, durable=True,
              queue_arguments=arguments or None)(channel).declare()


def record(sessions, count, event_type="PaymentCaptured", per_transaction=100) -> list[str]:
    ids = []
    for start in range(0, count, per_transaction):
        with sessions() as session:
            for _ in range(min(per_transaction, count - start)):
                ids.append(record_event(session, "payments", event_type,
                                        contracts.example(event_type, 1))["id"])
            session.commit()
    return ids


def take_all(amqp_uri, queue=CAPTURED_QUEUE) -> list:
    """Every message on the queue, acked."""
    messages = []
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        while (message := channel.basic_get(queue)) is not None:
            channel.basic_ack(message.delivery_tag)
            messages.append(message)
    return messages


def rows(sessions) -> dict:
    with sessions() as session:
        found = session.execute(select(outbox.c.event_id, outbox.c.sent_at, outbox.c.attempts,
                                       outbox.c.last_error)).all()
    return {row.event_id: row for row in found}


def publish_all(relay) -> list[int]:
    """Run passes until one publishes nothing; what each pass published."""
    passes = []
    while not passes or passes[-1]:
        passes.append(relay.publish_pending())
        assert len(passes) < 100, "the relay never ran dry"
    return passes[:-1]


def publish_due(relay, count, what) -> None:
    """Poll passes until `count` more rows have been sent (postponed rows
    fall due a little apart, so a pass may take only some of them)."""
    sent = 0

    def all_sent():
        nonlocal sent
        sent += relay.publish_pending()
        return sent >= count
    wait_until(all_sent, what=what)
    assert sent == count


def test_a_burst_leaves_in_batches_and_arrives_exactly_once(rabbit_config, sessions, relays):
    bind_queue(rabbit_config["AMQP_URI"])
    ids = record(sessions, 500)
    relay = relays()
    assert publish_all(relay) == [BATCH, BATCH, 500 - 2 * BATCH]
    assert relay.published_total == 500
    assert all(row.sent_at and row.attempts == 1 for row in rows(sessions).values())
    messages = take_all(rabbit_config["AMQP_URI"])
    assert sorted(m.properties["message_id"] for m in messages) == sorted(ids)
    first = messages[0]
    assert first.properties["content_type"] == "application/json"
    assert first.properties["delivery_mode"] == 2
    assert contracts.validate_envelope(json.loads(first.body))["id"] == first.properties["message_id"]


def test_an_unroutable_row_is_kept_while_the_rest_of_its_batch_is_sent(rabbit_config, sessions,
                                                                        relays):
    bind_queue(rabbit_config["AMQP_URI"])    # nothing is bound for PaymentFailed
    captured = record(sessions, 3)
    [failed] = record(sessions, 1, "PaymentFailed")
    [by_design] = record(sessions, 1, "PaymentMethodSaved")   # no consumer on purpose
    captured += record(sessions, 3)
    with sessions() as session:
        session.execute(insert(outbox).values(event_id="broken", event_type="Gone", version=9,
                                              envelope="{not json", created_at=utcnow(), attempts=0))
        session.commit()
    relay = relays()
    assert relay.publish_pending() == 7
    assert relay.unroutable_total == 1
    state = rows(sessions)
    assert all(state[i].sent_at for i in captured + [by_design])
    assert state[failed].sent_at is None and state[failed].last_error == "unroutable: no queue bound"
    assert state["broken"].sent_at is None and state["broken"].last_error.startswith("unpublishable")
    assert sorted(m.properties["message_id"] for m in take_all(rabbit_config["AMQP_URI"])) == \
        sorted(captured)

    bind_queue(rabbit_config["AMQP_URI"], "evt-payments-PaymentFailed--test.on_failed", "PaymentFailed")
    publish_due(relay, 1, what="the held event to go once its queue exists")
    assert rows(sessions)[failed].sent_at is not None


def test_nacked_messages_stay_in_the_outbox_and_go_on_a_fresh_connection(rabbit_config, sessions,
                                                                         relays):
    # a full queue that rejects new publishes makes the broker nack them
    bind_queue(rabbit_config["AMQP_URI"], **{"x-max-length": 3, "x-overflow": "reject-publish"})
    ids = record(sessions, 5)
    relay = relays()
    assert relay.publish_pending() == 3
    state = rows(sessions)
    assert all(state[i].sent_at for i in ids[:3])
    assert all(state[i].sent_at is None and state[i].last_error.startswith("publish failed: nacked")
               for i in ids[3:])
    assert relay.publisher.connection is None
    take_all(rabbit_config["AMQP_URI"])     # room again
    publish_due(relay, 2, what="the nacked rows to be retried")
    assert sorted(m.properties["message_id"] for m in take_all(rabbit_config["AMQP_URI"])) == \
        sorted(ids[3:])


def test_a_lost_connection_leaves_the_batch_unsent_for_the_next_pass(rabbit_config, rabbit_manager,
                                                                     sessions, relays):
    uri, vhost = rabbit_config["AMQP_URI"], rabbit_config["vhost"]
    bind_queue(uri)
    relay = relays()
    record(sessions, 1)
    assert relay.publish_pending() == 1             # the publisher is connected now
    take_all(uri)
    rabbit_manager.delete_vhost(vhost)               # the broker closes that connection
    ids = record(sessions, 5)
    assert relay.publish_pending() == 0
    state = rows(sessions)
    assert all(state[i].sent_at is None and state[i].last_error.startswith("publish failed")
               for i in ids)
    assert relay.publisher.connection is None
    rabbit_manager.create_vhost(vhost)
    rabbit_manager.set_vhost_permissions(vhost, rabbit_config["username"], ".*", ".*", ".*")
    bind_queue(uri)
    publish_due(relay, 5, what="a reconnect and resend")
    assert sorted(m.properties["message_id"] for m in take_all(uri)) == sorted(ids)


class MutingProxy:
    """A loopback TCP proxy to the broker that can stop passing the broker's
    replies on: publishes still arrive, their confirms never come back."""

    def __init__(self, broker=("127.0.0.1", 5672)):
        self.broker = broker
        self.listener = eventlet.listen(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.muted = False
        self.sockets = [self.listener]
        self.threads = [eventlet.spawn(self._accept)]

    def _accept(self):
        while True:
            client, _ = self.listener.accept()
            broker = eventlet.connect(self.broker)
            self.sockets += [client, broker]
            self.threads += [eventlet.spawn(self._pump, client, broker, False),
                             eventlet.spawn(self._pump, broker, client, True)]

    def _pump(self, source, sink, from_broker):
        # sockets are closed only in close(): closing one here while another
        # greenthread waits on a reused descriptor confuses eventlet's hub
        try:
            while data := source.recv(65536):
                if not (from_broker and self.muted):
                    sink.sendall(data)
        except OSError:
            pass

    def close(self):
        for thread in self.threads:
            thread.kill()
        for sock in self.sockets:
            sock.close()


def test_confirms_that_never_come_leave_the_batch_unsent_until_the_deadline(rabbit_config, sessions):
    bind_queue(rabbit_config["AMQP_URI"])
    proxy = MutingProxy()
    via_proxy = rabbit_config["AMQP_URI"].replace(":5672/", f":{proxy.port}/")
    relay = Relay(sessions, EXCHANGE, Publisher(via_proxy, confirm_timeout=0.5))
    try:
        first = record(sessions, 1)
        assert relay.publish_pending() == 1
        proxy.muted = True
        stalled = record(sessions, 3)
        assert relay.publish_pending() == 0
        state = rows(sessions)
        assert all(state[i].sent_at is None and state[i].last_error ==
                   "publish failed: no confirm within 0.5 s" for i in stalled)
        assert relay.publisher.connection is None
        proxy.muted = False
        publish_due(relay, 3, what="a resend on a new connection")
    finally:
        relay.publisher.close()
        proxy.close()
    # the muted batch did reach the broker: it is sent again, never lost
    delivered = [m.properties["message_id"] for m in take_all(rabbit_config["AMQP_URI"])]
    assert sorted(delivered) == sorted(first + stalled + stalled)


class CrashBeforeMarkingSent(Relay):
    def _mark_sent(self, session, rows):
        raise RuntimeError("killed between publish and UPDATE")


def test_a_crash_after_publishing_means_a_resend_not_a_loss(rabbit_config, sessions, relays):
    bind_queue(rabbit_config["AMQP_URI"])
    ids = record(sessions, 10)
    crashing = CrashBeforeMarkingSent(sessions, EXCHANGE, Publisher(rabbit_config["AMQP_URI"]))
    with pytest.raises(RuntimeError):
        crashing.publish_pending()
    crashing.publisher.close()
    assert all(row.sent_at is None for row in rows(sessions).values())
    assert relays().publish_pending() == 10
    delivered = [m.properties["message_id"] for m in take_all(rabbit_config["AMQP_URI"])]
    assert sorted(delivered) == sorted(ids + ids)   # twice: consumers dedupe on the id


def test_two_relays_on_one_outbox_never_publish_a_row_twice(rabbit_config, sessions, relays):
    bind_queue(rabbit_config["AMQP_URI"])
    ids = record(sessions, 1000)
    first, second = relays(), relays()
    passes = [eventlet.spawn(publish_all, first), eventlet.spawn(publish_all, second)]
    counts = [sum(thread.wait()) for thread in passes]
    assert sum(counts) == 1000 and all(counts), counts   # both took a share
    assert sorted(m.properties["message_id"] for m in take_all(rabbit_config["AMQP_URI"])) == sorted(ids)


def test_publishing_one_message_says_whether_it_was_routed(rabbit_config):
    bind_queue(rabbit_config["AMQP_URI"])
    publisher = Publisher(rabbit_config["AMQP_URI"])
    try:
        routed = contracts.make_envelope("payments", "PaymentCaptured",
                                         contracts.example("PaymentCaptured", 1), 1)
        publisher.publish(routed, EXCHANGE, mandatory=True)
        nowhere = contracts.make_envelope("payments", "PaymentFailed",
                                          contracts.example("PaymentFailed", 1), 1)
        with pytest.raises(Unroutable):
            publisher.publish(nowhere, EXCHANGE, mandatory=True)
    finally:
        publisher.close()
    assert [m.properties["message_id"] for m in take_all(rabbit_config["AMQP_URI"])] == [routed["id"]]
