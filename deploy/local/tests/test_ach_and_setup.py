"""US bank account debits (processing, then settled by the sandbox clock),
mandates, and setup intents."""
import pytest
import stripe


def types(sandbox):
    return [e["type"] for e in sandbox.events()]


def ach(client, method="pm_usBankAccount_success", **params):
    return client.v1.payment_intents.create(params={
        "amount": 12000, "currency": "usd",
        "payment_method_types": ["us_bank_account"],
        "payment_method": method, "confirm": True, **params})


def test_ach_processing_then_succeeds_when_clock_passes(client, sandbox,
                                                        control,
                                                        mandate_data):
    pi = ach(client, mandate_data=mandate_data)
    assert pi.status == "processing"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.paid) == ("pending", False)
    details = charge.payment_method_details.us_bank_account
    assert details.last4 == "6789" and details.mandate.startswith("mandate_")
    mandate = client.v1.mandates.retrieve(details.mandate)
    assert (mandate.status, mandate.type) == ("active", "single_use")
    assert mandate.customer_acceptance.online.ip_address == "203.0.113.7"
    assert mandate.payment_method == pi.payment_method
    assert types(sandbox)[-2:] == ["charge.pending",
                                   "payment_intent.processing"]

    status, clock = control("GET", "/_sandbox/clock")
    assert clock["scheduled"] == [{"due": pi.created + 259200,
                                   "kind": "ach_payment", "object": pi.id}]
    status, clock = control("POST", "/_sandbox/clock/advance",
                            {"seconds": 259200 - 60})
    assert status == 200 and clock["offset_seconds"] == 259140
    assert clock["now"] < pi.created + 259200
    assert client.v1.payment_intents.retrieve(pi.id).status == "processing"

    before = len(sandbox.events())
    control("POST", "/_sandbox/clock/advance", {"seconds": 60})
    assert client.v1.payment_intents.retrieve(pi.id).status == "succeeded"
    assert client.v1.charges.retrieve(pi.latest_charge).status == "succeeded"
    assert types(sandbox)[before:] == ["charge.succeeded",
                                       "payment_intent.succeeded"]
    control("POST", "/_sandbox/clock/advance", {"days": 10})   # never twice
    assert types(sandbox)[before:] == ["charge.succeeded",
                                       "payment_intent.succeeded"]
    succeeded = [e for e in sandbox.events()
                 if e["type"] == "payment_intent.succeeded"][0]
    assert succeeded["request"] == {"id": None, "idempotency_key": None}
    assert succeeded["created"] >= pi.created + 259200


@pytest.mark.parametrize("token, code", [
    ("pm_usBankAccount_accountClosed", "account_closed"),
    ("pm_usBankAccount_noAccount", "no_account"),
    ("pm_usBankAccount_insufficientFunds", "insufficient_funds"),
    ("pm_usBankAccount_debitNotAuthorized", "debit_not_authorized"),
])
def test_ach_failures_come_after_processing(client, sandbox, control,
                                            mandate_data, token, code):
    pi = ach(client, token, mandate_data=mandate_data)
    assert pi.status == "processing"
    before = len(sandbox.events())
    control("POST", "/_sandbox/clock/advance", {"days": 3})
    pi = client.v1.payment_intents.retrieve(pi.id)
    assert pi.status == "requires_payment_method"
    error = pi.last_payment_error
    assert error.code == code and error.message
    assert error.type == "invalid_request_error"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.status, charge.failure_code) == ("failed", code)
    assert types(sandbox)[before:] == ["charge.failed",
                                       "payment_intent.payment_failed"]


def test_ach_settlement_delay_is_configurable(make_sandbox, make_client,
                                              mandate_data, wait_until):
    sb = make_sandbox(ach_settlement_seconds=1)
    client = make_client(sb.url)
    pi = ach(client, mandate_data=mandate_data)
    assert pi.status == "processing"
    # real time passing is enough: the background ticker settles it
    wait_until(lambda: client.v1.payment_intents.retrieve(pi.id).status ==
               "succeeded", timeout=10, interval=0.1)


def test_on_session_ach_needs_mandate_data(client, sandbox):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        ach(client)
    assert (exc.value.param, exc.value.code) == ("mandate_data",
                                                 "parameter_missing")
    assert client.v1.payment_intents.list().data == []    # nothing created
    assert sandbox.events() == []
    with pytest.raises(stripe.InvalidRequestError) as exc:
        ach(client, mandate_data={"customer_acceptance": {
            "type": "online", "online": {"ip_address": "1.2.3.4"}}})
    assert exc.value.param == \
        "mandate_data[customer_acceptance][online][user_agent]"


def test_ach_saved_with_setup_future_usage_then_off_session(
        client, control, mandate_data):
    customer = client.v1.customers.create()
    first = ach(client, customer=customer.id,
                setup_future_usage="off_session", mandate_data=mandate_data)
    pm = client.v1.payment_methods.retrieve(first.payment_method)
    assert pm.customer == customer.id
    again = ach(client, pm.id, customer=customer.id)      # on-session reuse
    assert again.status == "processing"
    later = ach(client, pm.id, customer=customer.id, off_session=True)
    assert later.status == "processing"
    mandate_id = client.v1.charges.retrieve(later.latest_charge) \
        .payment_method_details.us_bank_account.mandate
    assert client.v1.mandates.retrieve(mandate_id).type == "multi_use"
    control("POST", "/_sandbox/clock/advance", {"days": 3})
    assert client.v1.payment_intents.retrieve(later.id).status == "succeeded"


def test_off_session_ach_without_mandate_fails(client):
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach("pm_usBankAccount_success",
                                          params={"customer": customer.id})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        ach(client, pm.id, customer=customer.id, off_session=True)
    assert exc.value.param == "mandate_data"


def test_processing_ach_cannot_be_canceled(client, mandate_data):
    pi = ach(client, mandate_data=mandate_data)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.cancel(pi.id)
    assert exc.value.code == "payment_intent_unexpected_state"


def test_ach_requires_usd(client):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_intents.create(params={
            "amount": 1000, "currency": "eur",
            "payment_method_types": ["us_bank_account"]})
    assert exc.value.param == "currency"


# -- setup intents -----------------------------------------------------------

def setup(client, method, **params):
    return client.v1.setup_intents.create(params={
        "payment_method": method, "confirm": True, **params})


def test_setup_intent_card_succeeds_and_attaches(client, sandbox):
    customer = client.v1.customers.create()
    si = setup(client, "pm_card_visa", customer=customer.id,
               metadata={"k": "v"}, description="save card")
    assert si.object == "setup_intent" and si.id.startswith("seti_")
    assert (si.status, si.usage) == ("succeeded", "off_session")
    assert si.client_secret.startswith(si.id + "_secret_")
    assert client.v1.payment_methods.retrieve(si.payment_method).customer \
        == customer.id
    assert types(sandbox)[-3:] == ["setup_intent.created",
                                   "payment_method.attached",
                                   "setup_intent.succeeded"]


def test_setup_intent_two_steps_update_and_list(client):
    customer = client.v1.customers.create()
    si = client.v1.setup_intents.create(params={"customer": customer.id})
    assert si.status == "requires_payment_method"
    si = client.v1.setup_intents.update(si.id, params={
        "payment_method": "pm_card_mastercard", "metadata": {"a": "1"}})
    assert si.status == "requires_confirmation"
    si = client.v1.setup_intents.confirm(si.id)
    assert si.status == "succeeded"
    other = client.v1.setup_intents.create()
    listed = client.v1.setup_intents.list(params={"customer": customer.id})
    assert [s.id for s in listed.data] == [si.id]
    assert {s.id for s in client.v1.setup_intents.list().data} == \
        {si.id, other.id}
    by_pm = client.v1.setup_intents.list(
        params={"payment_method": si.payment_method})
    assert [s.id for s in by_pm.data] == [si.id]
    assert client.v1.setup_intents.retrieve(si.id).metadata.a == "1"


@pytest.mark.parametrize("token", [
    "pm_card_authenticationRequired",
    "pm_card_authenticationRequiredOnSetup",
    "pm_card_authenticationRequiredChargeDeclinedInsufficientFunds",
])
def test_setup_intent_3ds(client, sandbox, web, token):
    customer = client.v1.customers.create()
    si = setup(client, token, customer=customer.id,
               return_url="https://clinic.example/saved")
    assert si.status == "requires_action"
    assert si.next_action.redirect_to_url.url.endswith(f"/3ds/{si.id}")
    assert types(sandbox)[-1] == "setup_intent.requires_action"
    done = web.post(si.next_action.redirect_to_url.url,
                    data={"outcome": "complete"}, allow_redirects=False,
                    timeout=5)
    location = done.headers["Location"]
    assert location.startswith("https://clinic.example/saved?setup_intent=")
    assert f"setup_intent_client_secret={si.client_secret}" in location
    assert location.endswith("redirect_status=succeeded")
    si = client.v1.setup_intents.retrieve(si.id)
    assert si.status == "succeeded"
    assert types(sandbox)[-2:] == ["payment_method.attached",
                                   "setup_intent.succeeded"]


def test_setup_3155_then_off_session_payments_succeed(client, control):
    customer = client.v1.customers.create()
    si = setup(client, "pm_card_authenticationRequiredOnSetup",
               customer=customer.id)
    control("POST", f"/_sandbox/authenticate/{si.id}",
            {"outcome": "complete"})
    pi = client.v1.payment_intents.create(params={
        "amount": 5000, "currency": "usd", "customer": customer.id,
        "payment_method": si.payment_method, "confirm": True,
        "off_session": True})
    assert pi.status == "succeeded"


def test_setup_intent_authentication_failure(client, sandbox, control):
    si = setup(client, "pm_card_authenticationRequired")
    status, body = control("POST", f"/_sandbox/authenticate/{si.id}",
                           {"outcome": "fail"})
    assert status == 200 and body["status"] == "requires_payment_method"
    assert body["last_setup_error"]["code"] == \
        "setup_intent_authentication_failure"
    assert types(sandbox)[-1] == "setup_intent.setup_failed"


@pytest.mark.parametrize("token, decline_code", [
    ("pm_card_chargeDeclined", "generic_decline"),
    ("pm_card_chargeDeclinedInsufficientFunds", "insufficient_funds"),
])
def test_setup_intent_declines(client, sandbox, token, decline_code):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.CardError) as exc:
        setup(client, token, customer=customer.id)
    err = exc.value
    assert (err.http_status, err.code) == (402, "card_declined")
    assert err.error.decline_code == decline_code
    si = client.v1.setup_intents.retrieve(err.error.setup_intent.id)
    assert si.status == "requires_payment_method"
    assert si.last_setup_error.decline_code == decline_code
    assert types(sandbox)[-1] == "setup_intent.setup_failed"
    assert client.v1.payment_methods.list(
        params={"customer": customer.id}).data == []


def test_setup_0341_succeeds_then_charge_declines(client):
    customer = client.v1.customers.create()
    si = setup(client, "pm_card_chargeCustomerFail", customer=customer.id)
    assert si.status == "succeeded"
    with pytest.raises(stripe.CardError):
        client.v1.payment_intents.create(params={
            "amount": 5000, "currency": "usd", "customer": customer.id,
            "payment_method": si.payment_method, "confirm": True,
            "off_session": True})


def test_setup_bank_account_makes_mandate_for_off_session(
        client, control, mandate_data):
    customer = client.v1.customers.create()
    with pytest.raises(stripe.InvalidRequestError) as exc:
        setup(client, "pm_usBankAccount_success", customer=customer.id,
              payment_method_types=["us_bank_account"])
    assert exc.value.param == "mandate_data"
    si = setup(client, "pm_usBankAccount_success", customer=customer.id,
               payment_method_types=["us_bank_account"],
               mandate_data=mandate_data)
    assert si.status == "succeeded" and si.mandate.startswith("mandate_")
    assert client.v1.mandates.retrieve(si.mandate).type == "multi_use"
    pi = ach(client, si.payment_method, customer=customer.id,
             off_session=True)
    assert pi.status == "processing"


def test_setup_intent_cancel(client, sandbox):
    si = setup(client, "pm_card_authenticationRequired")
    si = client.v1.setup_intents.cancel(
        si.id, params={"cancellation_reason": "abandoned"})
    assert (si.status, si.cancellation_reason) == ("canceled", "abandoned")
    assert types(sandbox)[-1] == "setup_intent.canceled"
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.setup_intents.confirm(si.id)
    assert exc.value.code == "setup_intent_unexpected_state"
