"""`make bench`: Cairn's end-to-end throughput and latency, next to the floor
of the same machine (bare RabbitMQ publish-with-confirms → consume, bare
PostgreSQL inserts), so the figures read as ratios, not absolutes.

    python bench/run.py [--invoices N] [--concurrency C]
"""
from __future__ import annotations

import argparse
import json
import warnings
import os
import platform
import re
import sys
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "deploy" / "local")]

import requests  # noqa: E402
from kombu import Connection, Consumer, Exchange, Producer, Queue  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

from stack import MIGRATED, Stack  # noqa: E402
from tests.fixtures.databases import Databases  # noqa: E402
from tests.fixtures.mail import SmtpCapture  # noqa: E402
from tests.fixtures.stack import STAFF_LOGIN, Browser  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

AMQP = "amqp://guest:guest@127.0.0.1:5672"
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
CLIENTS = ["cl_demo_avery", "cl_demo_jordan", "cl_demo_sam"]
FORM = {"location_id": "loc_main", "payment_type": "private_pay", "discount_kind": "percent",
        "discount_value": "10", "line1_service": "90834", "line1_units": "1",
        "line2_service": "90853", "line2_units": "2"}


def percentiles(samples: list[float]) -> str:
    ordered = sorted(samples)
    pick = lambda q: ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000  # noqa: E731
    return f"p50 {pick(0.50):7.1f} ms   p95 {pick(0.95):7.1f} ms   p99 {pick(0.99):7.1f} ms"


def make_vhost() -> str:
    vhost = f"cairn_bench_{uuid.uuid4().hex[:8]}"
    requests.put(f"{RABBIT_API}/vhosts/{vhost}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{vhost}/guest", json={"configure": ".*", "write": ".*",
                 "read": ".*"}, timeout=10).raise_for_status()
    return vhost


def floor_broker(vhost: str, count: int) -> float:
    """Messages/s: publish with confirms, persistent, then consume them all."""
    exchange = Exchange("floor", type="topic", durable=True)
    queue = Queue("floor", exchange=exchange, routing_key="x", durable=True)
    received = []
    with Connection(f"{AMQP}/{vhost}", transport_options={"confirm_publish": True}) as conn:
        queue(conn.default_channel).declare()
        producer = Producer(conn.default_channel)
        start = time.perf_counter()
        for n in range(count):
            producer.publish({"n": n, "pad": "x" * 300}, exchange=exchange, routing_key="x",
                             delivery_mode=2, serializer="json")
        with Consumer(conn.channel(), [queue], callbacks=[lambda b, m: (received.append(1), m.ack())]):
            while len(received) < count:
                conn.drain_events(timeout=10)
        return count / (time.perf_counter() - start)


def floor_postgres(url: str, count: int) -> float:
    """Single-row insert + commit transactions per second."""
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("create table floor (id serial primary key, body text)"))
    start = time.perf_counter()
    with engine.connect() as connection:
        for n in range(count):
            connection.execute(text("insert into floor (body) values (:b)"), {"b": "x" * 300})
            connection.commit()
    rate = count / (time.perf_counter() - start)
    engine.dispose()
    return rate


def invoice_phase(cairn_url: str, mail: SmtpCapture, count: int, concurrency: int):
    staff = Browser(cairn_url)
    staff.sign_in("staff", STAFF_LOGIN["login"], STAFF_LOGIN["password"])
    csrf = staff.csrf(f"/staff/clients/{CLIENTS[0]}/invoices/new")

    def one(n: int):
        client = CLIENTS[n % len(CLIENTS)]
        started = time.time()
        created = staff.post(f"/staff/clients/{client}/invoices", data={**FORM, "csrf": csrf})
        found = re.search(r"Invoice (INV-\d{6})", created.text)
        if not found:
            raise RuntimeError(f"invoice not created: {created.status_code} {created.text[:400]}")
        invoice_id, number = created.url.rsplit("/", 1)[1], found.group(1)
        staff.post(f"/staff/invoices/{invoice_id}/send", data={"channel": "email", "csrf": csrf})
        return invoice_id, number, started

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        sent = list(pool.map(one, range(count)))
    numbers = {number: (invoice_id, started) for invoice_id, number, started in sent}
    arrivals: dict[str, tuple[float, str]] = {}
    read: set = set()
    deadline = time.time() + 120
    while len(arrivals) < count and time.time() < deadline:
        for path in mail.directory.glob("*.eml"):
            if path in read:
                continue
            read.add(path)
            body = path.read_text(errors="replace")
            found = re.search(r"INV-\d{6}", body)
            link = re.search(r"(/pay/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", body)
            if found and found.group(0) in numbers and found.group(0) not in arrivals and link:
                arrivals[found.group(0)] = (int(path.name.split("-")[0]) / 1e9, link.group(1))
        time.sleep(0.2)
    elapsed = time.perf_counter() - start
    latencies = [arrivals[num][0] - numbers[num][1] for num in arrivals]
    links = {numbers[num][0]: arrivals[num][1] for num in arrivals}
    return elapsed, latencies, links


def payment_phase(cairn_url: str, invoicing_url: str, links: dict, concurrency: int):
    def pay(item):
        invoice_id, path = item
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        payer = requests.Session()   # the page's form carries a CSRF token (cookie + field)
        page = payer.get(cairn_url + path, timeout=60)
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        response = payer.post(cairn_url + path, data={"payment_method": "pm_card_visa", "csrf": csrf},
                              timeout=60)
        assert "Payment received" in response.text, response.status_code
        return invoice_id, started

    start = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        started = dict(pool.map(pay, links.items()))
    engine = create_engine(invoicing_url)
    paid_at = {}
    deadline = time.time() + 120
    while len(paid_at) < len(started) and time.time() < deadline:
        with engine.connect() as connection:
            for row in connection.execute(text(
                    "select envelope, created_at from outbox where event_type = 'InvoicePaid'")):
                paid_at[json.loads(row.envelope)["data"]["invoice_id"]] = row.created_at
        time.sleep(0.1)
    elapsed = time.perf_counter() - start
    with engine.connect() as connection:
        events = connection.execute(text("select count(*) from outbox")).scalar()
    engine.dispose()
    latencies = [(paid_at[i] - started[i]).total_seconds() for i in paid_at if i in started]
    return elapsed, latencies, events


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=int(os.environ.get("BENCH_INVOICES", 150)))
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    databases = Databases()
    vhost = make_vhost()
    mail = SmtpCapture(Path(tempfile.mkdtemp(prefix="cairn-bench-mail-")))
    stack = None
    try:
        urls = {service: databases.fresh(service) for service in MIGRATED}
        web_port = free_port()
        env = {f"CAIRN_{s.upper()}_DATABASE_URL": u for s, u in urls.items()}
        env.update({"CAIRN_AMQP_URI": f"{AMQP}/{vhost}", "CAIRN_MAIL_BACKEND": "smtp",
                    "CAIRN_SMTP_HOST": "127.0.0.1", "CAIRN_SMTP_PORT": str(mail.port),
                    "CAIRN_SMTP_STARTTLS": "0", "CAIRN_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
                    "CAIRN_LOG_LEVEL": "WARNING", "CAIRN_VAR_DIR": tempfile.mkdtemp()})
        stack = Stack(env=env, web_port=web_port, sandbox_port=free_port(),
                      log_dir=Path(tempfile.mkdtemp(prefix="cairn-bench-logs-")))
        stack.prepare(demo=True)
        stack.start()

        n = args.invoices
        inv_elapsed, inv_lat, links = invoice_phase(stack.web_url, mail, n, args.concurrency)
        pay_elapsed, pay_lat, invoicing_events = payment_phase(stack.web_url, urls["invoicing"], links,
                                                               args.concurrency)
        floor_amqp = floor_broker(vhost, 2000)
        floor_pg = floor_postgres(databases.fresh("clients"), 2000)
    finally:
        if stack:
            stack.stop()
        mail.stop()
        databases.drop_all()
        requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=10)

    # Events that crossed the broker: per invoice InvoiceSaved, InvoiceSent,
    # NotificationDelivered (email); per payment PaymentCaptured, InvoicePaid,
    # NotificationDelivered (receipt).
    events_per_invoice = 6
    total_events = events_per_invoice * len(pay_lat)
    event_rate = total_events / (inv_elapsed + pay_elapsed)
    report = f"""Cairn benchmark — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC
machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, all processes on this box
invoices: {n}, client concurrency: {args.concurrency}

save → send → email accepted by SMTP
  {len(inv_lat)}/{n} delivered in {inv_elapsed:.1f} s = {len(inv_lat) / inv_elapsed:.1f} invoices/s
  {percentiles(inv_lat)}
pay page → PaymentCaptured → InvoicePaid
  {len(pay_lat)}/{len(links)} paid in {pay_elapsed:.1f} s = {len(pay_lat) / pay_elapsed:.1f} payments/s
  {percentiles(pay_lat)}

floor on the same machine
  RabbitMQ publish-with-confirms → consume: {floor_amqp:8.0f} msg/s
  PostgreSQL single-row insert + commit:    {floor_pg:8.0f} tx/s
Cairn business events end to end: {event_rate:.1f} events/s
  = {event_rate / floor_amqp:.3f} of the broker floor, {event_rate / floor_pg:.3f} of the insert floor
  (invoicing outbox rows: {invoicing_events})
"""
    print(report)
    (REPO / "bench-report.txt").write_text(report)


if __name__ == "__main__":
    main()
