"""Taking money from the portal and from staff: several invoices at once, in
full or in part, credit only when asked, cards and bank accounts on file
(saved with consent, the default, removed), off-session charges, and
manual payments (check, cash, outside terminal)."""
import pytest

from payments_testkit import (
    STAFF, FakeInvoicing, control, events, key, portal, refused, sql, stripe_events,
)

RETURN = "https://cairn.test/return/"


def shares(**amounts):
    return [{"invoice_id": invoice_id, "amount": amount} for invoice_id, amount in amounts.items()]


def collect(p, **payload):
    return p.rpc.collect_payment(STAFF, "cl_1", {"request_key": key(), **payload})


def save(p, method="pm_card_visa", actor=None, **extra):
    return p.rpc.save_method(actor or portal(), "cl_1", {
        "payment_method": method, "request_key": key(), "user_agent": "Mozilla/5.0",
        "return_url_prefix": RETURN, **extra})


# ---- portal --------------------------------------------------------------------------

def test_a_patient_pays_two_invoices_at_once_in_the_portal(payments):
    paid = payments.rpc.pay_in_portal(portal(), "cl_1", {
        "allocations": shares(inv_1=24300, inv_2=5000), "payment_method": "pm_card_visa",
        "request_key": key()})
    assert (paid["status"], paid["amount"], paid["channel"]) == ("succeeded", 29300, "portal")
    [captured] = events(payments.engine, "PaymentCaptured")
    assert [a["invoice_id"] for a in captured["allocations"]] == ["inv_1", "inv_2"]
    assert captured["unapplied"]["amount"] == 0
    [intent] = stripe_events(payments.sandbox, "payment_intent.succeeded")
    assert intent["data"]["object"]["amount"] == 29300


def test_the_portal_pays_only_for_the_client_the_session_acts_for(payments):
    error = refused(lambda: payments.rpc.pay_in_portal(portal("cl_other"), "cl_1", {
        "allocations": shares(inv_1=100), "payment_method": "pm_card_visa",
        "request_key": key()}), "InvalidInput")
    assert "not one you can pay for" in error.value
    assert not sql(payments.engine, "select id from payments")


def test_a_double_submitted_form_takes_money_once(payments):
    payload = {"allocations": shares(inv_1=24300), "payment_method": "pm_card_visa",
               "request_key": key()}
    first = payments.rpc.pay_in_portal(portal(), "cl_1", payload)
    again = payments.rpc.pay_in_portal(portal(), "cl_1", payload)
    assert first["id"] == again["id"]
    assert len(stripe_events(payments.sandbox, "payment_intent.succeeded")) == 1


# ---- staff Collect Payment -------------------------------------------------------------

def test_staff_collect_in_part_and_store_the_card_as_default(payments):
    paid = collect(payments, method="new", allocations=shares(inv_1=10000),
                   payment_method="pm_card_visa", save=True, make_default=True,
                   payer_name="Pat Lindqvist", user_agent="Mozilla/5.0",
                   return_url_prefix=RETURN)
    assert (paid["status"], paid["amount"], paid["payer_name"]) == ("succeeded", 10000, "Pat Lindqvist")
    [method] = payments.rpc.list_saved_methods("cl_1")
    assert method["is_default"] and method["label"] == "Visa ending 4242"
    assert "keep this card on file" in method["consent_text"]
    [row] = sql(payments.engine, "select consented_by, consent_ip from saved_methods")
    assert (row.consented_by, row.consent_ip) == ("staff:st_1", "10.0.0.5")
    customer = sql(payments.engine, "select stripe_customer from stripe_customers")[0][0]
    [created] = stripe_events(payments.sandbox, "customer.created")
    assert created["data"]["object"]["metadata"] == {"cairn_client_id": "cl_1"}
    assert created["data"]["object"]["id"] == customer
    for field in ("name", "email", "description", "phone"):
        assert not created["data"]["object"].get(field)                   # no PHI at Stripe
    [saved_event] = events(payments.engine, "PaymentMethodSaved")
    assert saved_event["is_default"] is True


def test_an_amount_over_the_balance_is_refused_unless_left_as_credit(payments):
    error = refused(lambda: collect(payments, method="cash", allocations=shares(inv_2=6000)),
                    "InvalidInput")
    assert "enter at most that" in error.value
    paid = collect(payments, method="cash", allocations=shares(inv_2=5000), credit=1000)
    assert (paid["status"], paid["amount"], paid["credit_amount"]) == ("succeeded", 6000, 1000)
    [captured] = events(payments.engine, "PaymentCaptured")
    assert captured["unapplied"] == {"amount": 1000, "currency": "usd"}
    assert captured["method"] == "cash"


def test_a_check_needs_its_number_and_shows_it_on_the_payment(payments):
    refused(lambda: collect(payments, method="check", allocations=shares(inv_2=5000)),
            "InvalidInput")
    paid = collect(payments, method="check", check_number="1042", allocations=shares(inv_2=5000))
    assert paid["method_label"] == "Check #1042"
    assert events(payments.engine, "PaymentCaptured")[0]["check_number"] == "1042"
    assert not stripe_events(payments.sandbox, "payment_intent.created")


@pytest.mark.parametrize("payload, words", [
    ({"method": "cash", "allocations": shares(inv_2=-5)}, "more than $0.00"),
    ({"method": "cash", "allocations": shares(inv_2=0)}, "more than $0.00"),
    ({"method": "cash", "allocations": shares(inv_2=12.5)}, "whole number of cents"),
    ({"method": "cash", "allocations": []}, "at least one invoice"),
    ({"method": "cash", "allocations": shares(inv_2=100), "credit": -1}, "more than $0.00"),
    ({"method": "bitcoin", "allocations": shares(inv_2=100)}, "how the payment is made"),
    ({"method": "cash", "allocations": [{"invoice_id": "inv_2", "amount": 1},
                                        {"invoice_id": "inv_2", "amount": 1}]}, "listed twice"),
])
def test_bad_staff_input_changes_nothing(payments, payload, words):
    error = refused(lambda: collect(payments, **payload), "InvalidInput")
    assert words in error.value
    assert not sql(payments.engine, "select id from payments")


# ---- methods on file --------------------------------------------------------------------------

def test_cards_and_bank_accounts_on_file_are_listed_defaulted_and_removed(payments):
    card = save(payments)
    bank = save(payments, "pm_usBankAccount_success", make_default=True)
    assert card["status"] == bank["status"] == "succeeded"
    methods = {m["label"]: m for m in payments.rpc.list_saved_methods("cl_1")}
    assert methods["STRIPE TEST BANK ending 6789"]["is_default"]
    assert "debit" in methods["STRIPE TEST BANK ending 6789"]["consent_text"]
    assert methods["Visa ending 4242"]["expires"]
    payments.rpc.set_default_method(portal(), "cl_1", card["saved_method_id"])
    assert [m["label"] for m in payments.rpc.list_saved_methods("cl_1") if m["is_default"]] == \
        ["Visa ending 4242"]
    payments.rpc.remove_saved_method(portal(), "cl_1", card["saved_method_id"])
    assert [m["label"] for m in payments.rpc.list_saved_methods("cl_1")] == \
        ["STRIPE TEST BANK ending 6789"]
    assert stripe_events(payments.sandbox, "payment_method.detached")
    refused(lambda: payments.rpc.remove_saved_method(portal("cl_2"), "cl_2",
                                                     bank["saved_method_id"]), "NotFound")


def test_a_saved_card_pays_in_the_portal_and_a_removed_one_cannot(payments):
    card = save(payments)
    paid = payments.rpc.pay_in_portal(portal(), "cl_1", {
        "allocations": shares(inv_1=24300, inv_2=5000), "saved_method_id": card["saved_method_id"],
        "request_key": key()})
    assert (paid["status"], paid["card_last4"]) == ("succeeded", "4242")
    payments.rpc.remove_saved_method(portal(), "cl_1", card["saved_method_id"])
    FakeInvoicing.reset(inv_3=1000)
    refused(lambda: payments.rpc.pay_in_portal(portal(), "cl_1", {
        "allocations": shares(inv_3=1000), "saved_method_id": card["saved_method_id"],
        "request_key": key()}), "InvalidInput")


def test_a_method_of_another_customer_is_refused(payments):
    save(payments)
    theirs = sql(payments.engine, "select stripe_payment_method from saved_methods")[0][0]
    FakeInvoicing.invoices["inv_2"]["client_id"] = "cl_2"
    error = refused(lambda: payments.rpc.pay_in_portal(portal("cl_2"), "cl_2", {
        "allocations": shares(inv_2=5000), "payment_method": theirs, "request_key": key()}),
        "InvalidInput")
    assert "belongs to another account" in error.value


def test_saving_a_card_that_needs_3d_secure_waits_for_the_bank(payments):
    started = save(payments, "pm_card_authenticationRequiredOnSetup")
    assert started["status"] == "requires_action" and started["next_action_url"]
    setup_id = sql(payments.engine, "select stripe_setup_intent from setup_attempts")[0][0]
    control(payments.sandbox, "POST", f"authenticate/{setup_id}", {"outcome": "complete"})
    done = payments.rpc.complete_method_setup(portal(), "cl_1", started["id"])
    assert done["status"] == "succeeded"
    assert payments.rpc.list_saved_methods("cl_1")[0]["label"] == "Visa ending 3155"


def test_a_declined_card_is_not_saved(payments):
    error = refused(lambda: save(payments, "pm_card_chargeDeclined"), "PaymentDeclined")
    assert "declined" in error.value
    assert payments.rpc.list_saved_methods("cl_1") == []


# ---- off session ---------------------------------------------------------------------------

def test_an_off_session_charge_of_a_card_set_up_with_3d_secure_goes_through(payments):
    started = save(payments, "pm_card_authenticationRequiredOnSetup")
    setup_id = sql(payments.engine, "select stripe_setup_intent from setup_attempts")[0][0]
    control(payments.sandbox, "POST", f"authenticate/{setup_id}", {"outcome": "complete"})
    payments.rpc.complete_method_setup(portal(), "cl_1", started["id"])
    paid = payments.rpc.charge_saved_method("cl_1", shares(inv_2=5000), key())
    assert (paid["status"], paid["initiated_by"]) == ("succeeded", "autopay")


def test_an_off_session_charge_the_bank_wants_confirmed_fails_and_says_why(payments):
    card = save(payments, "pm_card_authenticationRequired")
    setup_id = sql(payments.engine, "select stripe_setup_intent from setup_attempts")[0][0]
    control(payments.sandbox, "POST", f"authenticate/{setup_id}", {"outcome": "complete"})
    payments.rpc.complete_method_setup(portal(), "cl_1", card["id"])
    error = refused(lambda: payments.rpc.charge_saved_method("cl_1", shares(inv_2=5000), key()),
                    "PaymentDeclined")
    assert "confirm this payment" in error.value
    [failed] = events(payments.engine, "PaymentFailed")
    assert (failed["failure_code"], failed["initiated_by"]) == ("authentication_required", "autopay")


def test_a_card_that_saves_but_cannot_be_charged_fails_off_session(payments):
    save(payments, "pm_card_chargeCustomerFail")
    error = refused(lambda: collect(payments, method="saved", allocations=shares(inv_2=5000),
                                    saved_method_id=payments.rpc.list_saved_methods("cl_1")[0]["id"]),
                    "PaymentDeclined")
    assert "declined" in error.value
    [failed] = events(payments.engine, "PaymentFailed")
    assert failed["initiated_by"] == "staff"


def test_autopay_without_a_method_on_file_is_refused(payments):
    error = refused(lambda: payments.rpc.charge_saved_method("cl_1", shares(inv_2=5000), key()),
                    "InvalidInput")
    assert "no card or bank account on file" in error.value
