"""Count the RPCs and events a user's steps cause, from the broker's own
record rather than from reading code.

RabbitMQ's firehose (`rabbitmqctl trace_on -p <vhost>`) copies every message
published in the vhost to `amq.rabbitmq.trace` (routing key
`publish.<exchange>`). An RPC request is a message to nameko's `nameko-rpc`
exchange whose routing key is `<service>.<method>` and whose `reply_to` names
the caller: nameko sets it to the uuid in the name of the caller's reply queue
(`rpc.reply-<caller service>-<uuid>`, looked up in the management API); a
reply has no `reply_to`; an event goes to `<source>.events` with the event
type as routing key.

    with Firehose(amqp_uri, vhost) as trace:
        ...do one step...
        step = trace.take()          # everything published since the last take
        step.rpcs   -> Counter({("portal-gateway", "invoicing.get_invoice"): 1, ...})
        step.events -> Counter({"invoicing.InvoiceSent": 1, ...})
"""
from __future__ import annotations

import re
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from urllib.parse import quote

import requests
from kombu import Connection, Exchange, Queue

RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
REPLY_QUEUE = re.compile(r"^rpc\.reply-(?P<caller>.+)-(?P<uuid>[0-9a-f]{8}-[0-9a-f]{4}-"
                         r"[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")


@dataclass
class Step:
    rpcs: Counter = field(default_factory=Counter)     # (caller, "service.method") -> n
    events: Counter = field(default_factory=Counter)   # "source.EventType" -> n

    def rpc_total(self, caller: str | None = None, exclude: str | None = None) -> int:
        return sum(n for (who, _), n in self.rpcs.items()
                   if (caller is None or who == caller) and who != exclude)

    def __add__(self, other: "Step") -> "Step":
        return Step(self.rpcs + other.rpcs, self.events + other.events)

    def lines(self) -> list[str]:
        return [f"{who} → {what} ×{n}" for (who, what), n in sorted(self.rpcs.items())]


def reply_queues(vhost: str) -> dict[str, str]:
    """reply-queue uuid → the service that listens on it."""
    queues = requests.get(f"{RABBIT_API}/queues/{quote(vhost, safe='')}?columns=name",
                          timeout=10).json()
    return {found["uuid"]: found["caller"] for queue in queues
            if (found := REPLY_QUEUE.match(queue["name"]))}


def classify(exchange: str, routing_key: str, properties: dict, callers, step: Step) -> None:
    if exchange == "nameko-rpc":
        reply_to = str(properties.get("reply_to") or "")
        if reply_to:
            step.rpcs[(callers(reply_to), routing_key)] += 1
    elif exchange.endswith(".events"):
        step.events[f"{exchange[:-len('.events')]}.{routing_key}"] += 1


class Firehose:
    def __init__(self, amqp_base: str, vhost: str):
        self.uri, self.vhost, self.callers = f"{amqp_base}/{vhost}", vhost, {}

    def __enter__(self) -> "Firehose":
        self._rabbitmqctl("trace_on")
        self.connection = Connection(self.uri)
        self.channel = self.connection.channel()
        exchange = Exchange("amq.rabbitmq.trace", type="topic", durable=True, internal=True,
                            passive=True)
        self.queue = Queue("", exchange=exchange, routing_key="publish.#", exclusive=True,
                           auto_delete=True)(self.channel)
        self.queue.declare()
        return self

    def __exit__(self, *exc) -> None:
        self._rabbitmqctl("trace_off")
        self.connection.release()

    def take(self, quiet_for: float = 1.0, deadline: float = 30.0) -> Step:
        """What was published since the last take: read until nothing more
        arrives for `quiet_for` seconds (the stragglers are relays and
        handlers finishing), at most `deadline` seconds."""
        step, last, stop = Step(), time.monotonic(), time.monotonic() + deadline
        while time.monotonic() - last < quiet_for and time.monotonic() < stop:
            message = self.queue.get(no_ack=True)
            if message is None:
                time.sleep(0.02)
                continue
            last = time.monotonic()
            headers = message.headers or {}
            keys = headers.get("routing_keys") or [""]
            classify(str(headers.get("exchange_name", "")), str(keys[0]),
                     headers.get("properties") or {}, self._caller, step)
        return step

    def _caller(self, reply_to: str) -> str:
        if reply_to not in self.callers:
            self.callers.update(reply_queues(self.vhost))
        return self.callers.get(reply_to, "?")

    def _rabbitmqctl(self, command: str) -> None:
        subprocess.run(["rabbitmqctl", "-q", command, "-p", self.vhost], check=True,
                       stdout=subprocess.DEVNULL)


# ---- one pass of the billing flow, step by step -------------------------------------

def count_one_pass(trace: Firehose, staff, mailbox, cairn_url: str, client_id: str) -> list:
    """[(step, Step)] for: save the invoice (POST), its page (the redirect),
    send it by email until the email is accepted by SMTP, the pay page, pay
    until the receipt is accepted (with PaymentCaptured → InvoicePaid)."""
    from flows import Payer, invoice_email, poll, receipt_numbers

    trace.take(quiet_for=0.5)                 # whatever came before
    steps = []
    location = staff.save_invoice(client_id)
    steps.append(("staff POST save invoice", trace.take()))
    invoice_id, number = staff.invoice_page(location)
    steps.append(("staff GET invoice page (redirect)", trace.take()))
    staff.send_by_email(invoice_id)
    path = poll(lambda: next((found[1] for _, m in mailbox.new_messages()
                              if (found := invoice_email(m)) and found[0] == number), None),
                30, f"the email for {number}")
    steps.append(("staff POST send → InvoiceSent → email", trace.take()))
    payer = Payer(cairn_url, path)
    payer.open()
    steps.append(("payer GET pay page", trace.take()))
    payer.pay()
    poll(lambda: any(number in receipt_numbers(m) for _, m in mailbox.new_messages()),
         30, f"the receipt for {number}")
    steps.append(("payer POST pay → PaymentCaptured → InvoicePaid → receipt", trace.take()))
    return steps


def render_counts(steps: list, gateway: str = "portal-gateway") -> str:
    """A markdown table: per step, the gateway's RPCs and the services' own."""
    rows = ["| step | gateway RPCs | service-side RPCs | events |", "| --- | --- | --- | --- |"]
    for name, step in steps:
        ours = [line[len(gateway) + 3:] for line in step.lines() if line.startswith(gateway)]
        service_side = [line for line in step.lines() if not line.startswith(gateway)]
        rows.append(f"| {name} | {step.rpc_total(caller=gateway)}: {', '.join(ours) or '—'} | "
                    f"{step.rpc_total(exclude=gateway)}: {', '.join(service_side) or '—'} | "
                    f"{', '.join(f'{e} ×{n}' for e, n in sorted(step.events.items())) or '—'} |")
    total = sum((step for _, step in steps), Step())
    rows.append(f"| **whole flow** | **{total.rpc_total(caller=gateway)}** | "
                f"**{total.rpc_total(exclude=gateway)}** | {sum(total.events.values())} |")
    return "\n".join(rows)
