"""The sandbox's in-memory account: objects, events, idempotency records,
the sandbox clock and the work it has scheduled on that clock.

One re-entrant lock guards everything; the API layer holds it for the whole
of a request (parse -> handle -> remember idempotent result), so requests
are serialised and handlers never see half-applied changes.

The sandbox clock is real time plus an offset (`advance`); every object's
`created` and every event's time come from it. Work that Stripe does later
(an ACH debit settling, a refund failing) is a `Task` due at a sandbox time;
`take_due` hands each task out exactly once.

`version` goes up whenever the state may have changed (an object added, a
task taken, the clock moved, a mutating request served: `touch`); the
optional state file (store.py) is written when it differs from the version
last saved. `snapshot` / `restore` turn the state into plain JSON data and
back.
"""
import heapq
import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import List, Optional

from . import objects

DEFAULT_ACH_SETTLEMENT_SECONDS = 3 * 24 * 3600
DEFAULT_REFUND_FAILURE_SECONDS = 24 * 3600


@dataclass(frozen=True)
class Endpoint:
    url: str
    secret: str


@dataclass
class RequestContext:
    """What one API request carries through the handlers."""
    api_key: str
    request_id: Optional[str]
    idempotency_key: Optional[str] = None
    base_url: str = ""
    tokens: dict = field(default_factory=dict)   # test token -> pm id
    events: List[tuple] = field(default_factory=list)  # (event, endpoints)

    @property
    def request_log_url(self):
        return (f"https://dashboard.stripe.com/test/logs/{self.request_id}"
                f"?t={int(time.time())}")


@dataclass(frozen=True)
class StoredResponse:
    fingerprint: tuple
    status: int
    body: bytes
    request_id: str


@dataclass(order=True, frozen=True)
class Task:
    due: int
    seq: int
    kind: str = field(compare=False)     # e.g. "ach_payment"
    object_id: str = field(compare=False)


class State:
    def __init__(self, api_keys=None, *,
                 ach_settlement_seconds=DEFAULT_ACH_SETTLEMENT_SECONDS,
                 refund_failure_seconds=DEFAULT_REFUND_FAILURE_SECONDS):
        self.lock = threading.RLock()
        self.api_keys = set(api_keys) if api_keys else None
        self.ach_settlement_seconds = ach_settlement_seconds
        self.refund_failure_seconds = refund_failure_seconds
        self.endpoints: List[Endpoint] = []
        self._seq = itertools.count()
        self.version = 0
        self.reset()

    def reset(self):
        """Forget every object, event, idempotency key and scheduled task,
        and put the clock back to real time (not the config)."""
        with self.lock:
            self.objects = {}        # id -> object dict, in creation order
            self.consumed = set()    # pm ids that may not be used again
            self.set_up = set()      # pm ids set up for off-session use
            self.pending = {}        # intent id -> options awaiting 3DS
            self.idempotent = {}     # (api_key, key) -> StoredResponse
            self.tasks = []          # heap of Task
            self.offset = 0
            self.version += 1

    def touch(self):
        """Note that something may have changed (for the state file)."""
        with self.lock:
            self.version += 1

    # -- clock ---------------------------------------------------------------

    def now(self):
        return int(time.time() + self.offset)

    def advance(self, seconds):
        with self.lock:
            self.offset += seconds
            self.version += 1
            return self.now()

    def schedule(self, delay, kind, object_id):
        with self.lock:
            heapq.heappush(self.tasks, Task(self.now() + int(delay),
                                            next(self._seq), kind, object_id))
            self.version += 1

    def take_due(self):
        """Pop every task due by now, oldest due first (each only once)."""
        with self.lock:
            due, now = [], self.now()
            while self.tasks and self.tasks[0].due <= now:
                due.append(heapq.heappop(self.tasks))
            if due:
                self.version += 1
            return due

    # -- objects -------------------------------------------------------------

    def add(self, obj):
        with self.lock:
            if "created" in obj:
                obj["created"] = self.now()
            self.objects[obj["id"]] = obj
            self.version += 1
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
                self.version += 1

    def events(self):
        with self.lock:
            return list(reversed(self.all("event")))

    # -- persistence (store.py) ----------------------------------------------

    def snapshot(self):
        """Everything a restarted Stripe would still know, as JSON data.
        Not the config (keys, delays), the webhook endpoints (given at each
        start) nor anything about deliveries."""
        with self.lock:
            return {
                "objects": list(self.objects.values()),
                "consumed": sorted(self.consumed),
                "set_up": sorted(self.set_up),
                "pending": self.pending,
                "idempotent": [
                    {"api_key": api_key, "key": key,
                     "fingerprint": list(stored.fingerprint),
                     "status": stored.status,
                     "body": stored.body.decode("utf-8"),
                     "request_id": stored.request_id}
                    for (api_key, key), stored in self.idempotent.items()],
                "tasks": [{"due": task.due, "kind": task.kind,
                           "object": task.object_id}
                          for task in sorted(self.tasks)],
                "offset": self.offset,
            }

    def restore(self, data):
        """Replace the account with a `snapshot()`; raises (and changes
        nothing) if `data` is not one."""
        objects_ = {}
        for obj in data["objects"]:
            if not isinstance(obj, dict) or \
                    not isinstance(obj.get("id"), str) or \
                    not isinstance(obj.get("object"), str):
                raise ValueError("objects must be Stripe objects")
            if obj["object"] == "event":
                # the delivery queue is not saved: nothing is pending now
                obj["pending_webhooks"] = 0
            objects_[obj["id"]] = obj
        consumed = set(_strings(data["consumed"]))
        set_up = set(_strings(data["set_up"]))
        pending = dict(data["pending"])
        idempotent = {}
        for record in data["idempotent"]:
            method, path, pairs = record["fingerprint"]
            fingerprint = (method, path, tuple(tuple(pair) for pair in pairs))
            idempotent[(record["api_key"], record["key"])] = StoredResponse(
                fingerprint, int(record["status"]),
                record["body"].encode("utf-8"), record["request_id"])
        tasks = [(int(task["due"]), str(task["kind"]), str(task["object"]))
                 for task in data["tasks"]]
        offset = data["offset"]
        if isinstance(offset, bool) or not isinstance(offset, (int, float)):
            raise ValueError("offset must be a number")
        with self.lock:
            self.reset()
            self.objects, self.consumed, self.set_up = objects_, consumed, \
                set_up
            self.pending, self.idempotent, self.offset = pending, \
                idempotent, offset
            for due, kind, object_id in tasks:      # saved in heap order
                heapq.heappush(self.tasks, Task(due, next(self._seq), kind,
                                                object_id))
            self.version += 1


def _strings(values):
    if not all(isinstance(value, str) for value in values):
        raise ValueError("expected a list of ids")
    return values
