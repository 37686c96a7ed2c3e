"""`make bench`: what people feel, next to what this machine can do at all.

1. The floors, measured first, on an idle broker and database (before any
   Cairn process starts): RabbitMQ persistent publish, each awaiting its
   confirm, → consume; PostgreSQL single-row insert + commit from one
   connection.
2. Events: bench/events.py's `run(...)` (outbox → relay → handler alone,
   with its own floors), also before Cairn starts.
3. Cairn's processes start; one pass of the billing flow runs with the
   broker's firehose on, counting every RPC and event each step causes
   (bench/rpc_trace.py); then the load:
   - staff save an invoice → its page → send by email → the email accepted by
     SMTP (throughput, p50/p95/p99);
   - the patient opens the pay page → pays with the test card → `InvoicePaid`
     (p50/p95/p99), with the Stripe sandbox's own share of each payment, read
     from its request log (the server-side time of each request it answered).

The report goes to bench/reports/bench-<UTC date>.md and is printed.

    python bench/run.py [--invoices N] [--concurrency C] [--count-only]
                        [--statement-clients N] [--statements-only]

4. The statement run (bench/statements.py): 10,000 clients seeded, the
   period's run started over RPC and polled to the end, next to the floor of
   its own writes; with --statements-only the report goes to
   bench/reports/statements-<UTC date>.md.
"""
from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timezone
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
sys.path[:0] = [str(BENCH), str(REPO), str(REPO / "deploy" / "local")]

import requests  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402

import floors  # noqa: E402
import report  # noqa: E402
from flows import CLIENTS, Mailbox, Payer, Staff, invoice_email, poll  # noqa: E402
from rpc_trace import Firehose, count_one_pass  # noqa: E402
from stack import MIGRATED, Stack  # noqa: E402
from tests.fixtures.databases import Databases  # noqa: E402
from tests.fixtures.mail import SmtpCapture  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

AMQP = "amqp://guest:guest@127.0.0.1:5672"
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"


@contextmanager
def vhost():
    name = f"cairn_bench_{os.urandom(4).hex()}"
    requests.put(f"{RABBIT_API}/vhosts/{name}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{name}/guest", json={
        "configure": ".*", "write": ".*", "read": ".*"}, timeout=10).raise_for_status()
    try:
        yield name
    finally:
        requests.delete(f"{RABBIT_API}/vhosts/{name}", timeout=10)


@contextmanager
def cairn_running(databases: Databases, amqp_vhost: str):
    """Every Cairn process on fresh databases, mail over SMTP to a capture."""
    mail = SmtpCapture(Path(tempfile.mkdtemp(prefix="cairn-bench-mail-")))
    urls = {service: databases.fresh(service) for service in MIGRATED}
    web_port = free_port()
    env = {f"CAIRN_{s.upper()}_DATABASE_URL": u for s, u in urls.items()}
    env.update({"CAIRN_AMQP_URI": f"{AMQP}/{amqp_vhost}", "CAIRN_MAIL_BACKEND": "smtp",
                "CAIRN_SMTP_HOST": "127.0.0.1", "CAIRN_SMTP_PORT": str(mail.port),
                "CAIRN_SMTP_STARTTLS": "0", "CAIRN_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
                "CAIRN_LOG_LEVEL": "WARNING", "CAIRN_VAR_DIR": tempfile.mkdtemp(),
                "CAIRN_STATEMENT_RUN_POLL_SECONDS": "0.2"})
    stack = Stack(env=env, web_port=web_port, sandbox_port=free_port(),
                  log_dir=Path(tempfile.mkdtemp(prefix="cairn-bench-logs-")))
    try:
        stack.prepare(demo=True)
        stack.start()
        yield stack, mail, urls
    finally:
        stack.stop()
        mail.stop()


# ---- what the flows cost in RPCs ------------------------------------------------------

def count_rpcs(stack: Stack, mail: SmtpCapture, amqp_vhost: str) -> dict:
    """Two passes with the firehose on: the first with every cache cold, the
    second as it runs all day."""
    staff, mailbox = Staff(stack.web_url), Mailbox(mail.directory)
    with Firehose(AMQP, amqp_vhost) as trace:
        cold = count_one_pass(trace, staff, mailbox, stack.web_url, CLIENTS[0])
        warm = count_one_pass(trace, staff, mailbox, stack.web_url, CLIENTS[0])
    return {"cold": cold, "warm": warm}


# ---- invoices: save → page → send → email accepted -----------------------------------

def invoice_phase(cairn_url: str, mail: SmtpCapture, count: int, concurrency: int) -> dict:
    staffs = [Staff(cairn_url) for _ in range(concurrency)]
    mailbox = Mailbox(mail.directory)
    mailbox.new_messages()                      # the counting passes' mail

    def one(n: int):
        staff, client = staffs[n % concurrency], CLIENTS[n % len(CLIENTS)]
        started = time.time()
        invoice_id, number = staff.invoice_page(staff.save_invoice(client))
        staff.send_by_email(invoice_id)
        return number, (invoice_id, started)

    start = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        sent = dict(pool.map(one, range(count)))
    arrived: dict[str, tuple[float, str]] = {}

    def all_arrived():
        for at, message in mailbox.new_messages():
            found = invoice_email(message)
            if found and found[0] in sent:
                arrived[found[0]] = (at, found[1])
        return len(arrived) == len(sent)

    try:
        poll(all_arrived, 120, f"{count} invoice emails")
    except RuntimeError as missing:
        print(f"warning: {missing} ({len(arrived)} arrived)", file=sys.stderr)
    last = max((at for at, _ in arrived.values()), default=time.time())
    return {"count": count, "done": len(arrived), "elapsed": last - start,
            "latencies": [arrived[n][0] - sent[n][1] for n in arrived],
            "links": {sent[n][0]: arrived[n][1] for n in arrived}}


# ---- payments: pay page → pay → InvoicePaid --------------------------------------------

def payment_phase(cairn_url: str, invoicing_url: str, links: dict, concurrency: int) -> dict:
    def pay(item):
        invoice_id, path = item
        payer = Payer(cairn_url, path)
        started = datetime.now(timezone.utc).replace(tzinfo=None)
        payer.open()
        posted = time.perf_counter()
        payer.pay()
        return invoice_id, (started, time.perf_counter() - posted)

    start = time.time()
    with ThreadPoolExecutor(concurrency) as pool:
        done = dict(pool.map(pay, links.items()))
    paid_at = invoices_paid(invoicing_url, set(done), timeout=120)
    last = max(paid_at.values(), default=datetime.now(timezone.utc).replace(tzinfo=None))
    return {"count": len(links), "done": len(paid_at),
            "elapsed": last.replace(tzinfo=timezone.utc).timestamp() - start,
            "latencies": [(paid_at[i] - done[i][0]).total_seconds() for i in paid_at],
            "post_latencies": [seconds for _, seconds in done.values()],
            "window": (start, last.replace(tzinfo=timezone.utc).timestamp())}


def invoices_paid(invoicing_url: str, invoice_ids: set, timeout: float) -> dict:
    """invoice id → when invoicing recorded its InvoicePaid (UTC, naive)."""
    engine = create_engine(invoicing_url)
    found: dict = {}
    query = text("select envelope::json -> 'data' ->> 'invoice_id' as invoice_id, created_at "
                 "from outbox where event_type = 'InvoicePaid'")

    def all_paid():
        with engine.connect() as connection:
            found.update({row.invoice_id: row.created_at for row in connection.execute(query)})
        return invoice_ids <= set(found)

    try:
        poll(all_paid, timeout, f"{len(invoice_ids)} InvoicePaid events")
    except RuntimeError as missing:
        print(f"warning: {missing}", file=sys.stderr)
    engine.dispose()
    return {i: at for i, at in found.items() if i in invoice_ids}


# ---- the run ----------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--invoices", type=int, default=int(os.environ.get("BENCH_INVOICES", 150)))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--events", type=int, default=5000, help="events for bench/events.py")
    parser.add_argument("--count-only", action="store_true",
                        help="only count the RPCs and events of one pass of each flow")
    parser.add_argument("--statement-clients", type=int, default=10_000,
                        help="clients in the statement run (0: no statement run)")
    parser.add_argument("--statements-only", action="store_true",
                        help="only the statement run (and its floor)")
    args = parser.parse_args()
    databases, results = Databases(), {"args": args, "machine": report.machine(),
                                       "load_before": os.getloadavg(),
                                       "others": report.others_running()}
    try:
        if not (args.count_only or args.statements_only):
            say("floors")
            with vhost() as floor_vhost:
                results["floors"] = floors.measure(f"{AMQP}/{floor_vhost}",
                                                   databases.fresh("clients"))
            say("events (bench/events.py)")
            results["events"] = events_section(databases, args.events)
        with vhost() as cairn_vhost, cairn_running(databases, cairn_vhost) as (stack, mail, urls):
            if not args.statements_only:
                say("counting the RPCs of one pass")
                results["rpcs"] = count_rpcs(stack, mail, cairn_vhost)
            if not (args.count_only or args.statements_only):
                say(f"invoices: {args.invoices}, {args.concurrency} at a time")
                with cpu_spent(stack, urls, results, "invoice_cpu"):
                    results["invoices"] = invoice_phase(stack.web_url, mail, args.invoices,
                                                        args.concurrency)
                say("payments")
                with cpu_spent(stack, urls, results, "payment_cpu"):
                    results["payments"] = payment_phase(
                        stack.web_url, urls["invoicing"], results["invoices"]["links"],
                        args.concurrency)
                results["sandbox"] = report.sandbox_share(
                    stack.log_dir / "stripe-sandbox.log", results["payments"])
            if args.statement_clients and not args.count_only:
                say(f"statement run: {args.statement_clients} clients")
                with cpu_spent(stack, urls, results, "statement_cpu"):
                    results["statements"] = statements_phase(databases, urls, cairn_vhost,
                                                             args.statement_clients)
    finally:
        databases.drop_all()
    out = report.render(results)
    kind = "statements" if args.statements_only else "bench"
    path = BENCH / "reports" / f"{kind}-{datetime.now(timezone.utc):%Y-%m-%d}.md"
    path.parent.mkdir(exist_ok=True)
    path.write_text(out)
    print(out)
    print(f"(written to {path.relative_to(REPO)})")


@contextmanager
def cpu_spent(stack: Stack, urls: dict, results: dict, key: str):
    """CPU ms each Cairn process, RabbitMQ, PostgreSQL and the whole machine
    spent during the block (bench/load/cpu.py's /proc snapshots)."""
    try:
        from load import cpu
    except ImportError:
        yield
        return
    named = {name: process.pid for name, process in stack.processes.items()}
    databases = [url.rsplit("/", 1)[1] for url in urls.values()]
    before = cpu.snapshot(named, databases)
    yield
    results[key] = cpu.difference(before, cpu.snapshot(named, databases))


def statements_phase(databases: Databases, urls: dict, amqp_vhost: str, count: int) -> dict:
    """bench/statements.py: N clients seeded, the period's statement run over
    RPC, next to the floor of its own writes."""
    import statements
    statements.seed(urls["clients"], urls["invoicing"], count)
    floor = statements.floor(databases.fresh("clients"), count)
    return {"run": statements.run_statements(f"{AMQP}/{amqp_vhost}"), "floor": floor}


def say(what: str) -> None:
    print(f"[{datetime.now(timezone.utc):%H:%M:%S}] {what}", file=sys.stderr, flush=True)


def events_section(databases: Databases, count: int) -> str:
    """bench/events.py (written separately): the outbox → relay → handler
    path alone, next to its own broker floors, on an idle machine."""
    if not (BENCH / "events.py").exists():
        return "_bench/events.py does not exist yet; no events section in this run._"
    import events
    try:
        figures = events.run(AMQP, RABBIT_API, databases.fresh, count=count)
    except Exception as failed:   # noqa: BLE001 — the other sections still count
        return f"_bench/events.py failed: {failed!r}_"
    return "```\n" + events.report(figures) + "\n```"


if __name__ == "__main__":
    main()
