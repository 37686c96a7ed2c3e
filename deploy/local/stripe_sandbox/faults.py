"""Where fault injection plugs in (none is built yet).

The sandbox asks its fault policy two questions:
- `webhook_plan(event, endpoints)`: which deliveries to queue for a new
  event, each as (endpoint, extra delay in seconds). Duplicate webhooks =
  the same endpoint twice; late = a delay; out-of-order = different delays
  for consecutive events.
- `drop_response(method, path, response)`: True to process a request but
  close the connection without answering (a "lost response"; the client's
  retry with the same Idempotency-Key then gets the stored replay).
Delayed settlement of asynchronous payment methods (ACH) belongs in
`payments._charge`, scheduled with the same dispatcher-style timer.
"""


class NoFaults:
    def webhook_plan(self, event, endpoints):
        return [(endpoint, 0.0) for endpoint in endpoints]

    def drop_response(self, method, path, response):
        return False
