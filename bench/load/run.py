"""`make load`: what a page costs and how long it takes, as people use it.

In one run: the floor (a bare nameko @http handler making 0, 1 or 2 trivial
RPCs to a bare @rpc service), then Cairn's whole stack on PostgreSQL and a
throwaway RabbitMQ vhost, with distinct staff users and portal accounts that
each sign in once. Each page alone, then each area's pages in turn at several
loads, closed loop and with think time. Every figure is taken inside a
measured window after a warm-up; CPU comes from /proc for every serving
process, RabbitMQ and PostgreSQL. The report goes to
bench/reports/load-<UTC date>.md and to the terminal.

    python bench/load/run.py [--duration 15] [--sessions 10,50,100] …  (--help)
"""
from __future__ import annotations

import argparse
import contextlib
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path

warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
sys.path[:0] = [str(REPO), str(REPO / "deploy" / "local"), str(HERE)]

import psycopg2  # noqa: E402
import requests  # noqa: E402
from kombu import Connection  # noqa: E402

import report  # noqa: E402
import seed  # noqa: E402
from pages import AREAS, COOKIES, pages_of  # noqa: E402
from phases import Phase, Result, Target, run_phase  # noqa: E402
from stack import MIGRATED, SERVICES, Stack  # noqa: E402
from tests.fixtures.databases import ADMIN_DSN, Databases  # noqa: E402
from tests.support.processes import free_port  # noqa: E402

AMQP = "amqp://guest:guest@127.0.0.1:5672"
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
TARGET_RPCS = 2     # the page pattern: at most 2 RPCs


def numbers(text: str) -> list[int]:
    return [int(part) for part in text.split(",") if part.strip()]


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--warmup", type=float, default=3, help="seconds before each window")
    parser.add_argument("--duration", type=float, default=15, help="seconds measured per phase")
    parser.add_argument("--sessions", type=numbers, default=[10, 50, 100],
                        help="closed-loop concurrencies, for the areas and the floors")
    parser.add_argument("--think-sessions", type=numbers, default=[20, 100])
    parser.add_argument("--think", type=float, default=1.0, help="seconds between a session's pages")
    parser.add_argument("--page-sessions", type=int, default=10,
                        help="sessions for each page alone (0: skip that pass)")
    parser.add_argument("--page-duration", type=float, default=8)
    parser.add_argument("--floor-rpcs", type=numbers, default=[0, 1, 2])
    parser.add_argument("--idle", type=float, default=8,
                        help="seconds of CPU measured with no requests, to show the idle cost")
    parser.add_argument("--areas", default=",".join(AREAS))
    parser.add_argument("--staff", type=int, default=100, help="distinct staff users")
    parser.add_argument("--portal", type=int, default=100, help="distinct portal accounts")
    parser.add_argument("--invoices", type=int, default=3, help="invoices per portal client")
    parser.add_argument("--out", type=Path, default=REPO / "bench" / "reports")
    return parser.parse_args()


def progress(message: str) -> None:
    print(f"[load {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def note_result(result: Result) -> Result:
    ordered = result.latencies()
    progress(f"  {result.phase.group} {result.phase.label}, {result.phase.sessions} sessions"
             f"{f', {result.phase.think:g} s think' if result.phase.think else ''}: "
             f"{result.rate:.0f} req/s, p95 {report.ms(report.percentile(ordered, 0.95))} ms, "
             f"{result.errors} errors, {report.total_cpu(result):.2f} CPU ms/req")
    return result


# ---- RabbitMQ vhosts ---------------------------------------------------------------
def make_vhost(cleanup: contextlib.ExitStack, kind: str) -> str:
    vhost = f"cairn_load_{kind}_{uuid.uuid4().hex[:8]}"
    requests.put(f"{RABBIT_API}/vhosts/{vhost}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{vhost}/guest", timeout=10,
                 json={"configure": ".*", "write": ".*", "read": ".*"}).raise_for_status()
    cleanup.callback(requests.delete, f"{RABBIT_API}/vhosts/{vhost}", timeout=30)
    return vhost


def wait_for_consumer(uri: str, queue: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    with Connection(uri) as connection:
        while True:
            try:
                if connection.channel().queue_declare(queue, passive=True).consumer_count:
                    return
            except Exception:   # not declared yet: the channel is closed, take another
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"nothing consumes {queue} after {timeout:g} s")
            time.sleep(0.2)


# ---- the floor ------------------------------------------------------------------------
def start_floor(cleanup: contextlib.ExitStack, workdir: Path) -> Target:
    vhost, port = make_vhost(cleanup, "floor"), free_port()
    env = {**os.environ, "CAIRN_AMQP_URI": f"{AMQP}/{vhost}", "CAIRN_LOG_LEVEL": "WARNING",
           "CAIRN_WEB_ADDRESS": f"127.0.0.1:{port}",
           "PYTHONPATH": os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))}
    processes = {}
    for name, path in (("floor_rpc", "floor_services:FloorRpc"),
                       ("floor_http", "floor_services:FloorHttp")):
        log = open(workdir / f"{name}.log", "ab")
        cleanup.callback(log.close)
        processes[name] = subprocess.Popen([sys.executable, "-m", "servicekit.run", path], cwd=REPO,
                                           env=env, stdout=log, stderr=subprocess.STDOUT,
                                           start_new_session=True)
        cleanup.callback(stop_process, processes[name])
        if name == "floor_rpc":     # an RPC published before its queue exists is lost
            wait_for_consumer(f"{AMQP}/{vhost}", "rpc-floor_rpc")
    wait_for_http(f"http://127.0.0.1:{port}/rpc/1")
    target = Target(f"http://127.0.0.1:{port}", {n: p.pid for n, p in processes.items()}, vhost)
    cleanup.callback(target.close)
    return target


def wait_for_http(url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            if requests.get(url, timeout=5).status_code == 200:
                return
        except requests.RequestException:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not answer within {timeout:g} s")
        time.sleep(0.2)


def stop_process(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


def run_floors(args, workdir: Path) -> list[Result]:
    with contextlib.ExitStack() as cleanup:
        target = start_floor(cleanup, workdir)
        target.measure_idle(args.idle)
        results = []
        for rpcs in args.floor_rpcs:
            page = {"name": report.rpc_label(rpcs), "path": f"/rpc/{rpcs}", "marker": f"ok {rpcs}"}
            for sessions in args.sessions:
                phase = Phase("floor", report.rpc_label(rpcs), sessions, 0, [page],
                              [{"cookie": "", "vars": {}}])
                results.append(note_result(run_phase(phase, target, args.warmup, args.duration,
                                                     workdir)))
        return results


# ---- Cairn ------------------------------------------------------------------------------
def start_cairn(args, cleanup: contextlib.ExitStack, workdir: Path) -> tuple[Target, dict, str]:
    databases = Databases()
    cleanup.callback(databases.drop_all)
    vhost = make_vhost(cleanup, "cairn")
    urls = {service: databases.fresh(service) for service in MIGRATED}
    web_port = free_port()
    env = {f"CAIRN_{s.upper()}_DATABASE_URL": u for s, u in urls.items()}
    env.update({"CAIRN_AMQP_URI": f"{AMQP}/{vhost}", "CAIRN_LOG_LEVEL": "WARNING",
                "CAIRN_PUBLIC_URL": f"http://127.0.0.1:{web_port}",
                "CAIRN_VAR_DIR": str(workdir / "var")})
    stack = Stack(env=env, web_port=web_port, sandbox_port=free_port(), log_dir=workdir / "logs")
    cleanup.callback(stack.stop)
    progress("migrating, declaring queues, loading the demo clinic")
    stack.prepare(demo=True)
    started = time.monotonic()
    people = seed.seed(urls, args.staff, args.portal, args.invoices)
    progress(f"seeded {args.staff} staff users and {args.portal} portal accounts with "
             f"{args.invoices} invoices each in {time.monotonic() - started:.1f} s; starting Cairn")
    stack.start()
    settled = wait_settled(urls, args.portal * args.invoices)
    target = Target(stack.web_url, {name: stack.processes[name].pid for name in SERVICES}, vhost,
                    [url.rsplit("/", 1)[1] for url in urls.values()])
    cleanup.callback(target.close)
    target.measure_idle(args.idle)
    return target, people, settled


def wait_settled(urls: dict, invoices: int, timeout: float = 180) -> str:
    started = time.monotonic()
    while not seed.settled(urls, invoices):
        if time.monotonic() - started > timeout:
            return f"the seed's events were still being handled after {timeout:g} s"
        time.sleep(0.5)
    return f"the seed's events were all handled {time.monotonic() - started:.1f} s after start"


def run_area(area: str, target: Target, people: list[dict], args, workdir: Path):
    progress(f"signing in {len(people)} {area} users")
    users = seed.sign_in_all(target.host, area, people, COOKIES[area])
    pages = [page._asdict() for page in pages_of(area)]
    alone = [Phase("page", page["name"], args.page_sessions, 0, [page], users)
             for page in pages] if args.page_sessions else []
    together = [Phase("area", area, sessions, 0, pages, users) for sessions in args.sessions] + \
        [Phase("area", area, sessions, args.think, pages, users) for sessions in args.think_sessions]
    page_results = [note_result(run_phase(p, target, args.warmup, args.page_duration, workdir))
                    for p in alone]
    area_results = [note_result(run_phase(p, target, args.warmup, args.duration, workdir))
                    for p in together]
    return page_results, area_results


# ---- the report --------------------------------------------------------------------------
def machine() -> str:
    model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text()
                  .splitlines() if line.startswith("model name")), "unknown")
    memory_kb = int(next(line.split()[1] for line in Path("/proc/meminfo").read_text().splitlines()
                         if line.startswith("MemTotal")))
    overview = requests.get(f"{RABBIT_API}/overview", timeout=10).json()
    with contextlib.closing(psycopg2.connect(ADMIN_DSN)) as connection, connection.cursor() as cursor:
        cursor.execute("show server_version")
        postgres = cursor.fetchone()[0]
    return (f"{os.cpu_count()} cores ({model}), {memory_kb / 2**20:.1f} GiB RAM, Linux "
            f"{platform.release()}; Python {platform.python_version()}, nameko {version('nameko')}, "
            f"locust {version('locust')}; RabbitMQ {overview['rabbitmq_version']} (Erlang "
            f"{overview['erlang_version']}), PostgreSQL {postgres}. Everything, the load generator "
            f"included, runs on this one machine.")


def write_report(args, floors, pages, areas, settled: str, elapsed: float) -> Path:
    now = datetime.now(timezone.utc)
    sections = [
        f"# Cairn page load — {now:%Y-%m-%d %H:%M} UTC",
        f"**Machine:** {machine()}",
        f"**Run:** {args.staff} staff users (front_desk / biller) and {args.portal} portal accounts, "
        f"each account with its own client and {args.invoices} invoices posted to the portal; "
        f"every session signed in once on the real sign-in page and keeps its cookie ({settled}). "
        f"Each phase: {args.warmup:g} s warm-up, then a {args.duration:g} s window "
        f"({args.page_duration:g} s for a page alone). The whole run took {elapsed / 60:.1f} min.",
        report.summary(pages, areas),
        HOW_TO_READ,
        report.floors_section(floors),
        report.pages_section(pages, floors, TARGET_RPCS) if pages else "",
        *[report.area_section(area, [r for r in areas if r.phase.label == area], floors, TARGET_RPCS)
          for area in dict.fromkeys(r.phase.label for r in areas)],
        report.errors_section(pages + areas),
        LIMITS,
    ]
    text = "\n\n".join(s for s in sections if s) + "\n"
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"load-{now:%Y-%m-%d}.md"
    path.write_text(text)
    print(text)
    return path


HOW_TO_READ = """## How to read this

- **Sessions** are simulated people, each with its own signed-in cookie; *closed loop*: each
  asks for its next page as soon as the last one arrives; *think*: it waits that long between
  pages. Latency is the time to the whole response; p50/p95/p99 are over the pages that rendered.
- **Errors**: any status but 200 (redirects are not followed, so a lapsed session is one) or a
  200 without the page's content.
- **CPU ms/req**: CPU time (user + system, from /proc) a process spent inside the window,
  divided by the requests completed in it. *total* sums Cairn's services (or the floor's two
  processes), RabbitMQ (beam.smp) and PostgreSQL (the postmaster, the backends it reaped, and
  the live backends); *PG, own backends* is the part of PostgreSQL spent by backends on Cairn's
  databases that are alive at the window's end (a pooled connection exactly; one opened and
  closed inside the window not at all), so *PG* far above it means someone else was using
  PostgreSQL; *total, own PG backends* is the total with that part instead of all of
  PostgreSQL. The targets are judged on the full total. The load generator is never in a
  total; *generator, core* is its CPU as a share of one core (near 100 % it, not Cairn, sets
  the pace).
- **Idle** (the line above each table): CPU ms/s each process burns with no requests at all
  (timers, heartbeats, the broker's housekeeping, and anyone else's work on the shared
  servers). Divided by a low request rate, as with think time, it weighs on CPU per request.
- **Is the box shared?** *unaccounted* is the machine's busy CPU (ms/s) that none of the
  counted processes explain (this runner, the OS, anyone else's work); *others RMQ / PG*
  counts other clients on the shared RabbitMQ (connections on other vhosts) and PostgreSQL
  (backends on other databases). High values mean the figures are inflated.
- **Floor**: the same runner, broker and load generator with no database, templates or
  sessions; *× floor* compares with the floor making the target pattern's 2 RPCs at the same
  concurrency (for think-time loads, the nearest closed-loop one: CPU per request barely
  depends on load).
- **New PG conn/s**: growth of `pg_stat_database.sessions` (every connection ever opened)
  on Cairn's databases during the window. A pool that keeps its connections shows 0."""

LIMITS = """## Limits of the method

- One 2-core machine runs everything: the load generator takes CPU from the services, so
  throughput at high concurrency is lower than on separate machines (its CPU is reported).
- PostgreSQL and RabbitMQ are the machine's shared servers: work by anyone else on them in
  the window is counted as Cairn's. *unaccounted* catches other processes, not other
  clients' work inside these two servers; *PG, own backends* separates PostgreSQL's part,
  but RabbitMQ has no per-vhost CPU, so its figure is only as clean as the box was quiet
  (*others RMQ / PG* says who else was connected at the window's edges).
- /proc counts CPU in clock ticks (10 ms); windows are long enough for that to wash out.
  A PostgreSQL backend that exits while a snapshot is being read is counted with its whole
  lifetime or not at all.
- `pg_stat_database.sessions` is flushed by each backend within about a second, so the
  count at a window's edge can be off by the connections of the last second."""


def stop_on_sigterm() -> None:
    def interrupt(signum, frame):
        raise KeyboardInterrupt(f"signal {signum}")
    signal.signal(signal.SIGTERM, interrupt)


def main() -> None:
    args = parse_args()
    stop_on_sigterm()
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="cairn-load-"))
    try:
        progress("floor: bare nameko @http + trivial RPCs")
        floors = run_floors(args, workdir)
        pages, areas = [], []
        with contextlib.ExitStack() as cleanup:
            target, people, settled = start_cairn(args, cleanup, workdir)
            for area in args.areas.split(","):
                alone, together = run_area(area, target, people[area], args, workdir)
                pages, areas = pages + alone, areas + together
            progress("stopping Cairn, dropping its databases and vhost")
    except BaseException:
        print(f"load benchmark failed; logs kept in {workdir}", file=sys.stderr)
        raise
    path = write_report(args, floors, pages, areas, settled, time.monotonic() - started)
    progress(f"report written to {path.relative_to(REPO) if path.is_relative_to(REPO) else path}")
    if any(r.errors for r in floors + pages + areas):
        progress(f"there were errors: the services' logs are kept in {workdir / 'logs'}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
