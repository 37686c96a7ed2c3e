"""Browser tests: Cairn started exactly as `make run` starts it (SQLite under a
temporary var/, mail as files, the Stripe sandbox), driven by Playwright in
Debian's Chromium. This folder runs in its own pytest process that never
imports eventlet (Playwright hangs under its monkey-patching):

    pytest --confcutdir=tests/browser -p no:pytest_nameko -p no:pytest_eventlet tests/browser
"""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import pytest
import requests
from playwright.sync_api import sync_playwright

from servicekit import clock

REPO = Path(__file__).resolve().parents[2]
RABBIT_API = "http://guest:guest@127.0.0.1:15672/api"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class EmbeddedCairn:
    def __init__(self, var_dir: Path, url: str):
        self.var_dir, self.url = var_dir, url
        self.clock_file = var_dir / "clock-offset"

    def advance_clock(self, days: int) -> None:
        """Move the business date of every service `days` ahead of real time
        (servicekit.clock; sessions and tokens keep the real time)."""
        clock.advance(str(self.clock_file), days)

    def mail_files(self) -> list[Path]:
        return sorted((self.var_dir / "mail").glob("*.eml"))

    def wait_for_mail(self, count: int, timeout: float = 30) -> list[Path]:
        deadline = time.monotonic() + timeout
        while len(self.mail_files()) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"fewer than {count} emails in var/mail after {timeout}s")
            time.sleep(0.1)
        return self.mail_files()


@pytest.fixture(scope="session")
def cairn():
    vhost = f"cairn_browser_{uuid.uuid4().hex[:8]}"
    requests.put(f"{RABBIT_API}/vhosts/{vhost}", timeout=10).raise_for_status()
    requests.put(f"{RABBIT_API}/permissions/{vhost}/guest",
                 json={"configure": ".*", "write": ".*", "read": ".*"}, timeout=10).raise_for_status()
    var_dir = Path(tempfile.mkdtemp(prefix="cairn-browser-var-"))
    web_port = free_port()
    env = {**os.environ, "CAIRN_VAR_DIR": str(var_dir), "CAIRN_WEB_PORT": str(web_port),
           "CAIRN_SANDBOX_PORT": str(free_port()),
           "CAIRN_AMQP_URI": f"amqp://guest:guest@127.0.0.1:5672/{vhost}",
           # the business date moves when a test calls cairn.advance_clock(days);
           # autopay looks for due installments every second, not every minute
           "CAIRN_CLOCK_OFFSET_FILE": str(var_dir / "clock-offset"),
           "CAIRN_AUTOPAY_INTERVAL_SECONDS": "1"}
    env = {k: v for k, v in env.items() if not k.endswith("_DATABASE_URL")}
    log = open(var_dir / "run.log", "wb")
    process = subprocess.Popen([sys.executable, "deploy/local/run.py"], cwd=REPO, env=env,
                               stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        deadline = time.monotonic() + 120
        while b"Press Ctrl-C" not in (var_dir / "run.log").read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("make run did not start:\n" + (var_dir / "run.log").read_text())
            time.sleep(0.2)
        yield EmbeddedCairn(var_dir, f"http://127.0.0.1:{web_port}")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGINT)   # what Ctrl-C in the terminal does
            process.wait(60)
        log.close()
        requests.delete(f"{RABBIT_API}/vhosts/{vhost}", timeout=10)


@pytest.fixture(scope="session")
def browser():
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            env={**os.environ, "XDG_CONFIG_HOME": tempfile.mkdtemp(prefix="chromium-config-")})
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
