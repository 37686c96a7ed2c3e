"""Start and stop Cairn's processes: the Stripe sandbox and one process per
service, after migrating every database and declaring every queue.

Used by `make run` (deploy/local/run.py), the integration tests and the
benchmark, so all three start Cairn the same way."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SERVICES = {
    "clients": "clients.service:ClientsService",
    "invoicing": "invoicing.service:InvoicingService",
    "payments": "payments.service:PaymentsService",
    "notifications": "notifications.service:NotificationsService",
    "documents": "documents.service:DocumentsService",
    "portal-gateway": "portal_gateway.service:PortalGateway",
    "scheduling": "scheduling.service:SchedulingService",
}
DEMO_SEEDS = ["clients.demo", "invoicing.demo", "documents.demo", "documents.demo_forms",
              "scheduling.demo"]
MIGRATED = ["clients", "invoicing", "payments", "notifications", "documents", "scheduling"]


@dataclass
class Stack:
    env: dict                      # CAIRN_* settings for every process
    web_port: int = 8000
    sandbox_port: int = 12111
    log_dir: Path | None = None    # None: processes log to this terminal
    sandbox_state_file: Path | None = None   # None: the sandbox is in memory
    processes: dict = field(default_factory=dict)

    @property
    def web_url(self) -> str:
        return f"http://127.0.0.1:{self.web_port}"

    @property
    def sandbox_url(self) -> str:
        return f"http://127.0.0.1:{self.sandbox_port}"

    def process_env(self) -> dict:
        return {"CAIRN_PUBLIC_URL": self.web_url, **os.environ, **self.env,
                "CAIRN_WEB_ADDRESS": f"127.0.0.1:{self.web_port}",
                "CAIRN_STRIPE_API_BASE": self.sandbox_url,
                "CAIRN_STRIPE_JS_URL": f"{self.sandbox_url}/v3/",
                "PYTHONUNBUFFERED": "1"}

    def prepare(self, demo: bool = False) -> None:
        """Migrate every database, declare every queue, load the demo data."""
        python = [sys.executable, "-m"]
        self._check([*python, "servicekit.migrate", *MIGRATED])
        self._check([*python, "servicekit.topology", *SERVICES.values()])
        for seed in DEMO_SEEDS if demo else []:
            self._check([*python, seed])

    def seed_payments(self) -> None:
        """The demo clinic's card on file and clearing bank payment, made
        through the running services (see demo_payments.py)."""
        self._check([sys.executable, str(REPO / "deploy" / "local" / "demo_payments.py")])

    def start(self, timeout: float = 60) -> None:
        env = self.process_env()
        state = ([] if self.sandbox_state_file is None
                 else ["--state-file", str(self.sandbox_state_file)])
        self._spawn("stripe-sandbox", [
            sys.executable, "-m", "stripe_sandbox", "--host", "127.0.0.1",
            "--port", str(self.sandbox_port),
            "--webhook-url", f"{self.web_url}/webhooks/stripe",
            "--webhook-secret", env.get("CAIRN_STRIPE_WEBHOOK_SECRET", "whsec_cairn_sandbox"),
            *state], env)
        for name, path in SERVICES.items():
            self._spawn(name, [sys.executable, "-m", "servicekit.run", path], env)
        self.wait_healthy(timeout)

    def wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probes = {"portal-gateway": f"{self.web_url}/healthz",
                  "stripe-sandbox": f"{self.sandbox_url}/_sandbox/health"}
        while probes:
            for name, url in list(probes.items()):
                if self.processes[name].poll() is not None:
                    raise RuntimeError(f"{name} exited with code {self.processes[name].returncode}")
                try:
                    with urllib.request.urlopen(url, timeout=1) as response:
                        if response.status == 200:
                            probes.pop(name)
                except OSError:
                    pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"not healthy after {timeout}s: {', '.join(probes)}")
            time.sleep(0.1)
        self._wait_for_rpc(deadline)

    def _wait_for_rpc(self, deadline: float) -> None:
        """Every service answers once its RPC queue has a consumer."""
        from kombu import Connection
        uri = self.process_env().get("CAIRN_AMQP_URI", "amqp://guest:guest@localhost:5672/")
        with Connection(uri) as connection:
            channel = connection.default_channel
            for name in SERVICES:
                if name == "portal-gateway":
                    continue
                while True:
                    try:
                        if channel.queue_declare(f"rpc-{name}", passive=True).consumer_count:
                            break
                    except Exception:
                        channel = connection.channel()
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{name} did not start consuming")
                    time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for name, process in self.processes.items():
            try:
                process.wait(max(deadline - time.monotonic(), 0.1))
            except subprocess.TimeoutExpired:
                print(f"{name} did not stop within 15 s; killing it", file=sys.stderr)
                process.kill()
                process.wait(5)
        for handle in getattr(self, "_logs", []):
            handle.close()
        self.processes.clear()

    def kill(self, name: str) -> None:
        """SIGKILL, as a crash would: no clean shutdown, no acks sent."""
        process = self.processes.pop(name)
        process.kill()
        process.wait(5)

    def restart(self, name: str) -> None:
        self._spawn(name, [sys.executable, "-m", "servicekit.run", SERVICES[name]],
                    self.process_env())

    def start_copy(self, name: str, copy: str, web_port: int | None = None) -> None:
        """Another running copy of a service (`copy` names it, e.g.
        "portal-gateway-2"); a gateway copy listens on its own `web_port`."""
        env = self.process_env()
        if web_port is not None:
            env["CAIRN_WEB_ADDRESS"] = f"127.0.0.1:{web_port}"
        self._spawn(copy, [sys.executable, "-m", "servicekit.run", SERVICES[name]], env)

    def _spawn(self, name: str, command: list[str], env: dict) -> None:
        output = None
        if self.log_dir is not None:
            self.log_dir.mkdir(parents=True, exist_ok=True)
            output = open(self.log_dir / f"{name}.log", "ab")
            self.__dict__.setdefault("_logs", []).append(output)
        self.processes[name] = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=output, stderr=subprocess.STDOUT if output else None,
            start_new_session=self.log_dir is not None)

    def _check(self, command: list[str]) -> None:
        subprocess.run(command, cwd=REPO, env=self.process_env(), check=True,
                       stdout=subprocess.DEVNULL if self.log_dir else None)
