"""The sandbox clock, run-time fault injection and webhook redelivery, and
the browser-facing pages as plain HTTP (the browser test drives them)."""
import os
import pathlib
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler

import pytest
import stripe

from stripe_sandbox.server import BackgroundServer

LOCAL = pathlib.Path(__file__).resolve().parents[1]   # deploy/local



def types(sandbox):
    return [e["type"] for e in sandbox.events()]


def pay(client, key=None, **params):
    params = {"amount": 1500, "currency": "usd",
              "payment_method": "pm_card_visa", "confirm": True, **params}
    options = {"idempotency_key": key} if key else None
    return client.v1.payment_intents.create(params=params, options=options)


def hooked(sandbox, receiver, secret):
    hook = receiver()
    sandbox.set_webhook_endpoint(hook.url, secret)
    return hook


# -- clock -------------------------------------------------------------------

def test_clock_endpoints(client, control, sandbox):
    status, body = control("GET", "/_sandbox/clock")
    assert status == 200 and body["offset_seconds"] == 0
    assert abs(body["now"] - time.time()) < 5
    status, body = control("POST", "/_sandbox/clock/advance", {"days": 2})
    assert body["offset_seconds"] == 172800
    customer = client.v1.customers.create()
    assert customer.created >= int(time.time()) + 172800 - 5
    status, body = control("POST", "/_sandbox/clock/advance",
                           {"seconds": 30, "days": 1})
    assert body["offset_seconds"] == 172800 + 86400 + 30
    assert control("POST", "/_sandbox/clock/advance",
                   {"seconds": -1})[0] == 400
    control("POST", "/_sandbox/reset")
    assert control("GET", "/_sandbox/clock")[1]["offset_seconds"] == 0


def test_settlement_events_are_queued_before_advance_answers(
        client, sandbox, control, receiver, secret, mandate_data, wait_until):
    hook = hooked(sandbox, receiver, secret)
    pi = client.v1.payment_intents.create(params={
        "amount": 3000, "currency": "usd",
        "payment_method_types": ["us_bank_account"],
        "payment_method": "pm_usBankAccount_success", "confirm": True,
        "mandate_data": mandate_data})
    assert sandbox.wait_for_webhooks(5)
    control("POST", "/_sandbox/clock/advance", {"days": 3})
    assert sandbox.wait_for_webhooks(5)
    received = [e.type for e in hook.events()]
    assert received[-2:] == ["charge.succeeded", "payment_intent.succeeded"]
    assert hook.events()[-1].data.object.id == pi.id


# -- faults ------------------------------------------------------------------

def test_faults_show_and_clear(control):
    status, body = control("POST", "/_sandbox/faults", {
        "webhook_duplicates": 2, "webhook_delay_seconds": 0.5,
        "fail_requests": [{"method": "POST", "path_prefix": "/v1/refunds",
                           "count": 2, "status": 503}]})
    assert status == 200
    faults = body["faults"]
    assert faults["webhook_duplicates"] == 2
    assert faults["fail_requests"] == [{"method": "POST",
                                        "path_prefix": "/v1/refunds",
                                        "count": 2, "status": 503}]
    assert control("GET", "/_sandbox/faults")[1]["faults"] == faults
    assert control("POST", "/_sandbox/faults", {"nope": 1})[0] == 400
    assert control("POST", "/_sandbox/faults",
                   {"webhook_duplicates": 0})[0] == 400
    cleared = control("DELETE", "/_sandbox/faults")[1]["faults"]
    assert cleared["webhook_duplicates"] == 1 and cleared["fail_requests"] == []
    control("POST", "/_sandbox/faults", {"webhook_hold": True})
    control("POST", "/_sandbox/reset")
    assert control("GET", "/_sandbox/faults")[1]["faults"]["webhook_hold"] \
        is False


def test_webhook_duplicates(client, sandbox, control, receiver, secret):
    hook = hooked(sandbox, receiver, secret)
    control("POST", "/_sandbox/faults", {"webhook_duplicates": 3})
    client.v1.customers.create()
    assert sandbox.wait_for_webhooks(5)
    events = hook.events()
    assert [e.type for e in events] == ["customer.created"] * 3
    assert len({e.id for e in events}) == 1


def test_webhook_delay(client, sandbox, control, receiver, secret,
                       wait_until):
    hook = hooked(sandbox, receiver, secret)
    control("POST", "/_sandbox/faults", {"webhook_delay_seconds": 0.5})
    sent = time.time()
    client.v1.customers.create()
    assert hook.received == []
    wait_until(lambda: hook.received, timeout=5)
    assert sandbox.deliveries()[0]["at"] - sent >= 0.5


def test_webhook_reverse_batches(client, sandbox, control, receiver, secret):
    hook = hooked(sandbox, receiver, secret)
    control("POST", "/_sandbox/faults", {"webhook_reverse_batches": True})
    pay(client)
    assert sandbox.wait_for_webhooks(5)
    assert [e.type for e in hook.events()] == [
        "payment_intent.succeeded", "charge.succeeded",
        "payment_intent.created"]


def test_webhook_hold_and_release(client, sandbox, control, receiver,
                                  secret):
    hook = hooked(sandbox, receiver, secret)
    control("POST", "/_sandbox/faults", {"webhook_hold": True})
    client.v1.customers.create()
    pay(client)
    assert sandbox.wait_for_webhooks(0.3) is False
    assert hook.received == [] and sandbox.deliveries() == []
    status, body = control("GET", "/_sandbox/webhooks")
    assert body["webhooks"]["held"] is True and \
        body["webhooks"]["queued"] == 4
    status, body = control("POST", "/_sandbox/webhooks/release")
    assert status == 200
    assert sandbox.wait_for_webhooks(5)
    assert [e.type for e in hook.events()] == [
        "customer.created", "payment_intent.created", "charge.succeeded",
        "payment_intent.succeeded"]


def test_webhook_drop(client, sandbox, control, receiver, secret):
    hook = hooked(sandbox, receiver, secret)
    control("POST", "/_sandbox/webhooks/drop", {"count": 2})
    pay(client)
    assert sandbox.wait_for_webhooks(5)
    assert [e.type for e in hook.events()] == ["payment_intent.succeeded"]
    deliveries = sandbox.deliveries()
    assert [(d["type"], d["dropped"], d["will_retry"]) for d in deliveries] \
        == [("payment_intent.created", True, False),
            ("charge.succeeded", True, False),
            ("payment_intent.succeeded", False, False)]


def test_drop_response_then_sdk_retry_gets_replay(sandbox, control,
                                                  make_client):
    control("POST", "/_sandbox/faults", {"drop_responses": [
        {"method": "POST", "path_prefix": "/v1/payment_intents",
         "count": 1}]})
    client = stripe.StripeClient("sk_test_x",
                                 base_addresses={"api": sandbox.url},
                                 max_network_retries=2)
    pi = pay(client)
    assert pi.status == "succeeded"
    assert pi.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(make_client(sandbox.url, "sk_test_x")
               .v1.payment_intents.list().data) == 1
    assert types(sandbox).count("payment_intent.succeeded") == 1


def test_fail_requests_are_not_processed(sandbox, control, client):
    control("POST", "/_sandbox/faults", {"fail_requests": [
        {"method": "POST", "path_prefix": "/v1/payment_intents",
         "count": 1, "status": 500}]})
    with pytest.raises(stripe.APIError) as exc:
        pay(client, key="k-fail")
    assert exc.value.http_status == 500
    assert exc.value.error.type == "api_error"
    assert client.v1.payment_intents.list().data == []
    pi = pay(client, key="k-fail")            # same key: processed now
    assert pi.status == "succeeded"
    assert "Idempotent-Replayed" not in pi.last_response.headers
    assert len(client.v1.payment_intents.list().data) == 1


def test_delay_responses_outlast_a_short_timeout(sandbox, control, client):
    control("POST", "/_sandbox/faults", {"delay_responses": [
        {"method": "POST", "path_prefix": "/v1/payment_intents",
         "count": 1, "seconds": 1.5}]})
    impatient = stripe.StripeClient(
        "sk_test_sandbox", base_addresses={"api": sandbox.url},
        max_network_retries=0,
        http_client=stripe.RequestsClient(timeout=0.3))
    with pytest.raises(stripe.APIConnectionError):
        pay(impatient, key="k-slow")
    pi = pay(client, key="k-slow")     # processed all the same: replayed
    assert pi.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.payment_intents.list().data) == 1


class GatheringReceiver:
    """Answers no delivery until `expected` are in flight at once."""

    def __init__(self, expected):
        self.expected, self.in_flight, self.peak = expected, 0, 0
        self.lock = threading.Lock()
        self.all_here = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                self.rfile.read(int(self.headers["Content-Length"]))
                with receiver.lock:
                    receiver.in_flight += 1
                    receiver.peak = max(receiver.peak, receiver.in_flight)
                    if receiver.in_flight >= receiver.expected:
                        receiver.all_here.set()
                receiver.all_here.wait(5)
                self.send_response(200)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.background = BackgroundServer(Handler).start()
        self.url = self.background.url + "/hook"

    def stop(self):
        self.background.stop()


def test_redeliver_an_event_20_times_concurrently(make_sandbox, make_client,
                                                  web):
    sb = make_sandbox(delivery_timeout=10)
    make_client(sb.url).v1.customers.create()
    event = sb.events()[0]
    gathering = GatheringReceiver(20)
    try:
        sb.set_webhook_endpoint(gathering.url)
        response = web.post(f"{sb.url}/_sandbox/events/{event['id']}"
                                 f"/deliver", json={"times": 20}, timeout=5)
        assert response.json() == {"event": event["id"], "deliveries": 20}
        assert sb.wait_for_webhooks(10)
        assert gathering.all_here.is_set() and gathering.peak == 20
        attempts = sb.deliveries()
        assert len(attempts) == 20 and all(a["ok"] for a in attempts)
        assert {a["event_id"] for a in attempts} == {event["id"]}
    finally:
        gathering.stop()
    assert web.post(f"{sb.url}/_sandbox/events/evt_nope/deliver",
                         json={}, timeout=5).status_code == 404


def test_custom_fault_object_still_works(make_sandbox, make_client,
                                         receiver, secret):
    class Twice:
        def webhook_plan(self, event, endpoints):
            return [(e, 0.0) for e in endpoints for _ in range(2)]

        def drop_response(self, method, path, response):
            return False

    hook = receiver()
    sb = make_sandbox(faults=Twice(), webhook_url=hook.url)
    make_client(sb.url).v1.customers.create()
    assert sb.wait_for_webhooks(5)
    assert len(hook.received) == 2


# -- pages -------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/v3/", "/v3", "/v3/stripe.js"])
def test_stripe_js_is_served(web, sandbox, path):
    response = web.get(sandbox.url + path, timeout=5)
    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith(
        "application/javascript")
    assert "createPaymentMethod" in response.text
    assert "https://" not in response.text.replace(
        "https://js.stripe.com/v3/", "")


def test_payment_element_page(web, sandbox):
    page = web.get(sandbox.url + "/elements/payment", params={
        "key": "pk_test_x", "id": "f1", "parent": "http://127.0.0.1:1",
        "types": "card,us_bank_account"}, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    text = page.text
    assert '<html lang="en">' in text and "<title>" in text
    for label in ("Card number", "Expiration (MM / YY)", "Security code",
                  "ZIP", "Test card", "Account holder name",
                  "Routing number", "Account number", "Account type",
                  "Test bank account", "Visa 3184 — needs 3-D Secure",
                  "…2227 — fails: insufficient funds"):
        assert label in text
    assert "http://" not in text.replace("http://127.0.0.1:1", "")
    only_card = web.get(sandbox.url + "/elements/payment",
                        params={"types": "card"}, timeout=5).text
    assert 'value="us_bank_account"' not in only_card


def test_unknown_3ds_page_is_404(web, sandbox):
    assert web.get(sandbox.url + "/3ds/pi_nope", timeout=5).status_code == 404


def test_cli_has_settlement_flags():
    result = subprocess.run(
        [sys.executable, "-m", "stripe_sandbox", "--help"],
        env=dict(os.environ, PYTHONPATH=str(LOCAL)), capture_output=True,
        text=True, timeout=30)
    assert "--ach-settlement-seconds" in result.stdout
    assert "--refund-failure-seconds" in result.stdout
