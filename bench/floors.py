"""The floors of this machine, measured while nothing else runs on the broker
or the database (before Cairn starts), so Cairn's figures can be read as a
share of what the same box does with no application at all."""
from __future__ import annotations

import threading
import time

from kombu import Connection, Consumer, Exchange, Producer, Queue
from sqlalchemy import create_engine, text

MESSAGES = 3000
INSERTS = 3000


def measure(amqp_uri: str, postgres_url: str) -> dict:
    return {**broker(amqp_uri, MESSAGES), **postgres(postgres_url, INSERTS)}


def broker(amqp_uri: str, count: int) -> dict:
    """Persistent messages, each publish awaiting its confirm (one at a time),
    consumed and acked by a consumer on its own connection as they come:
    messages/s from the first publish to the last delivery, and each
    message's publish → delivery time."""
    exchange = Exchange("floor", type="topic", durable=True)
    queue = Queue("floor", exchange=exchange, routing_key="x", durable=True)
    with Connection(amqp_uri) as setup:
        queue(setup.default_channel).declare()
    delays: list[float] = []
    ready, finished = threading.Event(), threading.Event()
    consumer = threading.Thread(target=_consume, args=(amqp_uri, queue, count, delays, ready,
                                                       finished), daemon=True)
    consumer.start()
    ready.wait(10)
    with Connection(amqp_uri, transport_options={"confirm_publish": True}) as conn:
        producer = Producer(conn.default_channel)
        start = time.perf_counter()
        for n in range(count):
            producer.publish({"n": n, "at": time.perf_counter(), "pad": "x" * 300},
                             exchange=exchange, routing_key="x", delivery_mode=2,
                             serializer="json")
    finished.wait(60)
    last = max((sent + delay for sent, delay in delays), default=start)
    return {"broker_rate": len(delays) / (last - start),
            "broker_delays": [delay for _, delay in delays]}


def _consume(amqp_uri, queue, count, delays, ready, finished) -> None:
    def got(body, message):
        delays.append((body["at"], time.perf_counter() - body["at"]))
        message.ack()

    with Connection(amqp_uri) as conn, Consumer(conn.channel(), [queue], callbacks=[got]):
        ready.set()
        deadline = time.monotonic() + 120
        while len(delays) < count and time.monotonic() < deadline:
            try:
                conn.drain_events(timeout=1)
            except TimeoutError:
                continue
    finished.set()


def postgres(url: str, count: int) -> dict:
    """Single-row insert + commit transactions per second, one connection."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("create table floor (id serial primary key, body text)"))
    times = []
    with engine.connect() as connection:
        version = connection.execute(text("show server_version")).scalar()
        connection.commit()
        start = time.perf_counter()
        for _ in range(count):
            began = time.perf_counter()
            connection.execute(text("insert into floor (body) values (:b)"), {"b": "x" * 300})
            connection.commit()
            times.append(time.perf_counter() - began)
        rate = count / (time.perf_counter() - start)
    engine.dispose()
    return {"postgres_rate": rate, "postgres_times": times, "postgres_version": version}
