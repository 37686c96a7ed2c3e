"""GET /v3/ (and /v3/stripe.js): the subset of Stripe.js v3 that pages use.

Same names and return shapes as https://js.stripe.com/v3/, so a page
written against this works unchanged in live mode:

    const stripe = Stripe("pk_test_...");
    const elements = stripe.elements({mode: "payment", currency: "usd",
                                      amount: 1234,
                                      paymentMethodTypes: ["card"]});
    const el = elements.create("payment", {});
    el.mount("#payment-element");   el.on("change", ev => ...);
    const {error} = await elements.submit();
    const {error, paymentMethod} = await stripe.createPaymentMethod(
        {elements, params: {billing_details: {name: "..."}}});

The Payment Element is an <iframe> served by the sandbox
(payment_element.py); the two talk through window.postMessage and each
checks the other's origin. Card numbers never reach the page.
"""

SOURCE = r"""/* Stripe sandbox: a subset of Stripe.js v3 (test mode only). */
(function () {
  "use strict";
  if (window.Stripe && window.Stripe.__sandbox) { return; }
  var script = document.currentScript;
  var ORIGIN = new URL(script && script.src ? script.src : "/", location.href).origin;
  var counter = 0;

  function integrationError(message) {
    var error = new Error(message);
    error.name = "IntegrationError";
    return error;
  }

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) { return new Stripe(key, options); }
    if (typeof key !== "string" || !/^pk_(test|live)_/.test(key)) {
      throw integrationError("Invalid value for Stripe(): apiKey should be a publishable key (pk_test_...). You passed: " + key + ".");
    }
    this._key = key;
    this._options = options || {};
  }
  Stripe.__sandbox = true;

  Stripe.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };

  Stripe.prototype.createPaymentMethod = function (args) {
    var elements = args && args.elements;
    if (!(elements instanceof Elements)) {
      return Promise.reject(integrationError("createPaymentMethod: pass the `elements` instance that created your Payment Element."));
    }
    var element = elements._element;
    if (!element || !element._iframe) {
      return Promise.reject(integrationError("createPaymentMethod: the Payment Element is not mounted."));
    }
    if (!elements._submitted) {
      return Promise.reject(integrationError("elements.submit() must be called before stripe.createPaymentMethod(). Call elements.submit() as soon as your customer presses pay, prior to any asynchronous work."));
    }
    return element._request({type: "create", params: (args && args.params) || {}})
      .then(function (reply) {
        return reply.error ? {error: reply.error} : {paymentMethod: reply.paymentMethod};
      });
  };

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._options = Object.assign({}, options);
    this._element = null;
    this._submitted = false;
  }

  Elements.prototype.create = function (type, options) {
    if (type !== "payment") {
      throw integrationError("The Stripe sandbox only provides the \"payment\" element, not \"" + type + "\".");
    }
    if (this._element) {
      throw integrationError("Can only create one Element of type payment.");
    }
    this._element = new PaymentElement(this, options || {});
    return this._element;
  };

  Elements.prototype.getElement = function (type) {
    return type === "payment" ? this._element : null;
  };

  Elements.prototype.update = function (options) {
    Object.assign(this._options, options || {});
    if (this._element) { this._element._send({type: "update", options: this._frameOptions()}); }
  };

  Elements.prototype.submit = function () {
    var self = this;
    var element = this._element;
    if (!element || !element._iframe) {
      return Promise.reject(integrationError("elements.submit(): the Payment Element is not mounted."));
    }
    return element._request({type: "submit"}).then(function (reply) {
      self._submitted = !reply.error;
      return reply.error ? {error: reply.error} : {};
    });
  };

  Elements.prototype._frameOptions = function () {
    var o = this._options;
    return {mode: o.mode || "payment", currency: o.currency || null,
            amount: o.amount == null ? null : o.amount,
            paymentMethodTypes: o.paymentMethodTypes || ["card"]};
  };

  function PaymentElement(elements, options) {
    this._elements = elements;
    this._options = options;
    this._handlers = {};
    this._pending = {};
    this._seq = 0;
    this._queue = [];
    this._iframe = null;
    this._ready = false;
    this._id = "sbx" + (++counter) + Math.random().toString(36).slice(2, 10);
    this._onMessage = this._onMessage.bind(this);
  }

  PaymentElement.prototype.mount = function (target) {
    var host = typeof target === "string" ? document.querySelector(target) : target;
    if (!host || !host.appendChild) {
      throw integrationError("Invalid DOM element or selector passed to mount(): " + target);
    }
    if (this._iframe) { this.unmount(); }
    var frame = this._elements._frameOptions();
    var query = new URLSearchParams({
      key: this._elements._stripe._key, id: this._id, parent: location.origin,
      mode: frame.mode, types: frame.paymentMethodTypes.join(",")
    });
    var iframe = document.createElement("iframe");
    iframe.src = ORIGIN + "/elements/payment?" + query.toString();
    iframe.title = "Secure payment form";
    iframe.setAttribute("frameborder", "0");
    iframe.setAttribute("scrolling", "no");
    iframe.style.cssText = "width:100%;min-width:100%;border:0;display:block;height:300px;overflow:hidden";
    this._iframe = iframe;
    this._ready = false;
    window.addEventListener("message", this._onMessage);
    host.appendChild(iframe);
  };

  PaymentElement.prototype.unmount = function () {
    window.removeEventListener("message", this._onMessage);
    if (this._iframe && this._iframe.parentNode) { this._iframe.parentNode.removeChild(this._iframe); }
    this._iframe = null;
    this._ready = false;
  };

  PaymentElement.prototype.destroy = function () {
    this.unmount();
    this._elements._element = null;
  };

  PaymentElement.prototype.on = function (name, handler) {
    (this._handlers[name] = this._handlers[name] || []).push(handler);
    return this;
  };

  PaymentElement.prototype.once = function (name, handler) {
    var self = this;
    function wrapped(ev) { self.off(name, wrapped); handler(ev); }
    return this.on(name, wrapped);
  };

  PaymentElement.prototype.off = function (name, handler) {
    var list = this._handlers[name] || [];
    this._handlers[name] = handler ? list.filter(function (h) { return h !== handler; }) : [];
    return this;
  };

  PaymentElement.prototype.update = function (options) {
    Object.assign(this._options, options || {});
  };
  PaymentElement.prototype.focus = function () { this._send({type: "focus"}); };
  PaymentElement.prototype.blur = function () { this._send({type: "blur"}); };
  PaymentElement.prototype.clear = function () { this._send({type: "clear"}); };
  PaymentElement.prototype.collapse = function () {};

  PaymentElement.prototype._emit = function (name, payload) {
    (this._handlers[name] || []).slice().forEach(function (handler) {
      try { handler(payload); } catch (e) { setTimeout(function () { throw e; }); }
    });
  };

  PaymentElement.prototype._send = function (message) {
    message.frameId = this._id;
    if (!this._iframe) { return; }
    if (!this._ready) { this._queue.push(message); return; }
    this._iframe.contentWindow.postMessage(message, ORIGIN);
  };

  PaymentElement.prototype._request = function (message) {
    var self = this;
    return new Promise(function (resolve) {
      message.requestId = ++self._seq;
      self._pending[message.requestId] = resolve;
      self._send(message);
    });
  };

  PaymentElement.prototype._onMessage = function (event) {
    if (event.origin !== ORIGIN || !this._iframe || event.source !== this._iframe.contentWindow) { return; }
    var message = event.data;
    if (!message || message.frameId !== this._id) { return; }
    switch (message.type) {
      case "ready":
        this._ready = true;
        var queued = this._queue.splice(0);
        for (var i = 0; i < queued.length; i++) { this._iframe.contentWindow.postMessage(queued[i], ORIGIN); }
        this._emit("ready", {elementType: "payment"});
        break;
      case "resize":
        this._iframe.style.height = Math.ceil(message.height) + "px";
        break;
      case "change":
        this._emit("change", {elementType: "payment", complete: !!message.complete,
                              empty: !!message.empty, collapsed: false,
                              value: {type: message.value && message.value.type}});
        break;
      case "focus":
      case "blur":
        this._emit(message.type, {elementType: "payment"});
        break;
      case "reply":
        var resolve = this._pending[message.requestId];
        delete this._pending[message.requestId];
        if (resolve) { resolve(message); }
        break;
    }
  };

  window.Stripe = Stripe;
})();
"""
