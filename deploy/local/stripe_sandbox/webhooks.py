"""Signed webhook delivery on a background thread.

Deliveries are kept in a heap ordered by (due time, submission order): first
attempts go out in the order events were created; a failed attempt (non-2xx
or unreachable) is put back with the next backoff delay, so one failing
event does not hold up the others. Every attempt is logged for
`/_sandbox/deliveries`.

Faults: `set_hold(True)` keeps deliveries queued until `set_hold(False)`;
`drop_next(n)` silently loses the next n deliveries (logged as dropped);
`redeliver(...)` sends copies of an event at once, one thread each.
"""
import hashlib
import heapq
import hmac
import itertools
import json
import logging
import threading
import time
from dataclasses import dataclass

import requests

log = logging.getLogger("stripe_sandbox.webhooks")

DEFAULT_RETRY_DELAYS = (0.2, 0.5, 1.0, 2.0, 4.0)   # 6 attempts in all
USER_AGENT = "Stripe/1.0 (+https://stripe.com/docs/webhooks)"


def signature_header(payload: bytes, secret: str, timestamp=None) -> str:
    """The `Stripe-Signature` value `stripe.Webhook.construct_event` checks."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    signed = f"{timestamp}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={digest}"


@dataclass
class Delivery:
    event_id: str
    event_type: str
    payload: bytes
    url: str
    secret: str
    attempt: int = 1
    generation: int = 0


class Dispatcher:
    def __init__(self, retry_delays=DEFAULT_RETRY_DELAYS, timeout=5.0,
                 on_settled=None):
        self.retry_delays = tuple(retry_delays)
        self.timeout = timeout
        self.on_settled = on_settled or (lambda event_id: None)
        self._cond = threading.Condition()
        self._heap = []
        self._order = itertools.count()
        self._attempts = []
        self._busy = 0
        self._held = False
        self._drop = 0
        self._generation = 0
        self._stopping = False
        self._thread = None

    def start(self):
        self._stopping = False
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name="stripe-sandbox-webhooks")
        self._thread.start()

    def stop(self):
        with self._cond:
            self._stopping = True
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(self.timeout + 1)
            self._thread = None

    def submit(self, event, endpoint, delay=0.0):
        payload = json.dumps(event, indent=2).encode("utf-8")
        with self._cond:
            delivery = Delivery(event["id"], event["type"], payload,
                                endpoint.url, endpoint.secret,
                                generation=self._generation)
            self._push(delivery, delay)

    def redeliver(self, event, endpoints, times):
        """Deliver `event` `times` times to each endpoint, concurrently."""
        payload = json.dumps(event, indent=2).encode("utf-8")
        deliveries = [Delivery(event["id"], event["type"], payload,
                               endpoint.url, endpoint.secret,
                               generation=self._generation)
                      for endpoint in endpoints for _ in range(times)]
        with self._cond:
            if self._held:
                for delivery in deliveries:
                    self._push(delivery, 0.0)
                return len(deliveries)
            self._busy += len(deliveries)
        start = threading.Event()
        for delivery in deliveries:
            threading.Thread(target=self._deliver_once, args=(delivery, start),
                             daemon=True,
                             name="stripe-sandbox-redeliver").start()
        start.set()
        return len(deliveries)

    def set_hold(self, held):
        with self._cond:
            self._held = bool(held)
            self._cond.notify_all()

    def drop_next(self, count):
        with self._cond:
            self._drop += int(count)
            return self._drop

    def status(self):
        with self._cond:
            return {"held": self._held, "queued": len(self._heap),
                    "in_flight": self._busy, "drop_next": self._drop}

    def attempts(self):
        with self._cond:
            return [dict(a) for a in self._attempts]

    def clear(self):
        """Drop pending deliveries and the attempt log."""
        with self._cond:
            self._generation += 1
            self._heap.clear()
            self._attempts.clear()
            self._held = False
            self._drop = 0
            self._cond.notify_all()

    def wait_idle(self, timeout=5.0):
        """True once nothing is queued, waiting for a retry or in flight."""
        with self._cond:
            return self._cond.wait_for(
                lambda: not self._heap and not self._busy, timeout)

    # -- worker --------------------------------------------------------------

    def _push(self, delivery, delay):
        due = time.monotonic() + delay
        heapq.heappush(self._heap, (due, next(self._order), delivery))
        self._cond.notify_all()

    def _next(self):
        with self._cond:
            while not self._stopping:
                now = time.monotonic()
                if self._heap and not self._held and self._heap[0][0] <= now:
                    self._busy += 1
                    return heapq.heappop(self._heap)[2]
                wait = self._heap[0][0] - now \
                    if self._heap and not self._held else None
                self._cond.wait(wait)
            return None

    def _run(self):
        with requests.Session() as session:
            session.trust_env = False    # never route loopback via a proxy
            while True:
                delivery = self._next()
                if delivery is None:
                    return
                self._send(session, delivery)

    def _deliver_once(self, delivery, start):
        start.wait()
        with requests.Session() as session:
            session.trust_env = False
            self._send(session, delivery)

    def _send(self, session, delivery):
        with self._cond:
            dropped = self._drop > 0
            if dropped:
                self._drop -= 1
        if dropped:
            self._record(delivery, None, "dropped by /_sandbox/webhooks/drop",
                         dropped=True)
            return
        status, error = self._post(session, delivery)
        self._record(delivery, status, error)

    def _post(self, session, delivery):
        headers = {"Content-Type": "application/json; charset=utf-8",
                   "User-Agent": USER_AGENT,
                   "Stripe-Signature": signature_header(delivery.payload,
                                                        delivery.secret)}
        try:
            response = session.post(delivery.url, data=delivery.payload,
                                    headers=headers, timeout=self.timeout)
            return response.status_code, None
        except requests.RequestException as exc:
            return None, f"{type(exc).__name__}: {exc}"

    def _record(self, delivery, status, error, dropped=False):
        ok = status is not None and 200 <= status < 300
        attempt = delivery.attempt
        retry = not ok and not dropped and attempt <= len(self.retry_delays)
        with self._cond:
            self._busy -= 1
            if delivery.generation != self._generation:
                self._cond.notify_all()
                return
            self._attempts.append({
                "event_id": delivery.event_id, "type": delivery.event_type,
                "url": delivery.url, "attempt": attempt,
                "status_code": status, "ok": ok, "error": error,
                "dropped": dropped, "will_retry": retry, "at": time.time()})
            if retry:
                delivery.attempt += 1
                self._push(delivery, self.retry_delays[attempt - 1])
            self._cond.notify_all()
        log.info("webhook %s %s -> %s (attempt %d)", delivery.event_type,
                 delivery.url, status or error, attempt)
        if not retry:
            self.on_settled(delivery.event_id)
