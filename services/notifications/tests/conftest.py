"""Fixtures for the notifications tests: a migrated database session, the
hand-written stand-ins for clients/invoicing/payments, SMTP servers that
refuse recipients or want STARTTLS + AUTH, a self-signed certificate, and
moto's SES server, each in its own process on loopback."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import engine_for
from servicekit.tables import outbox

import notifications_fakes as fakes
from tests.support.processes import free_port, wait_until

HERE = Path(__file__).resolve().parent


@pytest.fixture
def notifications_db_url(database_url):
    return database_url("notifications")


@pytest.fixture
def session(notifications_db_url):
    with Session(engine_for(notifications_db_url), expire_on_commit=False) as db:
        yield db


@pytest.fixture
def world():
    world = fakes.World()
    fakes.CURRENT["world"] = world
    return world


class RefusingSmtp:
    def __init__(self, reply: str):
        self.port = free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "smtp_refusing.py"), str(self.port), reply],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout.readline().strip() == b"ready"

    def stop(self):
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture
def refusing_smtp():
    """Call with a reply, e.g. "550 5.1.1 <{address}>: no such user"."""
    servers = []

    def start(reply: str) -> RefusingSmtp:
        servers.append(RefusingSmtp(reply))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


@pytest.fixture
def outbox_events():
    """Call with a session: the envelopes in the outbox, oldest first."""
    def read(db: Session) -> list[dict]:
        rows = db.execute(select(outbox.c.envelope).order_by(outbox.c.seq)).scalars().all()
        db.rollback()
        return [json.loads(row) for row in rows]
    return read


class SecureSmtp:
    """aiosmtpd wanting AUTH (USER/PASSWORD), and STARTTLS first when given
    a certificate; `received()` is [(message bytes, {"tls", "login", "rcpt"})]."""
    USER, PASSWORD = "cairn-mailer", "s3cret-pass"

    def __init__(self, directory: Path, cert: tuple[str, str] | None):
        self.directory, self.port = directory, free_port()
        self.process = subprocess.Popen(
            [sys.executable, str(HERE / "smtp_secure.py"), str(self.port), str(directory),
             self.USER, self.PASSWORD, *(cert or ())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        assert self.process.stdout.readline().strip() == b"ready"

    def received(self) -> list[tuple[bytes, dict]]:
        return [(path.read_bytes(), json.loads(path.with_suffix(".json").read_text()))
                for path in sorted(self.directory.glob("*.eml"))]

    def stop(self):
        self.process.stdin.close()
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI:
    (cert path, key path)."""
    if not shutil.which("openssl"):
        pytest.skip("no openssl CLI to make a test certificate")
    directory = tmp_path_factory.mktemp("tls")
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True, timeout=60)
    return str(cert), str(key)


@pytest.fixture
def secure_smtp(tmp_path):
    """Call with a (cert, key) pair for STARTTLS + AUTH, or None for AUTH only."""
    servers = []

    def start(cert=None) -> SecureSmtp:
        servers.append(SecureSmtp(tmp_path / f"secure{len(servers)}", cert))
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


class MotoServer:
    """moto's server in its own process (eventlet-patched sockets and its
    werkzeug threads do not mix in ours); talked to over HTTP only."""

    def __init__(self):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(self._up, timeout=30, interval=0.1, what="moto server")

    def _up(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=2):
                return True
        except OSError:
            return False

    def reset(self):
        urllib.request.urlopen(urllib.request.Request(f"{self.url}/moto-api/reset",
                                                      method="POST"), timeout=10).close()

    def sent_raw_emails(self) -> list[dict]:
        """What SES accepted, from moto's model dump."""
        with urllib.request.urlopen(f"{self.url}/moto-api/data.json", timeout=10) as response:
            return json.load(response)["ses"]["RawMessage"]

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


@pytest.fixture(scope="session")
def moto_session():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def moto_ses(moto_session, monkeypatch, tmp_path):
    """moto's SES, emptied, with dummy credentials for boto3's chain and no
    shared AWS files read."""
    moto_session.reset()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return moto_session
