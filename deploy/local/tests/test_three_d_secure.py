"""Payment intents with cards that ask for 3-D Secure, off-session
payments, the /3ds/ page and POST /_sandbox/authenticate/<id>."""
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

RETURN_URL = "https://clinic.example/pay/done?invoice=7"


def pay(client, method, **params):
    return client.v1.payment_intents.create(params={
        "amount": 2500, "currency": "usd", "payment_method": method,
        "confirm": True, **params})


def types(sandbox):
    return [e["type"] for e in sandbox.events()]


def saved(client, token):
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach(token,
                                          params={"customer": customer.id})
    return customer, pm


def test_on_session_3ds_redirect_then_complete(web, client, sandbox):
    pi = pay(client, "pm_card_authenticationRequired", return_url=RETURN_URL)

    assert pi.status == "requires_action" and pi.latest_charge is None
    action = pi.next_action
    assert action.type == "redirect_to_url"
    assert action.redirect_to_url.url == f"{sandbox.url}/3ds/{pi.id}"
    assert action.redirect_to_url.return_url == RETURN_URL
    assert types(sandbox)[-1] == "payment_intent.requires_action"

    page = web.get(action.redirect_to_url.url, timeout=5)
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Complete authentication" in page.text
    assert "Fail authentication" in page.text

    done = web.post(action.redirect_to_url.url,
                         data={"outcome": "complete"}, allow_redirects=False,
                         timeout=5)
    assert done.status_code == 303
    location = urlsplit(done.headers["Location"])
    assert location.netloc == "clinic.example"
    query = parse_qs(location.query)
    assert query == {"invoice": ["7"], "payment_intent": [pi.id],
                     "payment_intent_client_secret": [pi.client_secret],
                     "redirect_status": ["succeeded"]}
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "succeeded" and pi.next_action is None
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert charge.payment_method_details.card.three_d_secure.result == \
        "authenticated"
    assert types(sandbox)[-2:] == ["charge.succeeded",
                                   "payment_intent.succeeded"]


def test_3ds_fail_button(web, client, sandbox):
    pi = pay(client, "pm_card_authenticationRequired", return_url=RETURN_URL)
    done = web.post(f"{sandbox.url}/3ds/{pi.id}",
                         data={"outcome": "fail"}, allow_redirects=False,
                         timeout=5)
    assert done.status_code == 303
    assert parse_qs(urlsplit(done.headers["Location"]).query)[
        "redirect_status"] == ["failed"]
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == \
        "payment_intent_authentication_failure"
    assert pi.latest_charge is None
    assert types(sandbox)[-1] == "payment_intent.payment_failed"
    again = web.post(f"{sandbox.url}/3ds/{pi.id}",
                          data={"outcome": "complete"},
                          allow_redirects=False, timeout=5)
    assert again.status_code == 409


def test_use_stripe_sdk_without_return_url(client):
    pi = pay(client, "pm_card_authenticationRequiredOnSetup")
    assert pi.status == "requires_action"
    assert pi.next_action.type == "use_stripe_sdk"
    assert pi.next_action.use_stripe_sdk.stripe_js.endswith(f"/3ds/{pi.id}")


def test_control_endpoint_authenticates(client, control, sandbox):
    pi = pay(client, "pm_card_authenticationRequired")
    status, body = control("POST", f"/_sandbox/authenticate/{pi.id}",
                           {"outcome": "complete"})
    assert status == 200
    assert (body["id"], body["status"]) == (pi.id, "succeeded")
    status, body = control("POST", f"/_sandbox/authenticate/{pi.id}",
                           {"outcome": "complete"})
    assert status == 400 and "requires_action" in body["error"]["message"]
    status, _ = control("POST", "/_sandbox/authenticate/pi_nope", {})
    assert status == 404


def test_3178_authenticates_then_declines(web, client, control, sandbox):
    pi = pay(client,
             "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
             return_url=RETURN_URL)
    done = web.post(f"{sandbox.url}/3ds/{pi.id}",
                         data={"outcome": "complete"}, allow_redirects=False,
                         timeout=5)
    assert parse_qs(urlsplit(done.headers["Location"]).query)[
        "redirect_status"] == ["failed"]
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.decline_code == "insufficient_funds"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "failed"
    assert types(sandbox)[-2:] == ["charge.failed",
                                   "payment_intent.payment_failed"]


@pytest.mark.parametrize("token", [
    "pm_card_authenticationRequired",
    "pm_card_authenticationRequiredOnSetup",
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
])
def test_off_session_needs_authentication(client, sandbox, token):
    customer, pm = saved(client, token)
    with pytest.raises(stripe.CardError) as exc:
        pay(client, pm.id, customer=customer.id, off_session=True)
    err = exc.value
    assert (err.http_status, err.code) == (402, "authentication_required")
    assert err.error.decline_code == "authentication_required"
    pi = client.v1.payment_intents.retrieve(err.error.payment_intent.id)
    assert pi.status == "requires_payment_method"
    assert pi.last_payment_error.code == "authentication_required"
    assert types(sandbox)[-2:] == ["charge.failed",
                                   "payment_intent.payment_failed"]


def test_3155_saved_after_authentication_then_off_session_works(web, client):
    customer = client.v1.customers.create()
    first = pay(client, "pm_card_authenticationRequiredOnSetup",
                customer=customer.id, setup_future_usage="off_session",
                return_url=RETURN_URL)
    assert first.status == "requires_action"
    stripe_pm = first.payment_method
    web.post(first.next_action.redirect_to_url.url,
                  data={"outcome": "complete"}, allow_redirects=False,
                  timeout=5)
    assert client.v1.payment_methods.retrieve(stripe_pm).customer == \
        customer.id
    later = pay(client, stripe_pm, customer=customer.id, off_session=True)
    assert later.status == "succeeded"
    on_session = pay(client, stripe_pm, customer=customer.id)
    assert on_session.status == "requires_action"     # on-session: always


def test_3184_off_session_fails_even_when_saved(client, control):
    customer = client.v1.customers.create()
    first = pay(client, "pm_card_authenticationRequired",
                customer=customer.id, setup_future_usage="off_session")
    control("POST", f"/_sandbox/authenticate/{first.id}",
            {"outcome": "complete"})
    with pytest.raises(stripe.CardError) as exc:
        pay(client, first.payment_method, customer=customer.id,
            off_session=True)
    assert exc.value.code == "authentication_required"


def test_requires_action_can_be_abandoned(web, client, sandbox):
    pi = pay(client, "pm_card_authenticationRequired", return_url=RETURN_URL)
    pi = client.v1.payment_intents.cancel(
        pi.id, params={"cancellation_reason": "abandoned"})
    assert (pi.status, pi.cancellation_reason) == ("canceled", "abandoned")
    assert types(sandbox)[-1] == "payment_intent.canceled"
    page = web.post(f"{sandbox.url}/3ds/{pi.id}",
                         data={"outcome": "complete"}, allow_redirects=False,
                         timeout=5)
    assert page.status_code == 409


def test_0341_attaches_but_charges_decline(client):
    customer, pm = saved(client, "pm_card_chargeCustomerFail")
    assert pm.customer == customer.id
    with pytest.raises(stripe.CardError) as exc:
        pay(client, pm.id, customer=customer.id, off_session=True)
    assert exc.value.error.decline_code == "generic_decline"


def test_two_step_confirm_accepts_all_confirm_params(client, sandbox):
    customer = client.v1.customers.create()
    pi = client.v1.payment_intents.create(params={
        "amount": 4200, "currency": "usd",
        "payment_method_types": ["card"]})
    pi = client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": "pm_card_visa", "customer": customer.id,
        "return_url": RETURN_URL, "setup_future_usage": "off_session",
        "statement_descriptor_suffix": "VISIT 42",
        "metadata": {"invoice": "inv_42"}, "description": "Checkup",
        "mandate_data": {"customer_acceptance": {
            "type": "online", "online": {"ip_address": "203.0.113.9",
                                        "user_agent": "UA"}}}})
    assert pi.status == "succeeded"
    assert (pi.customer, pi.description, pi.statement_descriptor_suffix) == \
        (customer.id, "Checkup", "VISIT 42")
    assert pi.metadata.to_dict() == {"invoice": "inv_42"}
    assert client.v1.payment_methods.retrieve(pi.payment_method).customer \
        == customer.id


@pytest.mark.parametrize("suffix", ["x" * 23, "Bad <tag>", "quote'", "st*r",
                                    'dq"', "back\\slash"])
def test_statement_descriptor_suffix_rules(client, suffix):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        pay(client, "pm_card_visa", statement_descriptor_suffix=suffix)
    assert exc.value.param == "statement_descriptor_suffix"


def test_payment_method_type_must_be_allowed(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        pay(client, "pm_usBankAccount_success")       # default: card only
    assert exc.value.code == "payment_intent_incompatible_payment_method"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        pay(client, "pm_card_visa", payment_method_types=["us_bank_account"])
    assert "card" in exc.value.user_message
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={
            "amount": 900, "currency": "usd",
            "payment_method_types": ["sepa_debit"]})
    assert exc.value.param == "payment_method_types[0]"
    pi = pay(client, "pm_card_visa",
             payment_method_types=["card", "us_bank_account"])
    assert pi.status == "succeeded"
    assert pi.payment_method_types == ["card", "us_bank_account"]


def test_confirm_without_payment_method_creates_nothing(client, sandbox):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={
            "amount": 900, "currency": "usd", "confirm": True})
    assert exc.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.create(params={"confirm": True})
    assert exc.value.code == "setup_intent_unexpected_state"
    assert client.v1.payment_intents.list().data == []
    assert client.v1.setup_intents.list().data == []
    assert sandbox.events() == []
