"""A clinic-like page on its own origin loads the sandbox's Stripe.js
subset, mounts the Payment Element, and gets PaymentMethod ids back without
ever seeing a card number; the 3-D Secure page's buttons redirect back.
Also: axe-core finds no serious or critical problems, and nothing
overflows at 390 px."""
import json
import pathlib
from urllib.parse import parse_qs, urlsplit

import pytest
import stripe

PK = "pk_test_browser"
FRAME = 'iframe[title="Secure payment form"]'

PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Pay your invoice</title>
<script src="SANDBOX/v3/"></script></head>
<body><main><h1>Pay your invoice</h1>
<form id="pay"><div id="payment-element"></div>
<button type="submit">Pay</button></form>
<p id="result" role="status"></p>
<script>
const stripe = Stripe("PK");
const elements = stripe.elements({mode: "payment", currency: "usd",
  amount: 12345, paymentMethodTypes: TYPES, paymentMethodCreation: "manual"});
const paymentElement = elements.create("payment", {});
window.changes = [];
paymentElement.on("ready", () => { window.elementReady = true; });
paymentElement.on("change", ev => { window.changes.push(ev); });
paymentElement.mount("#payment-element");
elements.update({amount: 5000});
document.getElementById("pay").addEventListener("submit", async (e) => {
  e.preventDefault();
  const {error: submitError} = await elements.submit();
  if (submitError) { window.result = {submitError}; return; }
  const {error, paymentMethod} = await stripe.createPaymentMethod({elements,
    params: {billing_details: {name: "Pat Doe", email: "pat@example.com"}}});
  window.result = error ? {error} : {paymentMethod};
  document.getElementById("result").textContent =
    error ? error.message : paymentMethod.id;
});
</script></main></body></html>"""


def open_checkout(page, site, sandbox, types=("card", "us_bank_account")):
    path = "/pay-" + "-".join(types)
    site.pages[path] = (PAGE.replace("SANDBOX", sandbox.url)
                        .replace("PK", PK)
                        .replace("TYPES", json.dumps(list(types))))
    page.goto(site.url + path)
    page.wait_for_function("window.elementReady === true")
    return page.frame_locator(FRAME)


def pay(page):
    page.evaluate("window.result = undefined")
    page.get_by_role("button", name="Pay").click()
    page.wait_for_function("window.result !== undefined")
    return page.evaluate("window.result")


def sdk(sandbox):
    return stripe.StripeClient("sk_test_browser",
                               base_addresses={"api": sandbox.url},
                               max_network_retries=0)


@pytest.mark.parametrize("label, last4", [
    ("Visa 4242 — succeeds", "4242"),
    ("Visa 3184 — needs 3-D Secure", "3184"),
])
def test_test_card_gives_the_page_a_payment_method(page, site, sandbox,
                                                    label, last4):
    frame = open_checkout(page, site, sandbox)
    frame.get_by_label("Test card").select_option(label=label)
    page.wait_for_function(
        "window.changes.length && window.changes.at(-1).complete")
    change = page.evaluate("window.changes.at(-1)")
    assert change == {"elementType": "payment", "complete": True,
                      "empty": False, "collapsed": False,
                      "value": {"type": "card"}}
    result = pay(page)
    method = result["paymentMethod"]
    assert method["id"].startswith("pm_") and method["type"] == "card"
    assert method["card"]["last4"] == last4
    assert page.get_by_role("status").inner_text() == method["id"]
    saved = sdk(sandbox).v1.payment_methods.retrieve(method["id"])
    assert saved.billing_details.name == "Pat Doe"
    assert saved.billing_details.address.postal_code == "10001"


def test_typed_card_and_validation_messages(page, site, sandbox):
    frame = open_checkout(page, site, sandbox, types=("card",))
    assert frame.get_by_label("US bank account").count() == 0
    result = pay(page)
    assert result["submitError"]["type"] == "validation_error"
    assert result["submitError"]["message"] == \
        "Your card number is incomplete."
    number = frame.get_by_label("Card number")
    assert number.get_attribute("aria-invalid") == "true"
    assert frame.locator("#number-error").inner_text() == \
        "Your card number is incomplete."
    number.fill("4242424242424241")
    frame.get_by_label("Expiration (MM / YY)").fill("1234")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_label("ZIP").fill("94107")
    assert pay(page)["submitError"]["code"] == "invalid_number"
    number.fill("5555 5555 5555 4444")
    method = pay(page)["paymentMethod"]
    assert (method["card"]["brand"], method["card"]["last4"]) == \
        ("mastercard", "4444")
    assert method["card"]["exp_month"] == 12
    assert method["card"]["exp_year"] == 2034


def test_api_errors_come_back_stripe_shaped(page, site, sandbox):
    frame = open_checkout(page, site, sandbox, types=("card",))
    frame.get_by_label("Card number").fill("4111 1111 1111 1111")
    frame.get_by_label("Expiration (MM / YY)").fill("12 / 34")
    frame.get_by_label("Security code").fill("123")
    frame.get_by_label("ZIP").fill("94107")
    error = pay(page)["error"]
    assert error["type"] == "card_error"
    assert error["decline_code"] == "live_mode_test_card"


def test_bank_account(page, site, sandbox):
    frame = open_checkout(page, site, sandbox)
    frame.get_by_label("US bank account").check()
    page.wait_for_function(
        "window.changes.at(-1).value.type === 'us_bank_account'")
    frame.get_by_label("Test bank account").select_option(
        label="…6789 — succeeds after 3 days")
    frame.get_by_label("Account type").select_option("savings")
    method = pay(page)["paymentMethod"]
    assert method["type"] == "us_bank_account"
    bank = method["us_bank_account"]
    assert (bank["bank_name"], bank["last4"], bank["account_type"]) == \
        ("STRIPE TEST BANK", "6789", "savings")
    assert method["billing_details"]["name"] == "Jenny Rosen"


@pytest.mark.parametrize("button, redirect_status, intent_status", [
    ("Complete authentication", "succeeded", "succeeded"),
    ("Fail authentication", "failed", "requires_payment_method"),
])
def test_3ds_page_redirects_to_return_url(page, site, sandbox, button,
                                         redirect_status, intent_status):
    client = sdk(sandbox)
    pi = client.v1.payment_intents.create(params={
        "amount": 4200, "currency": "usd", "confirm": True,
        "payment_method": "pm_card_authenticationRequired",
        "return_url": site.url + "/paid?invoice=9"})
    page.goto(pi.next_action.redirect_to_url.url)
    assert page.title() == "Authenticate — Stripe sandbox"
    page.get_by_role("button", name=button).click()
    page.wait_for_url(site.url + "/paid?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["redirect_status"] == [redirect_status]
    assert query["payment_intent"] == [pi.id]
    assert query["payment_intent_client_secret"] == [pi.client_secret]
    assert query["invoice"] == ["9"]
    assert client.v1.payment_intents.retrieve(pi.id).status == intent_status


def test_3ds_page_for_a_setup_intent(page, site, sandbox):
    client = sdk(sandbox)
    si = client.v1.setup_intents.create(params={
        "confirm": True, "payment_method": "pm_card_authenticationRequired",
        "return_url": site.url + "/saved"})
    page.goto(si.next_action.redirect_to_url.url)
    page.get_by_role("button", name="Complete authentication").click()
    page.wait_for_url(site.url + "/saved?**")
    query = parse_qs(urlsplit(page.url).query)
    assert query["setup_intent"] == [si.id]
    assert query["redirect_status"] == ["succeeded"]


def axe_source():
    axe = pytest.importorskip(
        "axe_playwright_python",
        reason="axe-core comes from the axe-playwright-python package")
    return (pathlib.Path(axe.__file__).parent / "axe.min.js").read_text()


def serious(page):
    page.add_script_tag(content=axe_source())
    result = page.evaluate("axe.run(document)")
    return [(v["id"], v["impact"], [n["target"] for n in v["nodes"]])
            for v in result["violations"]
            if v["impact"] in ("serious", "critical")]


def test_accessible_and_fits_a_phone(page, site, sandbox):
    page.goto(f"{sandbox.url}/elements/payment?key={PK}&id=x&"
              f"parent={site.url}&types=card,us_bank_account")
    assert serious(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.get_by_label("US bank account").check()
    page.get_by_label("Account holder name").fill("")
    assert serious(page) == []
    client = sdk(sandbox)
    pi = client.v1.payment_intents.create(params={
        "amount": 4200, "currency": "usd", "confirm": True,
        "payment_method": "pm_card_authenticationRequired",
        "return_url": site.url + "/paid"})
    page.goto(pi.next_action.redirect_to_url.url)
    assert serious(page) == []
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_iframe_resizes_to_its_content(page, site, sandbox):
    frame = open_checkout(page, site, sandbox)
    iframe = page.locator(FRAME)
    page.wait_for_function(
        f"document.querySelector('{FRAME}').style.height !== '300px'")
    before = iframe.bounding_box()["height"]
    frame.get_by_label("US bank account").check()
    page.wait_for_function(
        f"document.querySelector('{FRAME}').getBoundingClientRect().height"
        f" !== {before}")
    inner = frame.locator("html").evaluate(
        "el => el.scrollHeight")
    assert abs(iframe.bounding_box()["height"] - inner) <= 2
