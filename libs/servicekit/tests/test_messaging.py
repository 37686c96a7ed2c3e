"""The outbox relay and the reliable handler on the real RabbitMQ."""
import json

import pytest
from kombu import Connection
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine, select

import contracts
from servicekit.db import Database
from servicekit.events import handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay, record_event
from servicekit.tables import messaging_metadata, outbox
from tests.support.processes import wait_until

CAPTURED = contracts.example("PaymentCaptured", 1)   # any contracted event will do


class PaymentsLike:
    name = "payments"
    db = Database()
    relay = OutboxRelay(poll_seconds=0.1)

    @rpc
    def capture(self, amount):
        record_event(self.db, "payments", "PaymentCaptured",
                     {**CAPTURED, "amount": {"amount": amount, "currency": "usd"}})
        self.db.commit()


class Ledger:
    name = "ledger"
    db = Database()
    seen = []
    fail_times = {"n": 0}

    @handles("payments", "PaymentCaptured")
    def on_captured(self, envelope):
        if Ledger.fail_times["n"] > 0:
            Ledger.fail_times["n"] -= 1
            raise RuntimeError("transient")
        handle_once(self.db, envelope, "ledger.on_captured",
                    lambda data: Ledger.seen.append(data["amount"]["amount"]))


def sqlite_url(tmp_path, name):
    url = f"sqlite:///{tmp_path / name}.db"
    messaging_metadata.create_all(create_engine(url))
    return url


@pytest.fixture
def config(rabbit_config):
    Ledger.seen.clear()
    Ledger.fail_times["n"] = 0
    return {**rabbit_config, "EVENT_RETRY_DELAYS_MS": [50, 100]}


def dead_count(config, queue):
    with Connection(config["AMQP_URI"]) as conn:
        return conn.default_channel.queue_declare(queue + ".dead", passive=True).message_count


def pending(url):
    with create_engine(url).connect() as conn:
        return conn.execute(select(outbox.c.event_type, outbox.c.last_error)
                            .where(outbox.c.sent_at.is_(None))).all()


def test_event_reaches_handler_once_even_if_redelivered(container_factory, config, tmp_path):
    producer = container_factory(PaymentsLike, {**config, "DATABASE_URL": sqlite_url(tmp_path, "p")})
    consumer = container_factory(Ledger, {**config, "DATABASE_URL": sqlite_url(tmp_path, "l")})
    consumer.start()
    producer.start()
    with ServiceRpcProxy("payments", config) as payments:
        payments.capture(700)
    wait_until(lambda: Ledger.seen == [700], what="handler to apply the event")
    row = create_engine(f"sqlite:///{tmp_path / 'p'}.db").connect().execute(
        select(outbox.c.envelope)).one()
    envelope = json.loads(row.envelope)
    from nameko.standalone.events import event_dispatcher
    event_dispatcher(config)("payments", "PaymentCaptured", envelope)  # a duplicate delivery
    with ServiceRpcProxy("payments", config) as payments:
        payments.capture(800)
    wait_until(lambda: Ledger.seen == [700, 800], what="second event")


def test_unroutable_event_stays_in_the_outbox_until_a_queue_exists(container_factory, config, tmp_path):
    url = sqlite_url(tmp_path, "p")
    producer = container_factory(PaymentsLike, {**config, "DATABASE_URL": url})
    producer.start()
    with ServiceRpcProxy("payments", config) as payments:
        payments.capture(100)
    wait_until(lambda: any(r.last_error and "unroutable" in r.last_error for r in pending(url)),
               what="relay to find the event unroutable")
    consumer = container_factory(Ledger, {**config, "DATABASE_URL": sqlite_url(tmp_path, "l")})
    consumer.start()
    wait_until(lambda: Ledger.seen == [100], timeout=15, what="held event to be delivered")
    wait_until(lambda: pending(url) == [], what="the outbox to mark it sent")


def test_failing_handler_is_retried_then_succeeds(container_factory, config, tmp_path):
    Ledger.fail_times["n"] = 2
    producer = container_factory(PaymentsLike, {**config, "DATABASE_URL": sqlite_url(tmp_path, "p")})
    consumer = container_factory(Ledger, {**config, "DATABASE_URL": sqlite_url(tmp_path, "l")})
    consumer.start()
    producer.start()
    with ServiceRpcProxy("payments", config) as payments:
        payments.capture(300)
    wait_until(lambda: Ledger.seen == [300], what="retried handler to succeed")


def test_handler_that_keeps_failing_is_dead_lettered_and_replayable(container_factory, config, tmp_path):
    from servicekit.deadletters import replay
    Ledger.fail_times["n"] = 3  # first try + two retries
    producer = container_factory(PaymentsLike, {**config, "DATABASE_URL": sqlite_url(tmp_path, "p")})
    consumer = container_factory(Ledger, {**config, "DATABASE_URL": sqlite_url(tmp_path, "l")})
    consumer.start()
    producer.start()
    with ServiceRpcProxy("payments", config) as payments:
        payments.capture(400)
    queue = "evt-payments-PaymentCaptured--ledger.on_captured"
    wait_until(lambda: dead_count(config, queue) == 1, what="message on the dead-letter queue")
    assert Ledger.seen == []
    with Connection(config["AMQP_URI"]) as conn:
        assert replay(conn, queue) == 1
    wait_until(lambda: Ledger.seen == [400], what="replayed message to be handled")


def test_event_breaking_its_contract_is_dead_lettered(container_factory, config, tmp_path):
    consumer = container_factory(Ledger, {**config, "DATABASE_URL": sqlite_url(tmp_path, "l")})
    consumer.start()
    from nameko.standalone.events import event_dispatcher
    bad = contracts.make_envelope("payments", "PaymentCaptured", CAPTURED, 1)
    bad["data"] = {**bad["data"], "amount": {"amount": 1.5, "currency": "usd"}}
    event_dispatcher(config)("payments", "PaymentCaptured", bad)
    queue = "evt-payments-PaymentCaptured--ledger.on_captured"
    wait_until(lambda: dead_count(config, queue) == 1, what="contract breach to be parked")
    assert Ledger.seen == []


def test_a_row_that_cannot_be_published_does_not_hold_back_the_others(container_factory, config, tmp_path):
    from sqlalchemy import insert
    from servicekit.db import utcnow
    url = sqlite_url(tmp_path, "p")
    with create_engine(url).begin() as connection:
        connection.execute(insert(outbox).values(event_id="broken", event_type="Gone", version=9,
                                                 envelope="{not json", created_at=utcnow(), attempts=0))
    consumer = container_factory(Ledger, {**config, "DATABASE_URL": sqlite_url(tmp_path, "l")})
    consumer.start()
    producer = container_factory(PaymentsLike, {**config, "DATABASE_URL": url})
    producer.start()
    with ServiceRpcProxy("payments", config) as payments:
        payments.capture(900)
    wait_until(lambda: Ledger.seen == [900], what="the good event to be delivered")
    [(event_type, error)] = wait_until(lambda: pending(url) if len(pending(url)) == 1 else None,
                                       what="only the broken row to stay in the outbox")
    assert event_type == "Gone" and error.startswith("unpublishable")


def test_an_event_newer_than_its_handler_reads_is_parked_not_dropped(container_factory, config,
                                                                     tmp_path):
    """During an upgrade an old consumer may see a version it cannot read:
    it keeps it on the dead-letter queue for replay once it is upgraded."""
    from nameko.standalone.events import event_dispatcher
    url = sqlite_url(tmp_path, "ledger-newer")
    container_factory(Ledger, {**config, "DATABASE_URL": url}).start()
    newer = contracts.make_envelope("payments", "PaymentCaptured",
                                    contracts.example("PaymentCaptured", 2), 2)
    event_dispatcher(config)("payments", "PaymentCaptured", newer)
    queue = "evt-payments-PaymentCaptured--ledger.on_captured"

    def parked():
        with Connection(config["AMQP_URI"]) as connection:
            return connection.default_channel.queue_declare(f"{queue}.dead", passive=True).message_count
    wait_until(parked, what="the newer event on the dead-letter queue")
    assert Ledger.seen == []
