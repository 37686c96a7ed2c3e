"""The Stripe sandbox as the official SDK sees it (real sockets, no mocks)."""
import os
import pathlib
import socket
import subprocess
import sys
import threading

import pytest
import requests
import stripe

LOCAL = pathlib.Path(__file__).resolve().parents[1]


def pay(client, method="pm_card_visa", key=None, **params):
    params = {"amount": 1500, "currency": "usd", "payment_method": method,
              "confirm": True, **params}
    options = {"idempotency_key": key} if key else None
    return client.v1.payment_intents.create(params=params, options=options)


def event_types(sandbox):
    return [e["type"] for e in sandbox.events()]


# -- payments ----------------------------------------------------------------

def test_create_and_confirm_succeeds(client):
    pi = pay(client, metadata={"invoice_id": "inv_1"}, description="Visit")

    assert pi.object == "payment_intent" and pi.id.startswith("pi_")
    assert pi.status == "succeeded"
    assert pi.amount_received == 1500 and pi.livemode is False
    assert pi.latest_charge.startswith("ch_")
    assert pi.payment_method.startswith("pm_") and pi.payment_method != \
        "pm_card_visa"
    assert pi.metadata.to_dict() == {"invoice_id": "inv_1"}
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.payment_intent) == ("succeeded", pi.id)
    assert charge.payment_method_details.card.last4 == "4242"


def test_two_step_confirm_with_global_api_base(sandbox, monkeypatch,
                                               api_key):
    monkeypatch.setattr(stripe, "api_base", sandbox.url)
    monkeypatch.setattr(stripe, "api_key", api_key)
    monkeypatch.setattr(stripe, "max_network_retries", 0)

    pi = stripe.PaymentIntent.create(amount=2000, currency="eur",
                                     payment_method_types=["card"])
    assert pi.status == "requires_payment_method"
    pi = stripe.PaymentIntent.confirm(pi.id,
                                      payment_method="pm_card_mastercard")
    assert pi.status == "succeeded" and pi.currency == "eur"
    method = stripe.PaymentMethod.retrieve(pi.payment_method)
    assert (method.card.brand, method.card.last4) == ("mastercard", "4444")
    with pytest.raises(stripe.InvalidRequestError) as exc:
        stripe.PaymentIntent.confirm(pi.id)
    assert exc.value.code == "payment_intent_unexpected_state"


@pytest.mark.parametrize("token, decline_code, message", [
    ("pm_card_chargeDeclined", "generic_decline", "Your card was declined."),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds",
     "Your card has insufficient funds."),
])
def test_declined_card(client, sandbox, token, decline_code, message):
    with pytest.raises(stripe.CardError) as exc:
        pay(client, token)

    err = exc.value
    assert (err.http_status, err.code, err.user_message) == \
        (402, "card_declined", message)
    assert err.error.type == "card_error"
    assert err.error.decline_code == decline_code
    assert err.error.request_log_url.startswith("https://dashboard.stripe.com")
    failed = err.error.payment_intent
    assert failed.status == "requires_payment_method"
    pi = client.v1.payment_intents.retrieve(failed.id)
    assert pi.status == "requires_payment_method" and pi.payment_method is None
    assert pi.last_payment_error.decline_code == decline_code
    assert client.v1.charges.retrieve(pi.latest_charge).status == "failed"
    assert "payment_intent.payment_failed" in event_types(sandbox)


def test_retry_after_decline_with_good_card(client):
    with pytest.raises(stripe.CardError) as exc:
        pay(client, "pm_card_chargeDeclined")
    intent_id = exc.value.error.payment_intent.id
    pi = client.v1.payment_intents.confirm(
        intent_id, params={"payment_method": "pm_card_visa"})
    assert pi.status == "succeeded" and pi.last_payment_error is None


@pytest.mark.parametrize("params, param, code", [
    ({"amount": 0, "currency": "usd"}, "amount", "parameter_invalid_integer"),
    ({"amount": "12.5", "currency": "usd"}, "amount",
     "parameter_invalid_integer"),
    ({"currency": "usd"}, "amount", "parameter_missing"),
    ({"amount": 20, "currency": "usd"}, "amount", "amount_too_small"),
    ({"amount": 1000}, "currency", "parameter_missing"),
    ({"amount": 1000, "currency": "usd", "payment_method": "pm_nope"},
     "payment_method", "resource_missing"),
    ({"amount": 1000, "currency": "usd", "customer": "cus_nope"},
     "customer", "resource_missing"),
])
def test_bad_params(client, sandbox, params, param, code):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params=params)
    assert (exc.value.param, exc.value.code) == (param, code)
    assert exc.value.http_status == 400
    assert sandbox.events() == []


def test_unknown_id_is_404(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.retrieve("pi_missing")
    assert exc.value.http_status == 404
    assert exc.value.user_message == "No such payment_intent: 'pi_missing'"


def test_cancel(client, sandbox):
    pi = client.v1.payment_intents.create(params={"amount": 900,
                                                  "currency": "usd"})
    pi = client.v1.payment_intents.cancel(pi.id)
    assert pi.status == "canceled" and pi.canceled_at
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.cancel(pi.id)
    assert event_types(sandbox)[-1] == "payment_intent.canceled"


# -- idempotency -------------------------------------------------------------

def test_idempotent_replay_has_no_side_effects(client, sandbox):
    first = pay(client, key="invoice-42-attempt-1")
    second = pay(client, key="invoice-42-attempt-1")

    assert second.id == first.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert len(client.v1.payment_intents.list().data) == 1
    assert event_types(sandbox).count("payment_intent.succeeded") == 1


def test_idempotent_replay_of_a_decline(client, sandbox):
    errors = []
    for _ in range(2):
        with pytest.raises(stripe.CardError) as exc:
            pay(client, "pm_card_chargeDeclined", key="k-decline")
        errors.append(exc.value)
    assert errors[0].error.payment_intent.id == \
        errors[1].error.payment_intent.id
    assert errors[1].headers["Idempotent-Replayed"] == "true"
    assert event_types(sandbox).count("charge.failed") == 1


def test_same_key_other_params_is_idempotency_error(client):
    pay(client, key="k-1")
    with pytest.raises(stripe.IdempotencyError) as exc:
        pay(client, key="k-1", amount=1600)
    assert "same parameters" in exc.value.user_message


def test_keys_are_scoped_per_api_key(sandbox, client, make_client):
    other = make_client(sandbox.url, "sk_test_other")
    assert pay(client, key="shared").id != pay(other, key="shared").id


def test_concurrent_requests_with_one_key_charge_once(client, sandbox):
    ids = []
    threads = [threading.Thread(target=lambda: ids.append(
        pay(client, key="k-race").id)) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert len(ids) == 5 and len(set(ids)) == 1
    assert event_types(sandbox).count("payment_intent.succeeded") == 1


# -- webhooks ----------------------------------------------------------------

def test_webhooks_are_signed_and_delivered_in_order(
        client, sandbox, receiver, secret, wait_until):
    hook = receiver()
    sandbox.set_webhook_endpoint(hook.url, secret)
    pi = pay(client, key="k-hooks")

    events = wait_until(lambda: len(hook.received) >= 3 and hook.events())
    assert [e.type for e in events] == [
        "payment_intent.created", "charge.succeeded",
        "payment_intent.succeeded"]
    assert events[-1].data.object.id == pi.id
    assert events[-1].data.object.status == "succeeded"
    assert events[0].api_version == "2026-10-28.endive"
    assert events[0].request.idempotency_key == "k-hooks"
    listed = client.v1.events.list(params={"type": "payment_intent.succeeded"})
    assert [e.id for e in listed.data] == [events[-1].id]
    assert sandbox.wait_for_webhooks(5)
    assert client.v1.events.retrieve(events[0].id).pending_webhooks == 0
    with pytest.raises(stripe.SignatureVerificationError):
        headers, body = hook.received[0]
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"],
                                       "whsec_wrong")


def test_webhook_retried_after_500(client, sandbox, receiver, secret,
                                   wait_until):
    hook = receiver(statuses=[500])
    sandbox.set_webhook_endpoint(hook.url, secret)
    client.v1.customers.create(params={"email": "a@example.com"})

    attempts = wait_until(lambda: [d for d in sandbox.deliveries() if d["ok"]]
                          and sandbox.deliveries())
    assert [(d["type"], d["attempt"], d["status_code"]) for d in attempts] == \
        [("customer.created", 1, 500), ("customer.created", 2, 200)]
    assert [e.type for e in hook.events()] == ["customer.created"] * 2


def test_unreachable_endpoint_gives_up_after_retries(make_sandbox,
                                                     make_client):
    with socket.socket() as s:           # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        dead = f"http://127.0.0.1:{s.getsockname()[1]}/hook"
    sb = make_sandbox(webhook_url=dead, retry_delays=(0.01, 0.01, 0.01))
    make_client(sb.url).v1.customers.create()
    assert sb.wait_for_webhooks(5)
    attempts = sb.deliveries()
    assert [d["attempt"] for d in attempts] == [1, 2, 3, 4]
    assert all(d["status_code"] is None and d["error"] for d in attempts)
    assert attempts[-1]["will_retry"] is False


def test_no_second_webhook_for_a_replay(client, sandbox, receiver, secret):
    hook = receiver()
    sandbox.set_webhook_endpoint(hook.url, secret)
    pay(client, key="k-once")
    pay(client, key="k-once")
    assert sandbox.wait_for_webhooks(5)
    assert len(hook.received) == 3


# -- auth, customers, payment methods ----------------------------------------

def test_auth_required(sandbox, raw, make_client):
    status, body, _ = raw("GET", "/v1/customers")
    assert status == 401 and body["error"]["type"] == "invalid_request_error"
    assert "did not provide an API key" in body["error"]["message"]
    with pytest.raises(stripe.AuthenticationError):
        make_client(sandbox.url, "sk_live_nope").v1.customers.create()


def test_customers_attach_and_list_payment_methods(client, sandbox):
    customer = client.v1.customers.create(
        params={"email": "pat@example.com", "name": "Pat",
                "metadata": {"patient_id": "p1"}})
    visa = client.v1.payment_methods.attach(
        "pm_card_visa", params={"customer": customer.id})
    master = client.v1.payment_methods.attach(
        "pm_card_mastercard", params={"customer": customer.id})
    assert visa.customer == customer.id

    listed = client.v1.payment_methods.list(
        params={"customer": customer.id, "type": "card"})
    assert {(m.card.brand, m.card.last4) for m in listed.data} == \
        {("visa", "4242"), ("mastercard", "4444")}
    assert all(m.card.exp_year > 2000 and m.card.exp_month for m in
               listed.data)

    updated = client.v1.customers.update(customer.id, params={
        "invoice_settings": {"default_payment_method": master.id}})
    assert updated.invoice_settings.default_payment_method == master.id
    fetched = client.v1.customers.retrieve(customer.id)
    assert fetched.metadata.patient_id == "p1"

    pi = pay(client, visa.id, customer=customer.id, off_session=True)
    assert pi.status == "succeeded" and pi.customer == customer.id

    client.v1.payment_methods.detach(master.id)
    assert client.v1.customers.retrieve(
        customer.id).invoice_settings.default_payment_method is None
    assert [m.id for m in client.v1.payment_methods.list(
        params={"customer": customer.id}).data] == [visa.id]
    with pytest.raises(stripe.InvalidRequestError):   # detached: spent
        pay(client, master.id)
    assert "payment_method.attached" in event_types(sandbox)


def test_setup_future_usage_attaches_the_card(client):
    customer = client.v1.customers.create()
    pi = pay(client, customer=customer.id, setup_future_usage="off_session")
    method = client.v1.payment_methods.retrieve(pi.payment_method)
    assert method.customer == customer.id


# -- control endpoints and standalone run ------------------------------------

def test_control_endpoints(client, sandbox, raw, receiver, secret,
                           wait_until):
    hook = receiver()
    assert raw("GET", "/_sandbox/health")[:2] == (200, {"status": "ok"})
    status, body, _ = raw("POST", "/_sandbox/webhook_endpoint",
                          json={"url": hook.url, "secret": secret})
    assert status == 200 and body["endpoints"][0]["url"] == hook.url
    client.v1.customers.create()
    deliveries = wait_until(lambda: raw("GET", "/_sandbox/deliveries")[1]
                            ["deliveries"])
    assert deliveries[0]["type"] == "customer.created"
    assert raw("POST", "/_sandbox/reset")[0] == 200
    assert client.v1.events.list().data == []
    assert sandbox.deliveries() == []


def test_runs_standalone(make_client, wait_until):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, PYTHONPATH=str(LOCAL))
    proc = subprocess.Popen(
        [sys.executable, "-m", "stripe_sandbox", "--port", str(port)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"

    def healthy():
        try:
            return requests.get(url + "/_sandbox/health", timeout=1).ok
        except requests.ConnectionError:
            return False
    try:
        wait_until(healthy, timeout=10, interval=0.05)
        customer = make_client(url).v1.customers.create(
            params={"email": "pat@x.org"})
        assert customer.id.startswith("cus_")
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    log = err.decode()
    assert proc.returncode == 0, log
    assert f"listening on {url}" in log
    assert "POST /v1/customers 200" in log and "pat@x.org" not in log
