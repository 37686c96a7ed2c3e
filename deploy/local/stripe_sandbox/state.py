"""The sandbox's in-memory account: objects, events, idempotency records.

One re-entrant lock guards everything; the API layer holds it for the whole
of a request (parse -> handle -> remember idempotent result), so requests
are serialised and handlers never see half-applied changes.
"""
import threading
from dataclasses import dataclass, field
from typing import List, Optional

from . import objects


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: str


@dataclass
class RequestContext:
    """What one API request carries through the handlers."""
    api_key: str
    request_id: str
    idempotency_key: Optional[str] = None
    tokens: dict = field(default_factory=dict)   # test token -> pm id
    events: List[tuple] = field(default_factory=list)  # (event, endpoints)

    @property
    def request_log_url(self):
        return (f"https://dashboard.stripe.com/test/logs/{self.request_id}"
                f"?t={objects.now()}")


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: tuple
    status: int
    body: bytes
    request_id: str


class State:
    def __init__(self, api_keys=None):
        self.lock = threading.RLock()
        self.api_keys = set(api_keys) if api_keys else None
        self.endpoints: List[Endpoint] = []
        self.reset()

    def reset(self):
        """Forget every object, event and idempotency key (not the config)."""
        with self.lock:
            self.objects = {}        # id -> object dict, in creation order
            self.consumed = set()    # pm ids that may not be used again
            self.idempotent = {}     # (api_key, key) -> StoredResponse

    def add(self, obj):
        with self.lock:
            self.objects[obj["id"]] = obj
            return obj

    def find(self, object_type, object_id):
        obj = self.objects.get(object_id)
        if obj is not None and obj["object"] == object_type:
            return obj
        return None

    def all(self, object_type, **filters):
        """Objects of one type, newest first, matching field == value."""
        with self.lock:
            return [obj for obj in reversed(self.objects.values())
                    if obj["object"] == object_type
                    and all(obj.get(k) == v for k, v in filters.items())]

    def emit(self, ctx, type_, obj, previous_attributes=None):
        """Record an event; it is queued for delivery after the response."""
        with self.lock:
            endpoints = list(self.endpoints)
            event = objects.event(type_, obj, ctx.request_id,
                                  ctx.idempotency_key, len(endpoints),
                                  previous_attributes)
            self.add(event)
            ctx.events.append((event, endpoints))
            return event

    def settle(self, event_id):
        """One endpoint is done with this event (delivered or gave up)."""
        with self.lock:
            event = self.find("event", event_id)
            if event and event["pending_webhooks"] > 0:
                event["pending_webhooks"] -= 1

    def events(self):
        with self.lock:
            return list(reversed(self.all("event")))
