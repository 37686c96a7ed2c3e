"""`Sandbox`: the state, the webhook dispatcher and the HTTP server together.

    sb = Sandbox(port=0, webhook_secret="whsec_test").start()
    stripe_client = stripe.StripeClient("sk_test_x",
                                        base_addresses={"api": sb.url})
    ...
    sb.stop()

With `state_file=PATH` the account (objects, idempotency records, mandates,
scheduled settlements, the clock offset) is read from PATH at construction
and written back after every change (see store.py).
"""
import json
import logging
import re
import threading

from . import clock, threeds
from .errors import StripeApiError
from .faults import FaultError, policy
from .server import LoopbackHTTPServer, SandboxHandler, json_response, wake
from .state import (DEFAULT_ACH_SETTLEMENT_SECONDS,
                    DEFAULT_REFUND_FAILURE_SECONDS, Endpoint, RequestContext,
                    State)
from .store import StateFile
from .webhooks import DEFAULT_RETRY_DELAYS, Dispatcher

log = logging.getLogger("stripe_sandbox")
TICK_SECONDS = 1.0
_AUTHENTICATE = re.compile(r"^/_sandbox/authenticate/([^/]+)$")
_DELIVER = re.compile(r"^/_sandbox/events/([^/]+)/deliver$")


class Sandbox:
    def __init__(self, host="127.0.0.1", port=0, webhook_url=None,
                 webhook_secret="whsec_test", *, api_keys=None,
                 retry_delays=DEFAULT_RETRY_DELAYS, delivery_timeout=5.0,
                 faults=None,
                 ach_settlement_seconds=DEFAULT_ACH_SETTLEMENT_SECONDS,
                 refund_failure_seconds=DEFAULT_REFUND_FAILURE_SECONDS,
                 state_file=None):
        self.host, self.port = host, port
        self.webhook_secret = webhook_secret
        self.state = State(api_keys,
                           ach_settlement_seconds=ach_settlement_seconds,
                           refund_failure_seconds=refund_failure_seconds)
        self.faults = policy(faults)
        self.dispatcher = Dispatcher(retry_delays, delivery_timeout,
                                     on_settled=self.state.settle)
        self._server = self._thread = self._stopping = self._ticker = None
        self.store = StateFile(state_file) if state_file else None
        if self.store is not None and self.store.load(self.state):
            log.info("loaded the sandbox state from %s (%d objects)",
                     self.store.path, len(self.state.objects))
        if webhook_url:
            self.set_webhook_endpoint(webhook_url, webhook_secret)

    # -- lifecycle -----------------------------------------------------------

    def start(self):
        """Bind, start serving in the background, return self."""
        if self._server is not None:
            raise RuntimeError("Sandbox already started")
        self._server = LoopbackHTTPServer((self.host, self.port),
                                          SandboxHandler)
        self._server.sandbox = self
        self.port = self._server.server_address[1]
        self._stopping = threading.Event()
        self.dispatcher.start()
        self._thread = threading.Thread(
            target=self._server.serve, args=(self._stopping,), daemon=True,
            name=f"stripe-sandbox-{self.port}")
        self._thread.start()
        self._ticker = threading.Thread(target=self._tick, daemon=True,
                                        name=f"stripe-sandbox-clock-"
                                             f"{self.port}")
        self._ticker.start()
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        wake(self._server.server_address)
        self._thread.join(5)
        self._ticker.join(5)
        self._server.close_all()
        self.dispatcher.stop()
        self.persist()
        self._server = self._thread = self._ticker = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

    def _tick(self):
        while not self._stopping.wait(TICK_SECONDS):
            try:
                self.settle_due()
            except Exception:
                log.exception("sandbox clock tick failed")

    # -- test helpers --------------------------------------------------------

    def set_webhook_endpoint(self, url, secret=None):
        """Replace all endpoints with this one (url=None removes them)."""
        with self.state.lock:
            self.state.endpoints = []
        if url:
            self.add_webhook_endpoint(url, secret)

    def add_webhook_endpoint(self, url, secret=None):
        with self.state.lock:
            self.state.endpoints.append(
                Endpoint(url, secret or self.webhook_secret))

    def webhook_endpoints(self):
        return [{"url": e.url, "secret": e.secret}
                for e in self.state.endpoints]

    def deliveries(self):
        """Every delivery attempt so far, oldest first (list of dicts)."""
        return self.dispatcher.attempts()

    def events(self):
        """Every event so far, oldest first (Stripe-shaped dicts)."""
        return json.loads(json.dumps(self.state.events()))

    def wait_for_webhooks(self, timeout=5.0):
        """Block until no delivery is queued, retrying or in flight."""
        return self.dispatcher.wait_idle(timeout)

    def reset(self):
        """Forget all objects, events, idempotency keys, deliveries, faults
        and the clock offset."""
        self.state.reset()
        self.faults.clear()
        self.dispatcher.clear()
        self.persist()

    def now(self):
        """The sandbox clock (unix seconds)."""
        return self.state.now()

    def advance_clock(self, seconds=0, days=0):
        """Move the sandbox clock on and settle what is then due; the
        resulting webhooks are queued before this returns."""
        seconds = float(seconds) + float(days) * 86400
        if seconds < 0:
            raise ValueError("the sandbox clock only moves forward")
        self.state.advance(seconds)
        self.settle_due()
        return self.state.now()

    def settle_due(self):
        """Settle everything the sandbox clock says is due (idempotent)."""
        self.dispatch(clock.run_due(self.state))
        self.persist()

    def persist(self):
        """Write the state file if the state changed since the last write
        (a no-op without a state file)."""
        if self.store is None or self.store.saved_version == \
                self.state.version:
            return
        with self.state.lock:
            self.store.save(self.state)

    def authenticate(self, intent_id, outcome="complete"):
        """Finish 3-D Secure for an intent in requires_action (as the
        /3ds/ page's buttons do); returns the intent."""
        with self.state.lock:
            ctx = RequestContext(None, None, None, self.url)
            intent, _, _ = threeds.authenticate(self.state, ctx, intent_id,
                                                outcome)
            self.state.touch()
            result = json.loads(json.dumps(intent))
        self.persist()
        self.dispatch(ctx.events)
        return result

    # -- called by the HTTP handler ------------------------------------------

    def dispatch(self, events):
        for event, endpoints in self.faults.order_batch(events):
            for endpoint, delay in self.faults.webhook_plan(event, endpoints):
                self.dispatcher.submit(event, endpoint, delay)

    def control(self, method, path, body):
        """The unauthenticated /_sandbox/ endpoints."""
        path = path.rstrip("/")
        route = (method, path)
        try:
            data = json.loads(body) if body.strip() else {}
        except ValueError:
            return json_response(400, {"error": "body must be JSON"})
        if method == "POST" and not isinstance(data, dict):
            return json_response(400, {"error": "body must be a JSON object"})
        if route == ("GET", "/_sandbox/health"):
            return json_response(200, {"status": "ok"})
        if route == ("GET", "/_sandbox/webhook_endpoint"):
            return json_response(200, {"endpoints": self.webhook_endpoints()})
        if route == ("POST", "/_sandbox/webhook_endpoint"):
            self.set_webhook_endpoint(data.get("url"), data.get("secret"))
            return json_response(200, {"endpoints": self.webhook_endpoints()})
        if route == ("GET", "/_sandbox/deliveries"):
            return json_response(200, {"deliveries": self.deliveries()})
        if route == ("POST", "/_sandbox/reset"):
            self.reset()
            return json_response(200, {"status": "reset"})
        if route == ("GET", "/_sandbox/clock"):
            return json_response(200, clock.describe(self.state))
        if route == ("POST", "/_sandbox/clock/advance"):
            return self._advance(data)
        if path == "/_sandbox/faults":
            return self._faults(method, data)
        if route == ("POST", "/_sandbox/webhooks/release"):
            self.faults.configure({"webhook_hold": False})
            self.dispatcher.set_hold(False)
            return json_response(200, {"webhooks": self.dispatcher.status()})
        if route == ("POST", "/_sandbox/webhooks/drop"):
            count = data.get("count", 1)
            if isinstance(count, bool) or not isinstance(count, int) or \
                    count < 0:
                return json_response(400, {"error": "count must be an "
                                                    "integer >= 0"})
            self.dispatcher.drop_next(count)
            return json_response(200, {"webhooks": self.dispatcher.status()})
        if route == ("GET", "/_sandbox/webhooks"):
            return json_response(200, {"webhooks": self.dispatcher.status()})
        match = _AUTHENTICATE.match(path)
        if match and method == "POST":
            return self._authenticate(match.group(1), data)
        match = _DELIVER.match(path)
        if match and method == "POST":
            return self._redeliver(match.group(1), data)
        return json_response(404, {"error": f"no control endpoint {method} "
                                            f"{path}"})

    def _advance(self, data):
        seconds, days = data.get("seconds", 0), data.get("days", 0)
        for value in (seconds, days):
            if isinstance(value, bool) or not isinstance(value, (int, float)) \
                    or value < 0:
                return json_response(400, {"error": "seconds and days must "
                                                    "be numbers >= 0"})
        self.advance_clock(seconds, days)
        return json_response(200, clock.describe(self.state))

    def _faults(self, method, data):
        if method == "DELETE":
            self.faults.clear()
            self.dispatcher.set_hold(False)
        elif method == "POST":
            try:
                self.faults.configure(data)
            except FaultError as exc:
                return json_response(400, {"error": str(exc)})
            if "webhook_hold" in data:
                self.dispatcher.set_hold(self.faults.webhook_hold)
        elif method != "GET":
            return json_response(405, {"error": "use GET, POST or DELETE"})
        return json_response(200, {"faults": self.faults.snapshot(),
                                   "webhooks": self.dispatcher.status()})

    def _authenticate(self, intent_id, data):
        try:
            intent = self.authenticate(intent_id,
                                       data.get("outcome", "complete"))
        except StripeApiError as error:
            return json_response(error.status, error.body())
        return json_response(200, intent)

    def _redeliver(self, event_id, data):
        times = data.get("times", 1)
        if isinstance(times, bool) or not isinstance(times, int) or \
                not 1 <= times <= 1000:
            return json_response(400, {"error": "times must be an integer "
                                                "from 1 to 1000"})
        with self.state.lock:
            event = self.state.find("event", event_id)
            endpoints = list(self.state.endpoints)
            payload = json.loads(json.dumps(event)) if event else None
        if payload is None:
            return json_response(404, {"error": f"no event {event_id}"})
        sent = self.dispatcher.redeliver(payload, endpoints, times)
        return json_response(200, {"event": event_id, "deliveries": sent})
