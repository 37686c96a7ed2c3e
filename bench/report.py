"""The benchmark's report: the machine, the floors, the RPC counts per step,
the flows' figures next to their targets, and the Stripe sandbox's share."""
from __future__ import annotations

import os
import platform
import re
import time
from datetime import datetime, timezone
from pathlib import Path

import requests

from rpc_trace import render_counts

RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
TARGETS = {"invoice_rate": 40.0, "invoice_p95_ms": 300.0, "pay_p95_ms": 250.0}
SANDBOX_LINE = re.compile(r"^(?P<at>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(?P<ms>\d{3}) stripe_sandbox "
                          r"INFO (?P<request>(GET|POST|DELETE) /v1/\S+) \d{3} (?P<took>[\d.]+)ms")


def machine() -> dict:
    cpu = _first("/proc/cpuinfo", r"model name\s*:\s*(.+)") or platform.processor()
    ram_kb = _first("/proc/meminfo", r"MemTotal:\s*(\d+) kB")
    try:
        rabbit = requests.get(f"{RABBIT_API}/overview", timeout=10).json()["rabbitmq_version"]
    except (requests.RequestException, KeyError, ValueError):
        rabbit = "?"
    return {"cores": os.cpu_count(), "cpu": cpu.strip(), "python": platform.python_version(),
            "ram_gib": round(int(ram_kb) / 1024 / 1024, 1) if ram_kb else "?",
            "arch": platform.machine(), "rabbitmq": rabbit}


def _first(path: str, pattern: str) -> str | None:
    try:
        found = re.search(pattern, Path(path).read_text(), re.MULTILINE)
    except OSError:
        return None
    return found.group(1) if found else None


def percentile(samples: list[float], q: float) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000 if ordered else float("nan")


def spread(samples: list[float]) -> str:
    return " / ".join(f"{percentile(samples, q):.0f}" for q in (0.50, 0.95, 0.99))


def sandbox_share(log_path: Path, payments: dict) -> dict:
    """The sandbox's own time: the server-side time its log records for every
    API request it answered during the pay phase, summed and divided by the
    payments. An upper bound of what a payment waits on: it also counts the
    requests that webhook processing makes after the payer's answer."""
    start, end = payments["window"]
    took = []
    for line in log_path.read_text(errors="replace").splitlines() if log_path.exists() else []:
        found = SANDBOX_LINE.match(line)
        if found and start <= _local_epoch(found["at"], found["ms"]) <= end + 1:
            took.append(float(found["took"]))
    paid = max(payments["done"], 1)
    return {"ms_per_payment": sum(took) / paid, "requests_per_payment": len(took) / paid}


def _local_epoch(stamp: str, millis: str) -> float:
    """The sandbox logs in local time (logging's asctime)."""
    return time.mktime(time.strptime(stamp, "%Y-%m-%d %H:%M:%S")) + int(millis) / 1000


def render(results: dict) -> str:
    m, args = results["machine"], results["args"]
    parts = [f"# Cairn benchmark — {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC", "",
             f"Machine: {m['cores']} cores ({m['cpu']}, {m['arch']}), {m['ram_gib']} GiB RAM, "
             f"Python {m['python']}, RabbitMQ {m['rabbitmq']}"
             + (f", PostgreSQL {results['floors']['postgres_version']}" if "floors" in results else "")
             + "; every Cairn process, the broker, the database, the Stripe sandbox, the SMTP "
               "capture and the load generator on this one box.",
             "", _load(results), ""]
    if "floors" in results:
        parts += _floors(results["floors"]) + ["", "## Events", "", results["events"], ""]
    if "rpcs" in results:
        parts += _rpcs(results["rpcs"])
    if "invoices" in results:
        parts += _flows(results, args)
    if "statements" in results:
        import statements
        parts += ["", "## Statement run", "", statements.report(results["statements"])]
        if results.get("statement_cpu"):
            done = max(results["statements"]["run"]["done"], 1)
            parts += ["", "CPU per 1,000 clients during the run (ms, from /proc; notifications "
                          "handling the StatementIssued events included):", "",
                      "| process | ms per 1,000 clients |", "| --- | ---: |"]
            parts += [f"| {name} | {ms * 1000 / done:,.0f} |" for name, ms in
                      sorted(results["statement_cpu"].items(), key=lambda item: -item[1])]
    return "\n".join(parts) + "\n"


def _load(results: dict) -> str:
    """Whether the box was quiet when the run began: the 1-minute load average
    (well above 0 on an idle box) and other test or benchmark runs."""
    others = results["others"]
    return (f"When the run began: load average (1 min) {results['load_before'][0]:.2f} on "
            f"{results['machine']['cores']} cores; "
            + (f"other test/benchmark processes running: {', '.join(others)} — the figures "
               f"below were measured while they competed for the CPU." if others
               else "no other test or benchmark process running."))


def others_running() -> list[str]:
    """Other pytest, Locust or benchmark processes on this box (not this one)."""
    found = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            command = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if int(proc.name) != os.getpid() and re.search(r"pytest|locust|bench/", command) \
                and "bench/run.py" not in command:
            found.append(f"{proc.name} ({command.strip()[:60]})")
    return found


def _floors(f: dict) -> list[str]:
    return ["## Floors (measured before Cairn starts: idle broker and database)", "",
            f"- RabbitMQ, persistent, each publish awaiting its confirm → consumed: "
            f"**{f['broker_rate']:.0f} msg/s**; publish → delivery p50 / p95 / p99 "
            f"{spread(f['broker_delays'])} ms",
            f"- PostgreSQL single-row insert + commit, one connection: "
            f"**{f['postgres_rate']:.0f} tx/s**; p50 / p95 / p99 {spread(f['postgres_times'])} ms"]


def _rpcs(rpcs: dict) -> list[str]:
    return ["## RPCs and events per step (counted by the broker's firehose)", "",
            "One invoice saved, opened, emailed and paid; every RPC request published to "
            "`nameko-rpc`, by caller (its reply queue) and `service.method`.", "",
            "Warm (as it runs all day: caches filled):", "", render_counts(rpcs["warm"]), "",
            "Cold (the first pass after start: every cache empty):", "",
            render_counts(rpcs["cold"]), ""]


def _flows(results: dict, args) -> list[str]:
    inv, pay, sandbox = results["invoices"], results["payments"], results["sandbox"]
    inv_rate = inv["done"] / inv["elapsed"] if inv["elapsed"] > 0 else 0.0
    pay_rate = pay["done"] / pay["elapsed"] if pay["elapsed"] > 0 else 0.0
    inv_p95, pay_p95 = percentile(inv["latencies"], 0.95), percentile(pay["latencies"], 0.95)
    pay_p95_own = pay_p95 - sandbox["ms_per_payment"]
    return [f"## Flows ({inv['count']} invoices, {args.concurrency} at a time)", "",
            "| flow | done | per second | p50 / p95 / p99 (ms) | target | met |",
            "| --- | ---: | ---: | --- | --- | --- |",
            f"| staff save → invoice page → send → email accepted by SMTP | {inv['done']}/"
            f"{inv['count']} | {inv_rate:.1f} | {spread(inv['latencies'])} | ≥ 40/s, p95 ≤ 300 ms "
            f"| {_met(inv_rate >= TARGETS['invoice_rate'] and inv_p95 <= TARGETS['invoice_p95_ms'])} |",
            f"| pay page → pay → `InvoicePaid` | {pay['done']}/{pay['count']} | {pay_rate:.1f} | "
            f"{spread(pay['latencies'])} | p95 ≤ 250 ms without the sandbox's time "
            f"(here ≈ {pay_p95_own:.0f} ms) | {_met(pay_p95_own <= TARGETS['pay_p95_ms'])} |",
            "",
            f"- The payer's POST alone (the wait after pressing Pay): p50 / p95 / p99 "
            f"{spread(pay['post_latencies'])} ms.",
            f"- The Stripe sandbox's own time per payment: **{sandbox['ms_per_payment']:.1f} ms** "
            f"over {sandbox['requests_per_payment']:.1f} requests: the server-side time its log "
            f"records for each API request it answered during the pay phase (the card's "
            f"PaymentMethod, create and confirm the intent, and the fetches webhook processing "
            f"makes afterwards), summed and divided by the payments — an upper bound of what a "
            f"payment waits on. \"Without the sandbox\" is p95 minus that mean (not attributed "
            f"per payment)."] + _cpu(results)


def _cpu(results: dict) -> list[str]:
    """CPU ms per invoice and per payment, by process: where a flow's cost is."""
    phases = [(key, results[phase]["done"]) for key, phase in
              (("invoice_cpu", "invoices"), ("payment_cpu", "payments")) if key in results]
    if not phases:
        return []
    names = sorted({name for key, _ in phases for name in results[key]},
                   key=lambda name: (name == "machine", -results[phases[0][0]].get(name, 0)))
    rows = ["", "CPU per item (ms, from /proc, bench/load/cpu.py): \"PG backends\" is the "
                "part of PostgreSQL spent on Cairn's databases; \"machine\" is every core's "
                "busy time, the load generator and the SMTP capture included:", "",
            "| process | per invoice (save → email) | per payment (page → InvoicePaid) |",
            "| --- | ---: | ---: |"]
    for name in names:
        cells = [f"{results[key].get(name, 0) / max(done, 1):.1f}" if key in results else "—"
                 for key, done in phases]
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return rows


def _met(ok: bool) -> str:
    return "yes" if ok else "**no**"
