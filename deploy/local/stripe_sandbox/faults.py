"""Fault injection, configured at run time (POST /_sandbox/faults).

The sandbox asks its fault policy:
- `webhook_plan(event, endpoints)`: the deliveries to queue for a new event,
  each as (endpoint, extra delay in seconds) — duplicates, late webhooks;
- `order_batch(events)`: the order one request's events are queued in;
- `fail_request(method, path)`: an HTTP status to answer with instead of
  processing the request (a Stripe-shaped api_error), or None;
- `drop_response(method, path, response)`: True to process a request but
  close the connection without answering (a lost response; the client's
  retry with the same Idempotency-Key then gets the stored replay);
- `response_delay(method, path)`: seconds to wait before answering.
Webhook holding and dropping live in the dispatcher (webhooks.py).

`FaultPolicy()` with nothing configured is the old `NoFaults`; subclass it
(or pass any object with `webhook_plan` / `drop_response`) to
`Sandbox(faults=...)` for faults in code.
"""
import threading

RULE_LISTS = ("drop_responses", "fail_requests", "delay_responses")
SETTINGS = ("webhook_duplicates", "webhook_delay_seconds",
            "webhook_reverse_batches", "webhook_hold")


class FaultError(ValueError):
    pass


class FaultPolicy:
    def __init__(self):
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        with self._lock:
            self.webhook_duplicates = 1
            self.webhook_delay_seconds = 0.0
            self.webhook_reverse_batches = False
            self.webhook_hold = False
            self.rules = {name: [] for name in RULE_LISTS}

    def configure(self, data):
        """Apply a JSON object of settings (each key replaces its setting;
        rule lists are appended to)."""
        if not isinstance(data, dict):
            raise FaultError("body must be a JSON object")
        unknown = set(data) - set(SETTINGS) - set(RULE_LISTS)
        if unknown:
            raise FaultError(f"unknown fault(s): {', '.join(sorted(unknown))}")
        parsed = {name: _rules(name, data[name])
                  for name in RULE_LISTS if name in data}
        with self._lock:
            if "webhook_duplicates" in data:
                self.webhook_duplicates = _number(
                    data, "webhook_duplicates", int, 1)
            if "webhook_delay_seconds" in data:
                self.webhook_delay_seconds = _number(
                    data, "webhook_delay_seconds", float, 0)
            for name in ("webhook_reverse_batches", "webhook_hold"):
                if name in data:
                    if not isinstance(data[name], bool):
                        raise FaultError(f"{name} must be true or false")
                    setattr(self, name, data[name])
            for name, rules in parsed.items():
                self.rules[name].extend(rules)

    def snapshot(self):
        with self._lock:
            return {"webhook_duplicates": self.webhook_duplicates,
                    "webhook_delay_seconds": self.webhook_delay_seconds,
                    "webhook_reverse_batches": self.webhook_reverse_batches,
                    "webhook_hold": self.webhook_hold,
                    **{name: [dict(rule) for rule in rules]
                       for name, rules in self.rules.items()}}

    # -- questions the sandbox asks -------------------------------------------

    def webhook_plan(self, event, endpoints):
        with self._lock:
            copies, delay = self.webhook_duplicates, self.webhook_delay_seconds
        return [(endpoint, delay) for endpoint in endpoints
                for _ in range(copies)]

    def order_batch(self, events):
        return list(reversed(events)) if self.webhook_reverse_batches \
            else list(events)

    def fail_request(self, method, path):
        rule = self._take("fail_requests", method, path)
        return rule["status"] if rule else None

    def drop_response(self, method, path, response):
        return self._take("drop_responses", method, path) is not None

    def response_delay(self, method, path):
        rule = self._take("delay_responses", method, path)
        return rule["seconds"] if rule else 0.0

    def _take(self, name, method, path):
        with self._lock:
            rules = self.rules[name]
            for rule in rules:
                if rule["method"] in ("*", method) and \
                        path.startswith(rule["path_prefix"]):
                    rule["count"] -= 1
                    if rule["count"] <= 0:
                        rules.remove(rule)
                    return rule
            return None


NoFaults = FaultPolicy      # the name sandboxes were built with before


class _Adapter(FaultPolicy):
    """Runtime faults around a custom object that answers some questions."""

    def __init__(self, custom):
        self._custom = custom
        super().__init__()

    def webhook_plan(self, event, endpoints):
        if hasattr(self._custom, "webhook_plan"):
            return self._custom.webhook_plan(event, endpoints)
        return super().webhook_plan(event, endpoints)

    def drop_response(self, method, path, response):
        if getattr(self._custom, "drop_response", None) and \
                self._custom.drop_response(method, path, response):
            return True
        return super().drop_response(method, path, response)


def policy(faults):
    if faults is None:
        return FaultPolicy()
    if isinstance(faults, FaultPolicy):
        return faults
    return _Adapter(faults)


def _number(data, name, kind, minimum):
    value = data[name]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or \
            value < minimum or (kind is int and int(value) != value):
        raise FaultError(f"{name} must be a number >= {minimum}")
    return kind(value)


def _rules(name, value):
    if not isinstance(value, list):
        raise FaultError(f"{name} must be a list of rules")
    rules = []
    for item in value:
        if not isinstance(item, dict):
            raise FaultError(f"each of {name} must be an object")
        rule = {"method": str(item.get("method", "*")).upper(),
                "path_prefix": str(item.get("path_prefix", "/")),
                "count": _number(dict(count=item.get("count", 1)), "count",
                                 int, 1)}
        if name == "fail_requests":
            rule["status"] = _number(dict(status=item.get("status", 500)),
                                     "status", int, 400)
        if name == "delay_responses":
            rule["seconds"] = _number(dict(seconds=item.get("seconds", 1)),
                                      "seconds", float, 0)
        rules.append(rule)
    return rules
