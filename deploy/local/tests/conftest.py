"""Fixtures for the Stripe sandbox tests: a sandbox, an SDK client pointed
at it, and a small webhook receiver. Everything runs over real sockets."""
import pathlib
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest

LOCAL = pathlib.Path(__file__).resolve().parents[1]
if str(LOCAL) not in sys.path:          # works without `pip install -e`
    sys.path.insert(0, str(LOCAL))

import stripe  # noqa: E402
from stripe_sandbox import Sandbox  # noqa: E402
from stripe_sandbox.server import BackgroundServer  # noqa: E402

API_KEY = "sk_test_sandbox"
SECRET = "whsec_test_secret"


def _wait_until(predicate, timeout=5.0, interval=0.01):
    """Poll `predicate` until it returns something truthy; fail at deadline."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        time.sleep(interval)


class Receiver:
    """A webhook endpoint that records requests and answers from a script."""

    def __init__(self, statuses=()):
        self.statuses = list(statuses)     # answered in order, then 200
        self.received = []                 # (headers, raw body)
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.received.append((dict(self.headers), body))
                    status = (receiver.statuses.pop(0) if receiver.statuses
                              else 200)
                self.send_response(status)
                self.send_header("Content-Length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, *args):
                pass

        self.background = BackgroundServer(Handler).start()
        self.url = self.background.url + "/hook"

    def events(self):
        with self.lock:
            return [stripe.Webhook.construct_event(body, h["Stripe-Signature"],
                                                   SECRET)
                    for h, body in self.received]

    def stop(self):
        self.background.stop()


@pytest.fixture
def wait_until():
    return _wait_until


@pytest.fixture
def secret():
    return SECRET


@pytest.fixture
def api_key():
    return API_KEY


@pytest.fixture
def make_sandbox():
    """Start a Sandbox (signing with SECRET unless told otherwise)."""
    started = []

    def make(**kwargs):
        kwargs.setdefault("webhook_secret", SECRET)
        started.append(Sandbox(**kwargs).start())
        return started[-1]
    yield make
    for sb in started:
        sb.stop()


@pytest.fixture
def sandbox(make_sandbox):
    return make_sandbox()


@pytest.fixture
def make_client():
    def make(url, key=API_KEY):
        return stripe.StripeClient(key, base_addresses={"api": url},
                                   max_network_retries=0)
    return make


@pytest.fixture
def client(sandbox, make_client):
    return make_client(sandbox.url)


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]
    yield make
    for r in made:
        r.stop()


@pytest.fixture
def raw(sandbox):
    """Call the sandbox without the SDK: returns (status, json, headers)."""
    import requests
    session = requests.Session()
    session.trust_env = False

    def call(method, path, **kwargs):
        response = session.request(method, sandbox.url + path, timeout=5,
                                   **kwargs)
        return response.status_code, response.json(), response.headers
    yield call
    session.close()


@pytest.fixture
def pk_client(sandbox):
    """The SDK with a publishable key (what Stripe.js / the card form use)."""
    return stripe.StripeClient("pk_test_sandbox",
                               base_addresses={"api": sandbox.url},
                               max_network_retries=0)


@pytest.fixture
def control(sandbox):
    """POST/GET/DELETE a /_sandbox/ control endpoint: returns (status, json)."""
    import requests
    session = requests.Session()
    session.trust_env = False

    def call(method, path, payload=None):
        response = session.request(method, sandbox.url + path, json=payload,
                                   timeout=10)
        return response.status_code, response.json()
    yield call
    session.close()


MANDATE = {"customer_acceptance": {"type": "online", "online": {
    "ip_address": "203.0.113.7", "user_agent": "Mozilla/5.0 (test)"}}}


@pytest.fixture
def mandate_data():
    return json_copy(MANDATE)


def json_copy(value):
    import json
    return json.loads(json.dumps(value))


@pytest.fixture
def web():
    """A plain HTTP session (no proxies from the environment) for pages."""
    import requests
    session = requests.Session()
    session.trust_env = False
    yield session
    session.close()
