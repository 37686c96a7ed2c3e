"""POST /v1/payment_methods (card numbers, bank accounts, publishable keys)
and the test tokens, through the official SDK."""
import pytest
import stripe

CARD = {"exp_month": 12, "exp_year": 2034, "cvc": "123"}


def card_pm(client, number, **card):
    return client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": number, **CARD, **card},
        "billing_details": {"name": "Pat Doe", "email": "pat@example.com",
                            "address": {"postal_code": "10001"}}})


def bank_pm(client, account="000123456789", routing="110000000", **extra):
    params = {"type": "us_bank_account", "us_bank_account": {
        "routing_number": routing, "account_number": account,
        "account_holder_type": "individual", "account_type": "checking"},
        "billing_details": {"name": "Pat Doe"}}
    params.update(extra)
    return client.v1.payment_methods.create(params=params)


@pytest.mark.parametrize("number, brand, last4", [
    ("4242 4242 4242 4242", "visa", "4242"),
    ("5555555555554444", "mastercard", "4444"),
    ("4000002760003184", "visa", "3184"),
])
def test_create_card_with_publishable_key(pk_client, client, number, brand,
                                          last4):
    pm = card_pm(pk_client, number)
    assert pm.id.startswith("pm_") and pm.type == "card"
    assert (pm.card.brand, pm.card.last4) == (brand, last4)
    assert (pm.card.exp_month, pm.card.exp_year) == (12, 2034)
    assert pm.card.checks.cvc_check == "pass"
    assert pm.billing_details.name == "Pat Doe"
    assert pm.billing_details.address.postal_code == "10001"
    assert pm.customer is None
    assert client.v1.payment_methods.retrieve(pm.id).card.last4 == last4


def test_same_number_same_fingerprint(client):
    a, b = card_pm(client, "4242424242424242"), card_pm(client, "4242424242424242")
    c = card_pm(client, "5555555555554444")
    assert a.id != b.id and a.card.fingerprint == b.card.fingerprint
    assert c.card.fingerprint != a.card.fingerprint


def test_publishable_key_only_creates_payment_methods(pk_client, sandbox):
    with pytest.raises(stripe.AuthenticationError) as exc:
        pk_client.v1.customers.create()
    assert exc.value.http_status == 401
    assert "cannot be made with a publishable API key" in \
        exc.value.user_message
    with pytest.raises(stripe.AuthenticationError):
        pk_client.v1.payment_intents.list()
    assert sandbox.events() == []


def test_luhn_invalid_number_is_incorrect_number(pk_client):
    with pytest.raises(stripe.CardError) as exc:
        card_pm(pk_client, "4242424242424241")
    assert exc.value.http_status == 402
    assert exc.value.code == "incorrect_number"
    assert exc.value.user_message == "Your card number is incorrect."


def test_unknown_valid_number_is_live_mode_test_card(pk_client):
    with pytest.raises(stripe.CardError) as exc:
        card_pm(pk_client, "4111111111111111")
    assert exc.value.code == "card_declined"
    assert exc.value.error.decline_code == "live_mode_test_card"
    assert "test mode" in exc.value.user_message


@pytest.mark.parametrize("card, error, code, param", [
    ({"exp_year": 2001}, stripe.CardError, "invalid_expiry_year", "exp_year"),
    ({"exp_month": 13}, stripe.CardError, "invalid_expiry_month",
     "exp_month"),
    ({"cvc": "12a"}, stripe.CardError, "invalid_cvc", "cvc"),
    ({"exp_month": ""}, stripe.InvalidRequestError, "parameter_missing",
     "card[exp_month]"),
])
def test_bad_expiry_and_cvc(pk_client, card, error, code, param):
    with pytest.raises(error) as exc:
        card_pm(pk_client, "4242424242424242", **card)
    assert (exc.value.code, exc.value.param) == (code, param)


def test_two_digit_year_is_accepted(pk_client):
    assert card_pm(pk_client, "4242424242424242",
                   exp_year="34").card.exp_year == 2034


def test_create_bank_account(pk_client, client):
    pm = bank_pm(pk_client, "000222222227")
    assert pm.type == "us_bank_account"
    bank = pm.us_bank_account
    assert (bank.bank_name, bank.last4, bank.routing_number) == \
        ("STRIPE TEST BANK", "2227", "110000000")
    assert (bank.account_holder_type, bank.account_type) == \
        ("individual", "checking")
    assert bank.fingerprint and bank.networks.supported == ["ach"]
    assert bank.status_details.to_dict() == {}


@pytest.mark.parametrize("kwargs, param, code", [
    ({"billing_details": {"email": "x@example.com"}}, "billing_details[name]",
     "parameter_missing"),
    ({"routing": "12345"}, "us_bank_account[routing_number]",
     "routing_number_invalid"),
    ({"routing": "021000021"}, "us_bank_account[routing_number]",
     "routing_number_invalid"),
    ({"account": "000999999999"}, "us_bank_account[account_number]",
     "account_number_invalid"),
])
def test_bad_bank_accounts(client, kwargs, param, code):
    with pytest.raises(stripe.InvalidRequestError) as exc:
        bank_pm(client, **kwargs)
    assert (exc.value.param, exc.value.code) == (param, code)
    assert exc.value.http_status == 400


@pytest.mark.parametrize("token, last4", [
    ("pm_card_authenticationRequired", "3184"),
    ("pm_card_authenticationRequiredOnSetup", "3155"),
    ("pm_card_authenticationRequiredChargeDeclinedInsufficientFunds", "3178"),
    ("pm_card_chargeCustomerFail", "0341"),
    ("pm_card_refundFail", "5126"),
])
def test_card_tokens(client, token, last4):
    assert client.v1.payment_methods.retrieve(token).card.last4 == last4


@pytest.mark.parametrize("token, last4", [
    ("pm_usBankAccount_success", "6789"),
    ("pm_usBankAccount_accountClosed", "1113"),
    ("pm_usBankAccount_noAccount", "1116"),
    ("pm_usBankAccount_insufficientFunds", "2227"),
    ("pm_usBankAccount_debitNotAuthorized", "3335"),
])
def test_bank_tokens_attach_list_detach(client, token, last4):
    customer = client.v1.customers.create()
    pm = client.v1.payment_methods.attach(token,
                                          params={"customer": customer.id})
    card = client.v1.payment_methods.attach("pm_card_visa",
                                            params={"customer": customer.id})
    assert pm.us_bank_account.last4 == last4 and pm.customer == customer.id
    banks = client.v1.payment_methods.list(
        params={"customer": customer.id, "type": "us_bank_account"})
    assert [m.id for m in banks.data] == [pm.id]
    listed = client.v1.customers.payment_methods.list(
        customer.id, params={"type": "card"})
    assert [m.id for m in listed.data] == [card.id]
    detached = client.v1.payment_methods.detach(pm.id)
    assert detached.customer is None
    assert client.v1.payment_methods.list(
        params={"customer": customer.id, "type": "us_bank_account"}).data == []
