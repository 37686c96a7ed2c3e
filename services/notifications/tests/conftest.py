"""Fixtures for the notifications tests: a migrated database session, the
hand-written stand-ins for clients/invoicing/payments, and an SMTP server
that refuses recipients."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import engine_for
from servicekit.tables import outbox

import notifications_fakes as fakes
from tests.support.processes import free_port

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
