"""Declare every handler's queue (and its retry and dead-letter queues) before
anything is published: nameko drops an event that no queue is bound to yet."""
from __future__ import annotations

import importlib
from dataclasses import dataclass

from kombu import Connection, Queue
from nameko.standalone.events import get_event_exchange

from servicekit.events import ReliableEventHandler, side_queues


@dataclass(frozen=True)
class Subscription:
    source: str
    event_type: str
    service: str
    method: str

    @property
    def queue_name(self) -> str:  # the name nameko gives a SERVICE_POOL handler
        return f"evt-{self.source}-{self.event_type}--{self.service}.{self.method}"


def load(path: str):
    module_name, _, attr = path.partition(":")
    return getattr(importlib.import_module(module_name), attr)


def subscriptions(service_classes) -> list[Subscription]:
    found = []
    for cls in service_classes:
        for method_name in dir(cls):
            method = getattr(cls, method_name, None)
            for entrypoint in getattr(method, "nameko_entrypoints", ()):
                if isinstance(entrypoint, ReliableEventHandler):
                    found.append(Subscription(entrypoint.source_service, entrypoint.event_type,
                                              cls.name, method_name))
    return sorted(found, key=lambda s: s.queue_name)


def declare(service_classes, amqp_uri: str, delays_ms: list[int]) -> list[Subscription]:
    subs = subscriptions(service_classes)
    with Connection(amqp_uri) as connection:
        channel = connection.default_channel
        for sub in subs:
            exchange = get_event_exchange(sub.source, {})
            queue = Queue(sub.queue_name, exchange=exchange, routing_key=sub.event_type,
                          durable=True, auto_delete=False)
            exchange.bind(channel).declare()
            queue.bind(channel).declare()
            for side in side_queues(sub.queue_name, delays_ms):
                side.bind(channel).declare()
    return subs


def definitions(service_classes, delays_ms: list[int], vhost: str = "/") -> dict:
    """The same topology as RabbitMQ definitions (the management plugin's
    import format), for operators who provision brokers ahead of time."""
    subs = subscriptions(service_classes)
    exchanges = sorted({sub.source for sub in subs})
    queues, bindings = [], []
    for sub in subs:
        queues.append(_queue(sub.queue_name, {}, vhost))
        bindings.append({"source": f"{sub.source}.events", "vhost": vhost,
                         "destination": sub.queue_name, "destination_type": "queue",
                         "routing_key": sub.event_type, "arguments": {}})
        for side in side_queues(sub.queue_name, delays_ms):
            queues.append(_queue(side.name, dict(side.queue_arguments or {}), vhost))
    return {
        "exchanges": [{"name": f"{source}.events", "vhost": vhost, "type": "topic", "durable": True,
                       "auto_delete": False, "internal": False, "arguments": {}}
                      for source in exchanges],
        "queues": queues,
        "bindings": bindings,
    }


def _queue(name: str, arguments: dict, vhost: str) -> dict:
    return {"name": name, "vhost": vhost, "durable": True, "auto_delete": False,
            "arguments": arguments}


if __name__ == "__main__":
    import json
    import sys

    from servicekit import config

    args = sys.argv[1:]
    services = [load(path) for path in args if path != "--definitions"]
    if "--definitions" in args:
        print(json.dumps(definitions(services, config.retry_delays_ms()), indent=2, sort_keys=True))
        sys.exit(0)
    declared = declare(services, config.amqp_uri(), config.retry_delays_ms())
    print(f"declared {len(declared)} handler queue(s) with their retry and dead-letter queues")
