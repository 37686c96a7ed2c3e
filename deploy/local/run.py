"""`make run`: Cairn on one machine with the embedded defaults (SQLite under
var/, mail as files under var/mail/, the Stripe sandbox keeping its account in
var/stripe-sandbox.json), demo clinic loaded.
Needs RabbitMQ: starts it if it is installed but down. Ctrl-C stops all."""
from __future__ import annotations

import shutil
import signal
import socket
import subprocess
import sys
import time

from stack import Stack

from servicekit import config

from clients.demo import CREDENTIALS


def broker_up(host="127.0.0.1", port=5672) -> bool:
    try:
        with socket.create_connection((host, port), timeout=1):
            return True
    except OSError:
        return False


def ensure_rabbitmq() -> None:
    if broker_up():
        return
    if shutil.which("rabbitmq-server") is None:
        sys.exit("RabbitMQ is not installed: install it with `sudo apt-get install rabbitmq-server` "
                 "(or point CAIRN_AMQP_URI at a running broker) and run `make run` again.")
    print("Starting RabbitMQ…", flush=True)
    subprocess.run(["rabbitmq-server", "-detached"], check=False,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not broker_up():
        if time.monotonic() > deadline:
            sys.exit("RabbitMQ did not come up within 60 s; check `rabbitmqctl status`.")
        time.sleep(0.5)


def main() -> None:
    ensure_rabbitmq()
    # the sandbox keeps its account next to the services' SQLite files, so
    # that saved cards, refunds and pending bank payments survive a restart
    stack = Stack(env={}, web_port=int(config.env("WEB_PORT", "8000")),
                  sandbox_port=int(config.env("SANDBOX_PORT", "12111")),
                  sandbox_state_file=config.var_dir() / "stripe-sandbox.json")
    stack.prepare(demo=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        stack.start()
        stack.seed_payments()
        sign_ins = "\n".join(f"    {area:6} {login:28} {password:20} {who}"
                             for who, area, login, password in CREDENTIALS)
        print(f"""
Cairn is running.
  Staff:   {stack.web_url}/staff
  Portal:  {stack.web_url}/portal/login
  Demo sign-ins:
{sign_ins}
  Demo payments: Avery Lindqvist has a Visa on file (the default); Jordan Okafor
    has a bank payment clearing (it settles when the sandbox clock moves on:
    curl -X POST {stack.sandbox_url}/_sandbox/clock/advance -d '{{"days": 4}}').
  Demo appointments: Avery Lindqvist's telehealth appointment starts about five
    minutes after start-up, so Join is open (staff: the client's Appointments tab).
  Emails are written to var/mail/ (open the .eml files; the links inside work).
  Stripe sandbox: {stack.sandbox_url} — its card form offers Stripe's test cards
    and bank accounts; nothing real is ever charged.
Press Ctrl-C to stop.""", flush=True)
        while all(p.poll() is None for p in stack.processes.values()):
            time.sleep(0.5)
        print("A Cairn process stopped; shutting down the rest.", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    except RuntimeError as problem:
        print(f"Cairn could not start: {problem}", file=sys.stderr)
    finally:
        print("\nStopping Cairn…", flush=True)
        stack.stop()


if __name__ == "__main__":
    main()
