// The invoice form, enhanced: add and remove service lines in place, and the
// running subtotal, discounts and total as staff type. The arithmetic is the
// server's (invoicing/domain.py), step for step, in exact integers (BigInt):
//   1. a line is units × price (price left empty: the catalog's fee at the
//      chosen location, else its default fee);
//   2. its own discount: "10%" rounds half up to the cent, "5.00" is at most
//      the line;
//   3. the invoice's discount on what the lines come to after their own;
//   4. shared over the lines in proportion (largest remainder, earlier lines
//      win ties).
// The server checks everything again when the form is saved; without
// JavaScript the form works the same, and "Add another line" / "Remove"
// submit the form to get one more or one fewer line.
var CairnInvoiceMath = (function () {
  "use strict";
  var MONEY = /^\s*\$?\s*(\d{1,9})(?:\.(\d{1,2}))?\s*$/;
  var PERCENT = /^\s*(\d{1,3})(?:\.(\d{1,2}))?\s*%?\s*$/;
  var WHOLE = 10000n;

  function parseFixed(text, pattern) {
    var m = pattern.exec(text || "");
    if (!m) { return null; }
    return BigInt(m[1]) * 100n + BigInt((m[2] || "0").padEnd(2, "0"));
  }
  function cents(text) { return parseFixed(text, MONEY); }
  function basisPoints(text) { return parseFixed(text, PERCENT); }
  function percentOf(amount, bp) {              // servicekit.money.percent_of: half up
    return (amount * bp * 2n + WHOLE) / (2n * WHOLE);
  }
  function allocate(total, weights) {            // servicekit.money.allocate
    var sum = weights.reduce(function (a, b) { return a + b; }, 0n);
    if (sum === 0n) { return weights.map(function () { return 0n; }); }
    var floors = weights.map(function (w) { return total * w / sum; });
    var order = weights.map(function (w, i) { return { i: i, r: total * w % sum }; });
    order.sort(function (a, b) { return a.r === b.r ? a.i - b.i : (b.r > a.r ? 1 : -1); });
    var left = total - floors.reduce(function (a, b) { return a + b; }, 0n);
    for (var k = 0; k < Number(left); k++) { floors[order[k].i] += 1n; }
    return floors;
  }
  function money(amount) {
    var negative = amount < 0n, value = negative ? -amount : amount;
    var whole = (value / 100n).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ",");
    var rest = (value % 100n).toString().padStart(2, "0");
    return (negative ? "−" : "") + "$" + whole + "." + rest;
  }

  // One line: {units: "2", price: "150.00" or "" (then fee), fee: BigInt|null,
  // discount: "10%" | "5.00" | ""} → {amount, own} or {problem}.
  function priceLine(line, n) {
    var unitsText = (line.units || "").trim() || "1";
    if (!/^\d{1,3}$/.test(unitsText) || Number(unitsText) < 1) {
      return { problem: "Enter units from 1 to 999 on line " + n + "." };
    }
    var priceText = (line.price || "").trim();
    var price = priceText ? cents(priceText) : line.fee;
    if (price === null || price === undefined) {
      return { problem: "Enter the price on line " + n + " as an amount like 150.00." };
    }
    var amount = BigInt(unitsText) * price;
    var discountText = (line.discount || "").trim();
    var own = 0n;
    if (discountText) {
      var isPercent = /%\s*$/.test(discountText);
      var value = isPercent ? basisPoints(discountText) : cents(discountText);
      if (value === null) { return { problem: "Enter the discount on line " + n + " as a percentage like 10% or an amount like 5.00." }; }
      if (isPercent && value > WHOLE) { return { problem: "The discount on line " + n + " cannot be over 100 %." }; }
      if (!isPercent && value > amount) { return { problem: "The discount on line " + n + " is more than the line (" + money(amount) + ")." }; }
      own = isPercent ? percentOf(amount, value) : value;
    }
    return { amount: amount, own: own };
  }

  // The whole invoice, as invoicing/domain.py prices it. `lines` may hold
  // null for a line with no service yet (left out, as the server does).
  function priceInvoice(lines, kind, text) {
    var priced = [], problem = null;
    lines.forEach(function (line, i) {
      if (!line) { return; }
      var result = priceLine(line, i + 1);
      if (result.problem) { problem = problem || result.problem; }
      else { result.index = i; priced.push(result); }
    });
    var subtotal = 0n, owns = 0n;
    priced.forEach(function (p) { subtotal += p.amount; owns += p.own; });
    var base = subtotal - owns, invoiceDiscount = 0n;
    text = (text || "").trim();
    if (kind && kind !== "none" && text) {
      var value = kind === "percent" ? basisPoints(text) : cents(text);
      if (value === null) { problem = problem || "Enter the discount as " + (kind === "percent" ? "a percentage like 10 or 12.5." : "an amount like 25.00."); }
      else if (kind === "percent" && value > WHOLE) { problem = problem || "A percentage discount cannot be over 100 %."; }
      else if (kind === "fixed" && value > base) { problem = problem || "The discount is more than the invoice (" + money(base) + ")."; }
      else { invoiceDiscount = kind === "percent" ? percentOf(base, value) : value; }
    }
    var shares = allocate(invoiceDiscount, priced.map(function (p) { return p.amount - p.own; }));
    var nets = lines.map(function () { return null; });
    priced.forEach(function (p, i) { nets[p.index] = p.amount - p.own - shares[i]; });
    return { subtotal: subtotal, lineDiscounts: owns, invoiceDiscount: invoiceDiscount,
             total: subtotal - owns - invoiceDiscount, nets: nets, shares: shares, problem: problem };
  }

  return { cents: cents, basisPoints: basisPoints, percentOf: percentOf, allocate: allocate,
           money: money, priceInvoice: priceInvoice };
}());

if (typeof module !== "undefined" && module.exports) { module.exports = CairnInvoiceMath; }

(function () {
  "use strict";
  if (typeof document === "undefined") { return; }
  var form = document.getElementById("invoice-form");
  if (!form) { return; }
  var lines = form.querySelector("[data-lines]");
  var math = CairnInvoiceMath, money = math.money;

  function part(line, name) { return line.querySelector('[data-part="' + name + '"]'); }

  function defaultFee(line) {
    var option = part(line, "service").selectedOptions[0];
    if (!option || !option.dataset.fee) { return null; }
    var location = form.elements.location_id.value;
    var fees = {};
    try { fees = JSON.parse(option.dataset.fees || "{}"); } catch (e) { fees = {}; }
    return BigInt(location && fees[location] !== undefined ? fees[location] : option.dataset.fee);
  }

  function recalculate() {
    var rows = Array.prototype.slice.call(lines.querySelectorAll("[data-line]"));
    var described = rows.map(function (line) {
      var fee = defaultFee(line);
      part(line, "price").placeholder = fee === null ? "Catalog fee" : money(fee).slice(1);
      if (!part(line, "service").value) { return null; }
      return { units: part(line, "units").value, price: part(line, "price").value, fee: fee,
               discount: part(line, "discount").value };
    });
    var result = math.priceInvoice(described, form.elements.discount_kind.value,
                                   form.elements.discount_value.value);
    rows.forEach(function (line, i) {
      line.querySelector("[data-net]").textContent = result.nets[i] === null ? "—" : money(result.nets[i]);
    });
    var box = form.querySelector("[data-totals]");
    box.hidden = false;
    function show(name, amount) { box.querySelector('[data-total="' + name + '"]').textContent = amount; }
    show("subtotal", money(result.subtotal));
    show("lines", result.lineDiscounts ? "−" + money(result.lineDiscounts) : money(0n));
    show("invoice", result.invoiceDiscount ? "−" + money(result.invoiceDiscount) : money(0n));
    show("total", money(result.total));
    var said = box.querySelector('[data-total="problem"]');
    said.textContent = result.problem || "";
    said.hidden = !result.problem;
  }

  // Lines are always numbered 1..n, so what the server says about "line 3"
  // is about the third card on the screen.
  function renumber() {
    Array.prototype.forEach.call(lines.querySelectorAll("[data-line]"), function (line, i) {
      var n = String(i + 1);
      if (line.querySelector("[data-number]").textContent !== n) {
        // what the server said names the old number: it is said again on saving
        Array.prototype.forEach.call(line.querySelectorAll(".field-error"), function (el) { el.remove(); });
        Array.prototype.forEach.call(line.querySelectorAll("[aria-invalid]"), function (el) {
          el.removeAttribute("aria-invalid");
          el.removeAttribute("aria-describedby");
        });
      }
      Array.prototype.forEach.call(line.querySelectorAll("[id],[name],[for],[aria-describedby]"), function (el) {
        ["id", "name", "for", "aria-describedby"].forEach(function (attr) {
          var value = el.getAttribute(attr);
          if (value) { el.setAttribute(attr, value.replace(/line\d+_/g, "line" + n + "_")); }
        });
      });
      Array.prototype.forEach.call(line.querySelectorAll("[data-number]"), function (el) { el.textContent = n; });
      line.querySelector("[data-remove]").value = n;
    });
  }

  function addLine() {
    var all = lines.querySelectorAll("[data-line]");
    var copy = all[all.length - 1].cloneNode(true);
    Array.prototype.forEach.call(copy.querySelectorAll(".field-error"), function (el) { el.remove(); });
    Array.prototype.forEach.call(copy.querySelectorAll("input, select"), function (el) {
      el.removeAttribute("aria-invalid");
      el.removeAttribute("aria-describedby");
      if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = el.dataset.part === "units" ? "1" : ""; }
    });
    lines.appendChild(copy);
    renumber();
    recalculate();
    part(copy, "service").focus();
  }

  function removeLine(line) {
    var all = lines.querySelectorAll("[data-line]");
    if (all.length === 1) {                       // the last line is emptied, not removed
      Array.prototype.forEach.call(line.querySelectorAll("input, select"), function (el) {
        if (el.tagName === "SELECT") { el.selectedIndex = 0; } else { el.value = el.dataset.part === "units" ? "1" : ""; }
      });
      part(line, "service").focus();
    } else {
      var index = Array.prototype.indexOf.call(all, line);
      line.remove();
      renumber();
      part(lines.querySelectorAll("[data-line]")[Math.max(index - 1, 0)], "service").focus();
    }
    recalculate();
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("button");
    if (!button) { return; }
    if (button.hasAttribute("data-add")) { event.preventDefault(); addLine(); }
    else if (button.hasAttribute("data-remove")) { event.preventDefault(); removeLine(button.closest("[data-line]")); }
  });
  form.addEventListener("input", recalculate);
  form.addEventListener("change", recalculate);
  var add = form.querySelector("[data-add]");
  add.textContent = "Add a service line";
  recalculate();
  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }
}());
