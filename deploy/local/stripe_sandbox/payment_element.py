"""GET /elements/payment: the hosted form inside the Payment Element iframe.

Query: key (publishable key), id (frame id), parent (the page's origin),
mode, types (comma-separated: card, us_bank_account). The form talks only
to `parent` through postMessage and calls POST /v1/payment_methods on its
own origin with the publishable key. Inline CSS and JS, nothing external;
labelled fields, errors next to them, usable at 390 px.
"""
import html
import json
from urllib.parse import parse_qs

from . import cards

TYPES = ("card", "us_bank_account")


def render(query):
    args = {k: v[0] for k, v in parse_qs(query).items()}
    types = [t for t in (args.get("types") or "card").split(",")
             if t in TYPES] or ["card"]
    config = {"key": args.get("key", ""), "id": args.get("id", ""),
              "parent": args.get("parent", ""), "types": types}
    card_options = "".join(
        f'<option value="{c.number}">{html.escape(c.label)}</option>'
        for c in cards.CARDS.values())
    bank_options = "".join(
        f'<option value="{b.account_number}">{html.escape(b.label)}</option>'
        for b in cards.BANK_ACCOUNTS.values())
    choice = "" if len(types) == 1 else f"""
<fieldset class="choice"><legend>Payment method</legend>
{''.join(_radio(t, i == 0) for i, t in enumerate(types))}
</fieldset>"""
    return PAGE.format(
        choice=choice, card_options=card_options, bank_options=bank_options,
        card_hidden="" if types[0] == "card" else " hidden",
        bank_hidden="" if types[0] == "us_bank_account" else " hidden",
        routing=cards.TEST_ROUTING_NUMBER,
        config=json.dumps(config).replace("</", "<\\/"), script=SCRIPT)


def _radio(kind, checked):
    label = "Card" if kind == "card" else "US bank account"
    mark = " checked" if checked else ""
    return (f'<label class="radio"><input type="radio" name="type" '
            f'value="{kind}"{mark}> {label}</label>')


def _field(name, label, attrs="", note=""):
    return (f'<div class="field"><label for="{name}">{label}</label>{note}'
            f'<input id="{name}" name="{name}" aria-describedby="{name}-error" '
            f'{attrs}><p id="{name}-error" class="error" aria-live="polite">'
            f'</p></div>')


PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Secure payment form — Stripe sandbox</title>
<style>
*{{box-sizing:border-box}}
html,body{{margin:0;padding:0;background:#fff;color:#1a1a1a;font:16px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}}
form{{padding:2px}}
fieldset{{border:0;margin:0 0 .75rem;padding:0}}
legend{{font-weight:600;margin-bottom:.25rem;padding:0}}
.choice{{display:flex;flex-wrap:wrap;gap:.5rem 1rem}}
.radio{{display:inline-flex;align-items:center;gap:.4rem;min-height:44px;padding:0 .75rem;border:1px solid #6b6b6b;border-radius:6px;cursor:pointer}}
.radio input{{width:1.1rem;height:1.1rem;margin:0}}
.field{{margin:0 0 .5rem;min-width:0}}
.field label,.field>span{{display:block;font-weight:600;margin-bottom:.2rem}}
input:not([type=radio]),select{{width:100%;font:inherit;color:#1a1a1a;background:#fff;border:1px solid #6b6b6b;border-radius:6px;padding:.6rem .7rem;min-height:44px}}
input:focus,select:focus{{outline:3px solid #1a56db;outline-offset:1px}}
input[aria-invalid=true]{{border-color:#a4161a;border-width:2px}}
.row{{display:flex;flex-wrap:wrap;gap:0 .75rem}}
.row .field{{flex:1 1 8rem}}
.error{{color:#a4161a;margin:.2rem 0 0;min-height:0;font-size:.9rem}}
.error:empty{{display:none}}
.hint{{color:#4a4a4a;font-size:.9rem;margin:0 0 .2rem}}
.test{{background:#f4f6fa;border:1px dashed #6b6b6b;border-radius:6px;padding:.5rem .6rem;margin-bottom:.75rem}}
[hidden]{{display:none!important}}
</style></head>
<body><main>
<form id="form" novalidate aria-label="Payment details">
{choice}
<div id="card-fields"{card_hidden}>
<div class="field test"><label for="test-card">Test card</label>
<select id="test-card"><option value="">Choose a test card…</option>{card_options}</select></div>
""" + _field("number", "Card number", 'inputmode="numeric" '
             'autocomplete="cc-number" placeholder="1234 1234 1234 1234"') + """
<div class="row">
""" + _field("exp", "Expiration (MM / YY)", 'inputmode="numeric" '
             'autocomplete="cc-exp" placeholder="MM / YY"') + \
    _field("cvc", "Security code", 'inputmode="numeric" '
           'autocomplete="cc-csc" placeholder="CVC"') + """
</div>
""" + _field("zip", "ZIP", 'inputmode="numeric" autocomplete="postal-code" '
             'placeholder="12345"') + """
</div>
<div id="bank-fields"{bank_hidden}>
<div class="field test"><label for="test-bank">Test bank account</label>
<select id="test-bank"><option value="">Choose a test bank account…</option>{bank_options}</select></div>
""" + _field("holder", "Account holder name", 'autocomplete="name"') + \
    _field("routing", "Routing number", 'inputmode="numeric" '
           'placeholder="{routing}"') + \
    _field("account", "Account number", 'inputmode="numeric"') + """
<div class="field"><label for="account-type">Account type</label>
<select id="account-type"><option value="checking">Checking</option><option value="savings">Savings</option></select></div>
</div>
</form>
</main>
<script id="config" type="application/json">{config}</script>
<script>{script}</script>
</body></html>"""

SCRIPT = r"""
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("config").textContent);
  var PARENT = config.parent && config.parent !== "null" ? config.parent : "*";
  var $ = function (id) { return document.getElementById(id); };
  var type = config.types[0];
  var touched = {};

  function post(message) {
    message.frameId = config.id;
    window.parent.postMessage(message, PARENT);
  }
  function digits(value) { return (value || "").replace(/\D/g, ""); }
  function luhn(number) {
    var sum = 0;
    for (var i = 0; i < number.length; i++) {
      var d = +number[number.length - 1 - i];
      if (i % 2) { d = d * 2; if (d > 9) { d -= 9; } }
      sum += d;
    }
    return sum % 10 === 0;
  }
  function err(code, message) { return {type: "validation_error", code: code, message: message}; }

  var checks = {
    number: function () {
      var n = digits($("number").value);
      if (n.length < 13) { return err("incomplete_number", "Your card number is incomplete."); }
      if (n.length > 19 || !luhn(n)) { return err("invalid_number", "Your card number is invalid."); }
    },
    exp: function () {
      var d = digits($("exp").value);
      if (d.length < 4) { return err("incomplete_expiry", "Your card's expiration date is incomplete."); }
      var month = +d.slice(0, 2), year = 2000 + +d.slice(2, 4), now = new Date();
      if (month < 1 || month > 12) { return err("invalid_expiry_month", "Your card's expiration date is invalid."); }
      if (year < now.getFullYear()) { return err("invalid_expiry_year_past", "Your card's expiration year is in the past."); }
      if (year === now.getFullYear() && month < now.getMonth() + 1) { return err("invalid_expiry_month_past", "Your card's expiration date is in the past."); }
    },
    cvc: function () {
      if (digits($("cvc").value).length < 3) { return err("incomplete_cvc", "Your card's security code is incomplete."); }
    },
    zip: function () {
      if (digits($("zip").value).length < 5) { return err("incomplete_zip", "Your ZIP is incomplete."); }
    },
    holder: function () {
      if (!$("holder").value.trim()) { return err("incomplete_name", "Enter the account holder's name."); }
    },
    routing: function () {
      if (digits($("routing").value).length !== 9) { return err("invalid_routing_number", "Your routing number must have 9 digits."); }
    },
    account: function () {
      var a = digits($("account").value);
      if (a.length < 4 || a.length > 17) { return err("invalid_account_number", "Your account number is incomplete."); }
    }
  };
  var FIELDS = {card: ["number", "exp", "cvc", "zip"], us_bank_account: ["holder", "routing", "account"]};

  function show(name, error) {
    var input = $(name);
    $(name + "-error").textContent = error ? error.message : "";
    if (error) { input.setAttribute("aria-invalid", "true"); } else { input.removeAttribute("aria-invalid"); }
  }
  function validate(showAll) {
    var first = null, empty = true;
    FIELDS[type].forEach(function (name) {
      if ($(name).value.trim()) { empty = false; }
      var error = checks[name]();
      if (error && !first) { first = error; }
      if (showAll || touched[name]) { show(name, error); }
    });
    return {error: first, empty: empty};
  }
  function changed() {
    var state = validate(false);
    post({type: "change", complete: !state.error, empty: state.empty, value: {type: type}});
  }
  function setType(next) {
    type = next;
    $("card-fields").hidden = type !== "card";
    $("bank-fields").hidden = type !== "us_bank_account";
    changed();
  }

  $("number").addEventListener("input", function () {
    var d = digits(this.value).slice(0, 19);
    this.value = d.replace(/(\d{4})(?=\d)/g, "$1 ");
  });
  $("exp").addEventListener("input", function (ev) {
    var d = digits(this.value).slice(0, 4);
    if (ev.inputType && ev.inputType.indexOf("delete") === 0) { return; }
    this.value = d.length > 2 ? d.slice(0, 2) + " / " + d.slice(2) : (d.length === 2 ? d + " / " : d);
  });
  Object.keys(checks).forEach(function (name) {
    $(name).addEventListener("input", changed);
    $(name).addEventListener("blur", function () { touched[name] = true; show(name, checks[name]()); });
  });
  $("test-card").addEventListener("change", function () {
    if (!this.value) { return; }
    $("number").value = this.value.replace(/(\d{4})(?=\d)/g, "$1 ");
    if (!$("exp").value) { $("exp").value = "12 / 34"; }
    if (!$("cvc").value) { $("cvc").value = "123"; }
    if (!$("zip").value) { $("zip").value = "10001"; }
    ["number", "exp", "cvc", "zip"].forEach(function (n) { touched[n] = true; show(n, checks[n]()); });
    changed();
  });
  $("test-bank").addEventListener("change", function () {
    if (!this.value) { return; }
    $("account").value = this.value;
    $("routing").value = "110000000";
    if (!$("holder").value.trim()) { $("holder").value = "Jenny Rosen"; }
    ["holder", "routing", "account"].forEach(function (n) { touched[n] = true; show(n, checks[n]()); });
    changed();
  });
  Array.prototype.forEach.call(document.querySelectorAll("input[name=type]"), function (radio) {
    radio.addEventListener("change", function () { if (this.checked) { setType(this.value); } });
  });
  $("form").addEventListener("submit", function (ev) { ev.preventDefault(); });

  function flatten(prefix, value, out) {
    if (value === null || value === undefined || value === "") { return out; }
    if (typeof value === "object") {
      Object.keys(value).forEach(function (k) { flatten(prefix ? prefix + "[" + k + "]" : k, value[k], out); });
    } else {
      out.push([prefix, String(value)]);
    }
    return out;
  }

  function createPaymentMethod(params) {
    var state = validate(true);
    if (state.error) { return Promise.resolve({error: state.error}); }
    var billing = Object.assign({}, (params && params.billing_details) || {});
    var body = {type: type};
    if (type === "card") {
      var exp = digits($("exp").value);
      body.card = {number: digits($("number").value), exp_month: exp.slice(0, 2),
                   exp_year: exp.slice(2, 4), cvc: digits($("cvc").value)};
      billing.address = Object.assign({postal_code: $("zip").value.trim()}, billing.address || {});
    } else {
      body.us_bank_account = {routing_number: digits($("routing").value),
                              account_number: digits($("account").value),
                              account_holder_type: "individual",
                              account_type: $("account-type").value};
      billing.name = $("holder").value.trim() || billing.name;
    }
    body.billing_details = billing;
    var form = new URLSearchParams(flatten("", body, []));
    return fetch("/v1/payment_methods", {
      method: "POST", body: form,
      headers: {"Authorization": "Bearer " + config.key,
                "Content-Type": "application/x-www-form-urlencoded"}
    }).then(function (response) {
      return response.json().then(function (json) {
        return response.ok ? {paymentMethod: json} : {error: json.error};
      });
    }).catch(function (e) {
      return {error: {type: "api_connection_error", message: "Could not reach the Stripe sandbox: " + e}};
    });
  }

  window.addEventListener("message", function (event) {
    if (event.source !== window.parent || (PARENT !== "*" && event.origin !== PARENT)) { return; }
    var message = event.data;
    if (!message || message.frameId !== config.id) { return; }
    var reply = function (payload) {
      payload.type = "reply";
      payload.requestId = message.requestId;
      post(payload);
    };
    if (message.type === "submit") {
      var state = validate(true);
      reply(state.error ? {error: state.error} : {});
    } else if (message.type === "create") {
      createPaymentMethod(message.params).then(reply);
    } else if (message.type === "focus") {
      var first = $(FIELDS[type][0]); if (first) { first.focus(); }
    } else if (message.type === "blur") {
      if (document.activeElement) { document.activeElement.blur(); }
    } else if (message.type === "clear") {
      $("form").reset(); touched = {}; Object.keys(checks).forEach(function (n) { show(n, null); });
      setType(config.types[0]);
    }
  });

  // the form's own height (the document's never drops below the frame's): it shrinks too
  function resize() { post({type: "resize", height: Math.ceil(document.body.getBoundingClientRect().height) + bodyMargins()}); }
  function bodyMargins() { var s = getComputedStyle(document.body); return parseFloat(s.marginTop) + parseFloat(s.marginBottom); }
  if (window.ResizeObserver) { new ResizeObserver(resize).observe(document.body); }
  document.addEventListener("focusin", function () { post({type: "focus"}); });
  post({type: "ready"});
  resize();
  changed();
})();
"""
