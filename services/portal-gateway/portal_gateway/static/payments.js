// Payment forms: card and bank details are typed only into Stripe's own form
// (the Payment Element, in an iframe from Stripe), which turns them into a
// PaymentMethod id; this page posts only that id. Written against Stripe.js
// v3, so the same code runs on the local sandbox's stand-in and on Stripe.
(function () {
  "use strict";
  var form = document.querySelector("form[data-payment-form]");
  if (!form) { return; }

  var errorBox = form.querySelector("[data-payment-error]");
  var button = form.querySelector("button[type=submit]");
  var label = button ? button.getAttribute("data-label") : null;
  var mount = form.querySelector("#payment-element");
  var hidden = form.querySelector("input[name=payment_method]");
  var mandates = form.querySelectorAll("[data-mandate]");
  var stripe = null, elements = null, chosenType = "card";

  function cents(text) {
    var match = /^\s*\$?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/.exec(text || "");
    if (!match) { return 0; }
    return Number(match[1]) * 100 + Number(((match[2] || "") + "00").slice(0, 2));
  }

  function dollars(amount) {
    var whole = Math.floor(amount / 100).toLocaleString("en-US");
    return "$" + whole + "." + String(amount % 100).padStart(2, "0");
  }

  function total() {
    var sum = 0;
    form.querySelectorAll("[data-share]").forEach(function (row) {
      var include = row.querySelector("input[type=checkbox]");
      var amount = row.querySelector("input[data-amount]");
      if ((!include || include.checked) && amount) { sum += cents(amount.value); }
    });
    var credit = form.querySelector("input[name=credit]");
    if (credit) { sum += cents(credit.value); }
    var fixed = form.getAttribute("data-amount");
    return form.querySelector("[data-share]") ? sum : Number(fixed || 0);
  }

  function refreshTotal() {
    var amount = total();
    form.querySelectorAll("[data-total]").forEach(function (el) { el.textContent = dollars(amount); });
    if (button && label) { button.textContent = label + " " + dollars(amount); }
    if (elements && amount > 0 && form.getAttribute("data-mode") !== "setup") {
      elements.update({ amount: amount });
    }
  }

  function choice() {
    var checked = form.querySelector("input[name=method]:checked");
    return checked ? checked.value : "new";
  }

  function refreshChoice() {
    var current = choice();
    form.querySelectorAll("[data-for-method]").forEach(function (el) {
      el.hidden = el.getAttribute("data-for-method").split(" ").indexOf(current.split(":")[0]) < 0;
    });
    showMandate();
  }

  function showMandate() {
    var bank = choice() === "new" && chosenType === "us_bank_account";
    mandates.forEach(function (el) {
      var forBank = el.getAttribute("data-mandate") === "us_bank_account";
      el.hidden = forBank !== bank;
    });
  }

  function fail(message) {
    if (errorBox) { errorBox.textContent = message; errorBox.hidden = false; errorBox.focus(); }
    if (button) { button.disabled = false; }
  }

  if (mount && window.Stripe) {
    stripe = window.Stripe(form.getAttribute("data-stripe-key"));
    var mode = form.getAttribute("data-mode") || "payment";
    var options = { mode: mode, currency: "usd", paymentMethodCreation: "manual",
                    paymentMethodTypes: ["card", "us_bank_account"] };
    if (mode === "payment") { options.amount = Math.max(total(), 50); }
    if (mode === "setup") { options.setupFutureUsage = "off_session"; }
    elements = stripe.elements(options);
    var element = elements.create("payment", { terms: { card: "never", usBankAccount: "never" } });
    element.mount(mount);
    element.on("change", function (event) {
      chosenType = (event.value && event.value.type) || "card";
      showMandate();
    });
    form.querySelectorAll("[data-needs-js]").forEach(function (el) { el.hidden = true; });
  }

  form.addEventListener("input", refreshTotal);
  form.addEventListener("change", function () { refreshTotal(); refreshChoice(); });
  refreshTotal();
  refreshChoice();

  form.addEventListener("submit", function (event) {
    if (choice() !== "new" || (hidden && hidden.value)) { return; }
    event.preventDefault();
    if (!elements) {
      fail("Card and bank entry could not load. Reload the page, or call the clinic.");
      return;
    }
    if (button) { button.disabled = true; }
    elements.submit().then(function (result) {
      if (result.error) { throw result.error; }
      var name = form.querySelector("input[name=payer_name]");
      var params = name && name.value ? { billing_details: { name: name.value } } : {};
      return stripe.createPaymentMethod({ elements: elements, params: params });
    }).then(function (result) {
      if (result.error) { throw result.error; }
      hidden.value = result.paymentMethod.id;
      var type = form.querySelector("input[name=method_type]");
      if (type) { type.value = result.paymentMethod.type; }
      form.submit();
    }).catch(function (error) {
      fail((error && error.message) || "That card or account could not be used. Check it and try again.");
    });
  });
})();
