// The invoice form's Good Faith Estimate warning (No Surprises Act): as the
// provider or the running total changes, ask the gateway for
// /staff/clients/<id>/estimate-variance?provider_id=…&proposed=… (the partial
// staff/_estimate_variance.html) and show it above the notes. It only warns:
// saving is never blocked. An edit counts only what the new total adds to
// what this invoice already billed. Runs after invoice_form.js, which has
// already updated the total on the same input/change event.
(function () {
  "use strict";
  var form = document.getElementById("invoice-form");
  var box = form && form.querySelector("[data-gfe-variance]");
  if (!box || !window.fetch) { return; }
  var provider = form.querySelector("#provider_id");
  var already = BigInt(box.getAttribute("data-already-billed") || "0");
  var timer = null, asked = "";

  function totalCents() {
    var shown = form.querySelector('[data-total="total"]');
    var text = shown ? shown.textContent.replace(/[^0-9.]/g, "") : "";
    if (!/^\d+(\.\d{1,2})?$/.test(text)) { return null; }
    var parts = text.split(".");
    return BigInt(parts[0]) * 100n + BigInt(((parts[1] || "") + "00").slice(0, 2));
  }

  function ask() {
    var cents = totalCents();
    var chosen = provider ? provider.value : "";
    if (!chosen) { box.innerHTML = ""; asked = ""; return; }
    if (cents === null) { return; }
    var proposed = cents > already ? cents - already : 0n;
    var dollars = (proposed / 100n).toString() + "." + (proposed % 100n).toString().padStart(2, "0");
    var query = "?provider_id=" + encodeURIComponent(chosen) + "&proposed=" + dollars;
    if (query === asked) { return; }
    asked = query;
    fetch(box.getAttribute("data-url") + query, { credentials: "same-origin" })
      .then(function (reply) { return reply.ok ? reply.text() : null; })
      .then(function (html) { if (html !== null && asked === query) { box.innerHTML = html; } })
      .catch(function () { /* the saved invoice still shows the warning */ });
  }

  function later() { clearTimeout(timer); timer = setTimeout(ask, 400); }
  form.addEventListener("input", later);
  form.addEventListener("change", later);
  later();
})();
