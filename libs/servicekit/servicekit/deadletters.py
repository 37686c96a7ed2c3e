"""Operators' view of dead-lettered events: list the parked messages of every
handler queue, and replay them onto the queue they came from.

    python -m servicekit.deadletters SERVICE_CLASS... list
    python -m servicekit.deadletters SERVICE_CLASS... replay QUEUE

SERVICE_CLASS is `module:Class`, e.g. `invoicing.service:InvoicingService`.
Only ids, types and the error are printed: payloads may carry PHI."""
from __future__ import annotations

import argparse
import json
import sys

from kombu import Connection, Producer

from servicekit import config
from servicekit.events import ATTEMPTS_HEADER, DEFAULT_EXCHANGE, dead_queue_name
from servicekit.topology import load, subscriptions


def dead_counts(connection, queue_names) -> dict[str, int]:
    channel = connection.default_channel
    counts = {}
    for name in queue_names:
        _, count, _ = channel.queue_declare(dead_queue_name(name), passive=True)
        counts[name] = count
    return counts


def peek(connection, queue_name: str) -> list[dict]:
    """Messages on the dead queue, left where they are."""
    channel = connection.default_channel
    seen, messages = [], []
    while True:
        message = channel.basic_get(dead_queue_name(queue_name), no_ack=False)
        if message is None:
            break
        seen.append(message)
        body = json.loads(message.body)
        messages.append({"id": body.get("id"), "type": body.get("type"),
                         "error": (message.headers or {}).get("x-cairn-error")})
    for message in seen:
        channel.basic_reject(message.delivery_tag, requeue=True)
    return messages


def replay(connection, queue_name: str) -> int:
    """Move every dead message back to its handler's queue, attempts reset."""
    channel = connection.default_channel
    producer = Producer(channel)
    moved = 0
    while True:
        message = channel.basic_get(dead_queue_name(queue_name), no_ack=False)
        if message is None:
            return moved
        headers = {k: v for k, v in (message.headers or {}).items()
                   if k not in (ATTEMPTS_HEADER, "x-cairn-error")}
        producer.publish(message.body, exchange=DEFAULT_EXCHANGE, routing_key=queue_name,
                         content_type="application/json", content_encoding="utf-8",
                         delivery_mode=2, headers=headers)
        channel.basic_ack(message.delivery_tag)
        moved += 1


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("services", nargs="+", help="module:Class of each service")
    parser.add_argument("--action", choices=["list", "replay"], default="list")
    parser.add_argument("--queue", help="handler queue to replay")
    args = parser.parse_args(argv)
    names = [sub.queue_name for sub in subscriptions([load(p) for p in args.services])]
    with Connection(config.amqp_uri(), transport_options={"confirm_publish": True}) as conn:
        if args.action == "replay":
            if args.queue not in names:
                print(f"unknown queue {args.queue!r}; see --action list", file=sys.stderr)
                return 2
            print(f"replayed {replay(conn, args.queue)} message(s) onto {args.queue}")
            return 0
        for name, count in dead_counts(conn, names).items():
            print(f"{count:6d}  {name}")
            for item in peek(conn, name) if count else []:
                print(f"        {item['id']}  {item['type']}  {item['error']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
