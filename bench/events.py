"""Events benchmark: Cairn's outbox → relay → idempotent handler, next to the
broker's floor measured in the same run on the same machine.

    .venv/bin/python bench/events.py [--count N]

From code (e.g. bench/run.py):

    figures = events.run(amqp_uri_base, rabbit_api, pg_url_factory, count=5000)

- amqp_uri_base: the broker without a vhost, "amqp://guest:guest@127.0.0.1:5672"
- rabbit_api: the management API, "http://guest:guest@127.0.0.1:15672/api"
- pg_url_factory(service) -> URL of a fresh PostgreSQL database (e.g.
  tests.fixtures.databases.Databases().fresh); the caller drops them after.
Returns a dict of figures; `report(figures)` formats them.

Phases, each on its own throwaway vhost, all end to end (first publish or
first write → last message handled), with the consumer in its own process:
  floor A  persistent publish, awaiting each confirm; bare kombu consumer
  floor B  the same, awaiting confirms per batch of 100
  Cairn    `record_event` in transactions of 100 in a nameko service whose
           `OutboxRelay` publishes them; a nameko service with a servicekit
           `handles(...)` handler records each event id in processed_events
           together with an effect row (servicekit.inbox.handle_once)
This process only orchestrates; the Cairn processes run under eventlet.
"""
from __future__ import annotations

import sys

CAIRN_CHILD = __name__ == "__main__" and sys.argv[1:2] == ["--child"] and \
    sys.argv[2].startswith("cairn-")
if CAIRN_CHILD:  # a Cairn service process: green sockets before any is opened
    import eventlet

    eventlet.monkey_patch()

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import subprocess  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from contextlib import contextmanager  # noqa: E402
from datetime import timezone  # noqa: E402
from pathlib import Path  # noqa: E402

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]

import requests  # noqa: E402
from kombu import Connection, Consumer, Exchange, Queue  # noqa: E402
from sqlalchemy import Column, Integer, MetaData, String, Table, create_engine, func, select  # noqa: E402

import contracts  # noqa: E402
from servicekit.tables import messaging_metadata, outbox, processed_events  # noqa: E402

AMQP = "amqp://guest:guest@127.0.0.1:5672"
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
PER_TRANSACTION = 100
CONFIRM_BATCH = 100
FLOOR_PREFETCH = 100
HANDLER_QUEUE = "evt-payments-PaymentCaptured--bench_ledger.on_captured"

bench_metadata = MetaData()
effects = Table("bench_effects", bench_metadata,
                Column("event_id", String(36), primary_key=True),
                Column("amount", Integer, nullable=False))


def run(amqp_uri_base: str, rabbit_api: str, pg_url_factory, count: int = 5000) -> dict:
    load_before = os.getloadavg()[0]
    floor_a = floor(amqp_uri_base, rabbit_api, count, confirm_every=1)
    floor_b = floor(amqp_uri_base, rabbit_api, count, confirm_every=CONFIRM_BATCH)
    cairn_figures = cairn(amqp_uri_base, rabbit_api, pg_url_factory, count)
    return {
        # anything else running skews every figure: the 1-minute load says so
        "machine": {"cores": os.cpu_count(), "python": platform.python_version(),
                    "arch": platform.machine(), "load_1m_before": round(load_before, 2),
                    "load_1m_after": round(os.getloadavg()[0], 2)},
        "count": count,
        "floor_a_msg_per_s": round(floor_a, 1),
        "floor_b_msg_per_s": round(floor_b, 1),
        "cairn_events_per_s": cairn_figures["events_per_s"],
        "cairn_vs_floor_b": round(cairn_figures["events_per_s"] / floor_b, 3),
        "cairn": cairn_figures,
    }


# --- the broker's floor ---------------------------------------------------

def floor(amqp_uri_base: str, rabbit_api: str, count: int, confirm_every: int) -> float:
    """Messages/s from the first publish to the last message consumed."""
    body = json.dumps(contracts.make_envelope("payments", "PaymentCaptured",
                                              contracts.example("PaymentCaptured", 1), 1))
    exchange = Exchange("floor", type="topic", durable=True)
    with throwaway_vhost(rabbit_api) as vhost:
        uri = f"{amqp_uri_base}/{vhost}"
        with Connection(uri) as connection:
            Queue("floor", exchange=exchange, routing_key="x", durable=True)(
                connection.default_channel).declare()
        with child("floor-consumer", uri, "floor", str(count)) as consumer:
            expect(consumer, "ready")
            started = time.time()
            publish_confirmed(uri, exchange.name, body, count, confirm_every)
            last = json.loads(expect(consumer, "{"))["last"]
    return count / (last - started)


def publish_confirmed(uri: str, exchange: str, body: str, count: int, confirm_every: int) -> None:
    """Persistent publishes on one confirm-mode channel, waiting for the
    broker's confirms after every `confirm_every` messages."""
    unconfirmed: set[int] = set()

    def on_ack(tag, multiple):
        unconfirmed.difference_update([t for t in unconfirmed if t <= tag] if multiple else [tag])

    def on_nack(tag, multiple):
        raise RuntimeError(f"broker nacked {tag}")

    with Connection(uri) as connection:
        channel = connection.default_channel
        channel.confirm_select()
        channel.events["basic_ack"].add(on_ack)
        channel.events["basic_nack"].add(on_nack)
        for tag in range(1, count + 1):
            message = channel.prepare_message(body, content_type="application/json",
                                              content_encoding="utf-8",
                                              properties={"delivery_mode": 2})
            channel.basic_publish(message, exchange=exchange, routing_key="x")
            unconfirmed.add(tag)
            if tag % confirm_every == 0 or tag == count:
                while unconfirmed:
                    connection.drain_events(timeout=10)


def floor_consumer(uri: str, queue: str, count: int) -> None:
    received = 0
    last = 0.0

    def on_message(message):
        nonlocal received, last
        message.decode()
        message.ack()
        received += 1
        last = time.time()

    with Connection(uri) as connection:
        channel = connection.default_channel
        channel.basic_qos(0, FLOOR_PREFETCH, False)
        with Consumer(channel, [Queue(queue, no_declare=True)], on_message=on_message):
            say("ready")
            while received < count:
                connection.drain_events(timeout=60)
    say(json.dumps({"last": last}))


# --- Cairn: outbox → relay → handler --------------------------------------

def cairn(amqp_uri_base: str, rabbit_api: str, pg_url_factory, count: int) -> dict:
    outbox_url, inbox_url = pg_url_factory("payments"), pg_url_factory("invoicing")
    outbox_db, inbox_db = create_engine(outbox_url), create_engine(inbox_url)
    try:
        messaging_metadata.create_all(outbox_db)
        messaging_metadata.create_all(inbox_db)
        bench_metadata.create_all(inbox_db)
        with throwaway_vhost(rabbit_api) as vhost:
            uri = f"{amqp_uri_base}/{vhost}"
            with child("cairn-consumer", uri, inbox_url) as consumer:
                expect(consumer, "ready")   # its queue is declared and consumed
                with child("cairn-producer", uri, outbox_url, str(count)) as producer:
                    timings = json.loads(expect(producer, "{"))
                    handled_at = wait_for(lambda: handled(inbox_db, count), 60 + count / 20,
                                          "every event to be handled")
                    relay = wait_for(lambda: relayed(outbox_db, count), 30,
                                     "the outbox to be marked sent")
                # the management API's consumer list lags by its stats interval
                prefetch = wait_for(lambda: handler_prefetch(rabbit_api, vhost), 30,
                                    "the handler's consumer to be listed")
        with inbox_db.connect() as connection:
            applied = connection.execute(select(func.count()).select_from(effects)).scalar()
    finally:
        outbox_db.dispose()
        inbox_db.dispose()
    assert applied == count, f"{applied} effects for {count} events"
    started = timings["started"]
    return {
        "events_per_s": round(count / (handled_at - started), 1),
        "written_after_s": round(timings["written"] - started, 2),
        "relayed_after_s": round(relay["last_sent"] - started, 2),
        "handled_after_s": round(handled_at - started, 2),
        "relay_passes": relay["passes"],
        "handler_prefetch": prefetch,
        "handler": "nameko ServiceRunner, servicekit handles() + inbox.handle_once",
    }


def handled(inbox_db, count: int) -> float | None:
    """When the last event was handled, once all `count` have been."""
    with inbox_db.connect() as connection:
        done, last = connection.execute(select(func.count(), func.max(
            processed_events.c.processed_at))).one()
    return epoch(last) if done >= count else None


def relayed(outbox_db, count: int) -> dict | None:
    with outbox_db.connect() as connection:
        sent, last, passes = connection.execute(select(
            func.count(outbox.c.sent_at), func.max(outbox.c.sent_at),
            func.count(outbox.c.sent_at.distinct()))).one()
    # each pass marks its whole batch sent with one timestamp
    return {"last_sent": epoch(last), "passes": passes} if sent >= count else None


def handler_prefetch(rabbit_api: str, vhost: str) -> int | None:
    consumers = requests.get(f"{rabbit_api}/consumers/{vhost}", timeout=10).json()
    return next((c["prefetch_count"] for c in consumers if c["queue"]["name"] == HANDLER_QUEUE),
                None)


def cairn_consumer(uri: str, database_url: str) -> None:
    from sqlalchemy import insert

    from servicekit import config
    from servicekit.db import Database
    from servicekit.events import handles
    from servicekit.inbox import handle_once

    class BenchLedger:
        name = "bench_ledger"
        db = Database()

        @handles("payments", "PaymentCaptured")
        def on_captured(self, envelope):
            handle_once(self.db, envelope, "bench_ledger.on_captured", lambda data: self.db.execute(
                insert(effects).values(event_id=envelope["id"], amount=data["amount"]["amount"])))

    serve(BenchLedger, config.nameko_config(AMQP_URI=uri, DATABASE_URL=database_url), "ready")


def cairn_producer(uri: str, database_url: str, count: int) -> None:
    """A service with the real OutboxRelay; the writer stands in for its
    workers, committing `record_event`s in transactions of PER_TRANSACTION."""
    from sqlalchemy.orm import sessionmaker

    from servicekit import config
    from servicekit.db import engine_for
    from servicekit.outbox import OutboxRelay, record_event

    class BenchPayments:
        name = "payments"
        relay = OutboxRelay()

    def write():
        sessions = sessionmaker(bind=engine_for(database_url))  # the relay's engine: it is woken
        example = contracts.example("PaymentCaptured", 1)
        started = time.time()
        for first in range(0, count, PER_TRANSACTION):
            with sessions() as session:
                for n in range(first, min(first + PER_TRANSACTION, count)):
                    record_event(session, "payments", "PaymentCaptured",
                                 {**example, "amount": {"amount": n + 1, "currency": "usd"}})
                session.commit()
        return json.dumps({"started": started, "written": time.time()})

    serve(BenchPayments, config.nameko_config(AMQP_URI=uri, DATABASE_URL=database_url), write)


def serve(service, nameko_config: dict, then) -> None:
    """Run `service` until this process is terminated, saying `then` (or
    what `then()` returns) once it has started."""
    from nameko.runners import ServiceRunner

    runner = ServiceRunner(nameko_config)
    runner.add_service(service)
    runner.start()
    say(then() if callable(then) else then)
    runner.wait()


# --- plumbing ---------------------------------------------------------------

@contextmanager
def throwaway_vhost(rabbit_api: str):
    vhost = f"cairn_bench_{uuid.uuid4().hex[:8]}"
    requests.put(f"{rabbit_api}/vhosts/{vhost}", timeout=10).raise_for_status()
    requests.put(f"{rabbit_api}/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*",
                 "read": ".*"}, timeout=10).raise_for_status()
    try:
        yield vhost
    finally:
        requests.delete(f"{rabbit_api}/vhosts/{vhost}", timeout=10)


@contextmanager
def child(role: str, *args: str):
    """This file in another process, in `role`; stopped (by its pid) on exit."""
    log = tempfile.NamedTemporaryFile("w+", prefix=f"cairn-bench-{role}-", suffix=".log", delete=False)
    process = subprocess.Popen([sys.executable, __file__, "--child", role, *args],
                               stdout=subprocess.PIPE, stderr=log, text=True)
    process.log_path = log.name
    try:
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def expect(process, prefix: str) -> str:
    line = process.stdout.readline().strip()
    if not line.startswith(prefix):
        raise RuntimeError(f"{process.args[3]} said {line!r}; see {process.log_path}")
    return line


def say(line: str) -> None:
    print(line, flush=True)


def wait_for(probe, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while (result := probe()) is None:
        if time.monotonic() > deadline:
            raise RuntimeError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.05)
    return result


def epoch(naive_utc) -> float:
    return naive_utc.replace(tzinfo=timezone.utc).timestamp()


def report(figures: dict) -> str:
    machine, cairn_ = figures["machine"], figures["cairn"]
    return f"""Events benchmark — {figures['count']} events, one run, all processes on this machine
machine: {machine['arch']}, {machine['cores']} cores, Python {machine['python']}, \
load average {machine['load_1m_before']} before, {machine['load_1m_after']} after
  floor A  publish, await each confirm → consume    {figures['floor_a_msg_per_s']:8.0f} msg/s
  floor B  publish, await confirms per {CONFIRM_BATCH} → consume {figures['floor_b_msg_per_s']:8.0f} msg/s
  Cairn    record_event → OutboxRelay → handles()   {figures['cairn_events_per_s']:8.0f} events/s \
= {figures['cairn_vs_floor_b']:.1%} of floor B
           written after {cairn_['written_after_s']} s, relayed after {cairn_['relayed_after_s']} s \
in {cairn_['relay_passes']} passes, handled after {cairn_['handled_after_s']} s
           handler: {cairn_['handler']}, prefetch {cairn_['handler_prefetch']}"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=5000)
    args = parser.parse_args()
    from tests.fixtures.databases import Databases

    databases = Databases()
    try:
        figures = run(AMQP, RABBIT_API, databases.fresh, args.count)
    finally:
        databases.drop_all()
    print(report(figures))
    print(json.dumps(figures))


CHILDREN = {
    "floor-consumer": lambda uri, queue, count: floor_consumer(uri, queue, int(count)),
    "cairn-consumer": cairn_consumer,
    "cairn-producer": lambda uri, url, count: cairn_producer(uri, url, int(count)),
}

if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        CHILDREN[sys.argv[2]](*sys.argv[3:])
    else:
        main()
