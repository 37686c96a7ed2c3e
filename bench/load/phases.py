"""One phase of `make load`: the load generator runs a number of sessions
against a target, and the CPU of every process that serves it is sampled
at the edges of the measured window."""
from __future__ import annotations

import json
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import psycopg2
import requests

import cpu

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
ADMIN_DSN = "host=127.0.0.1 user=postgres dbname=postgres"


@dataclass
class Target:
    """What a phase loads: its URL, the processes whose CPU it costs (named
    pids; RabbitMQ and PostgreSQL are always counted), its vhost, and the
    databases whose new connections are counted."""
    host: str
    processes: dict[str, int]
    vhost: str
    databases: list[str] = field(default_factory=list)
    idle: dict[str, float] = field(default_factory=dict)   # CPU ms/s with no requests

    def admin(self):
        if not hasattr(self, "_admin"):
            self._admin = psycopg2.connect(ADMIN_DSN)
            self._admin.autocommit = True
        return self._admin.cursor()

    def pg_sessions(self) -> int:
        """Sessions ever opened on our databases (pg_stat_database.sessions,
        PostgreSQL 14+: counted at connect, flushed within about a second)."""
        with self.admin() as cursor:
            cursor.execute("select coalesce(sum(sessions), 0) from pg_stat_database "
                           "where datname = any(%s)", (self.databases,))
            return int(cursor.fetchone()[0])

    def others(self) -> tuple[int, int]:
        """Who else uses the shared servers: RabbitMQ connections on other
        vhosts, PostgreSQL client backends on other databases."""
        connections = requests.get(f"{RABBIT_API}/connections?columns=vhost", timeout=10).json()
        with self.admin() as cursor:
            cursor.execute("select count(*) from pg_stat_activity where backend_type = 'client backend'"
                           " and pid <> pg_backend_pid() and not (datname = any(%s))",
                           (self.databases,))
            backends = int(cursor.fetchone()[0])
        return sum(1 for c in connections if c.get("vhost") != self.vhost), backends

    def measure_idle(self, seconds: float) -> None:
        before = cpu.snapshot(self.processes, self.databases)
        time.sleep(seconds)
        spent = cpu.difference(before, cpu.snapshot(self.processes, self.databases))
        self.idle = {name: ms / seconds for name, ms in spent.items()}

    def close(self) -> None:
        if hasattr(self, "_admin"):
            self._admin.close()


@dataclass
class Phase:
    group: str          # what the report groups it under: "floor", "page", "area"
    label: str          # "staff", "financial tab", "2 RPCs", …
    sessions: int
    think: float
    pages: list[dict]   # name, path, marker (see pages.py)
    users: list[dict]   # cookie, vars: one per simulated session


@dataclass
class Result:
    phase: Phase
    window: float
    pages: dict          # name → {"ok": [ms…], "errors": n, "error_samples": […]}
    cpu_ms: dict         # process → CPU ms spent inside the window
    pg_connections: int
    others: tuple[int, int]
    idle: dict

    @property
    def requests(self) -> int:
        return sum(len(p["ok"]) + p["errors"] for p in self.pages.values())

    @property
    def errors(self) -> int:
        return sum(p["errors"] for p in self.pages.values())

    @property
    def rate(self) -> float:
        return self.requests / self.window

    def latencies(self, page: str | None = None) -> list[float]:
        chosen = [self.pages[page]] if page else self.pages.values()
        return sorted(ms for p in chosen for ms in p["ok"])

    def per_request(self, process: str) -> float:
        return self.cpu_ms.get(process, 0.0) / max(self.requests, 1)


def run_phase(phase: Phase, target: Target, warmup: float, duration: float, workdir: Path) -> Result:
    spec_path, result_path = workdir / "phase.json", workdir / "phase-result.json"
    result_path.unlink(missing_ok=True)
    spec_path.write_text(json.dumps({
        "host": target.host, "sessions": phase.sessions, "think": phase.think,
        "warmup": warmup, "duration": duration, "pages": phase.pages, "users": phase.users,
        "result": str(result_path)}))
    with open(workdir / "locust.log", "ab") as log:
        generator = subprocess.Popen([sys.executable, str(LOCUSTFILE), str(spec_path)],
                                     stdout=subprocess.PIPE, stderr=log, text=True)
        try:
            edges = _sample_edges(generator, target)
            code = generator.wait(timeout=60)
        finally:
            if generator.poll() is None:
                generator.kill()
                generator.wait()
    if code != 0 or len(edges) != 2:
        raise RuntimeError(f"load generator failed (exit {code}); see {workdir / 'locust.log'}")
    (cpu_before, sessions_before, others_before), (cpu_after, sessions_after, others_after) = edges
    measured = json.loads(result_path.read_text())
    return Result(phase, measured["window"], measured["pages"], cpu.difference(cpu_before, cpu_after),
                  sessions_after - sessions_before,
                  tuple(map(max, others_before, others_after)), target.idle)


def _sample_edges(generator: subprocess.Popen, target: Target) -> list:
    """(CPU snapshot, PostgreSQL sessions, others) when the window opens and
    when it closes, as the generator announces them. The queries cost the
    servers a little CPU: they run outside the window's CPU snapshots."""
    named = {**target.processes, "load generator": generator.pid}
    edges = []
    for line in generator.stdout:
        if line.strip() == "measuring":
            sessions, others = target.pg_sessions(), target.others()
            edges.append((cpu.snapshot(named, target.databases), sessions, others))
        elif line.strip() == "measured":
            edges.append((cpu.snapshot(named, target.databases), target.pg_sessions(),
                          target.others()))
    return edges
