"""Browser tests of the sandbox's Stripe.js subset, Payment Element iframe
and 3-D Secure page: Playwright driving Debian's Chromium. Runs in its own
pytest process that never imports eventlet (Playwright hangs under its
monkey-patching), so the eventlet run of deploy/local/tests skips this
folder (the repo's pytest.ini: norecursedirs = browser):

    .venv/bin/python -m pytest --confcutdir=deploy/local/tests/browser \
        -p no:pytest_nameko -p no:pytest_eventlet deploy/local/tests/browser -q
"""
import os
import pathlib
import shutil
import sys
import tempfile
from http.server import BaseHTTPRequestHandler

import pytest

LOCAL = pathlib.Path(__file__).resolve().parents[2]
if str(LOCAL) not in sys.path:
    sys.path.insert(0, str(LOCAL))

from stripe_sandbox import Sandbox  # noqa: E402
from stripe_sandbox.server import BackgroundServer  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu",
                 "--disable-background-networking",
                 "--disable-component-update", "--disable-sync",
                 "--no-first-run"]

if not os.path.exists(CHROMIUM):
    pytest.skip(f"{CHROMIUM} is missing (apt-get install chromium)",
                allow_module_level=True)


@pytest.fixture(scope="session")
def sandbox():
    with Sandbox(webhook_secret="whsec_browser") as sb:
        yield sb


class StaticSite:
    """A loopback 'clinic' site on its own origin: pages by path."""

    def __init__(self):
        self.pages = {}
        site = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                path = self.path.split("?")[0]
                body = site.pages.get(path, "<!doctype html><html lang=en>"
                                      "<title>done</title><p>ok</p></html>")
                data = body.encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.background = BackgroundServer(Handler).start()
        self.url = self.background.url + ""

    def stop(self):
        self.background.stop()


@pytest.fixture(scope="session")
def site():
    site = StaticSite()
    yield site
    site.stop()


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright
    config = tempfile.mkdtemp(prefix="chromium-config-")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            env={**os.environ, "XDG_CONFIG_HOME": config})
        yield browser
        browser.close()
    shutil.rmtree(config, ignore_errors=True)


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20_000)
    yield page
    context.close()
