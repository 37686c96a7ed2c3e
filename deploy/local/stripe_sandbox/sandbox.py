"""`Sandbox`: the state, the webhook dispatcher and the HTTP server together.

    sb = Sandbox(port=0, webhook_secret="whsec_test").start()
    stripe_client = stripe.StripeClient("sk_test_x",
                                        base_addresses={"api": sb.url})
    ...
    sb.stop()
"""
import json
import threading

from .faults import NoFaults
from .server import LoopbackHTTPServer, SandboxHandler, json_response, wake
from .state import Endpoint, State
from .webhooks import DEFAULT_RETRY_DELAYS, Dispatcher


class Sandbox:
    def __init__(self, host="127.0.0.1", port=0, webhook_url=None,
                 webhook_secret="whsec_test", *, api_keys=None,
                 retry_delays=DEFAULT_RETRY_DELAYS, delivery_timeout=5.0,
                 faults=None):
        self.host, self.port = host, port
        self.webhook_secret = webhook_secret
        self.state = State(api_keys)
        self.faults = faults or NoFaults()
        self.dispatcher = Dispatcher(retry_delays, delivery_timeout,
                                     on_settled=self.state.settle)
        self._server = self._thread = self._stopping = None
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
        return self

    def stop(self):
        if self._server is None:
            return
        self._stopping.set()
        wake(self._server.server_address)
        self._thread.join(5)
        self._server.close_all()
        self.dispatcher.stop()
        self._server = self._thread = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc_info):
        self.stop()

    @property
    def url(self):
        return f"http://{self.host}:{self.port}"

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
        """Forget all objects, events, idempotency keys and deliveries."""
        self.state.reset()
        self.dispatcher.clear()

    # -- called by the HTTP handler ------------------------------------------

    def dispatch(self, events):
        for event, endpoints in events:
            for endpoint, delay in self.faults.webhook_plan(event, endpoints):
                self.dispatcher.submit(event, endpoint, delay)

    def control(self, method, path, body):
        """The unauthenticated /_sandbox/ endpoints."""
        route = (method, path.rstrip("/"))
        if route == ("GET", "/_sandbox/health"):
            return json_response(200, {"status": "ok"})
        if route == ("GET", "/_sandbox/webhook_endpoint"):
            return json_response(200, {"endpoints": self.webhook_endpoints()})
        if route == ("POST", "/_sandbox/webhook_endpoint"):
            try:
                data = json.loads(body or "{}")
            except ValueError:
                return json_response(400, {"error": "body must be JSON"})
            self.set_webhook_endpoint(data.get("url"), data.get("secret"))
            return json_response(200, {"endpoints": self.webhook_endpoints()})
        if route == ("GET", "/_sandbox/deliveries"):
            return json_response(200, {"deliveries": self.deliveries()})
        if route == ("POST", "/_sandbox/reset"):
            self.reset()
            return json_response(200, {"status": "reset"})
        return json_response(404, {"error": f"no control endpoint {path}"})
