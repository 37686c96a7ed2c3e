"""Shared by the documents tests: files with the right (and wrong) first
bytes, moto's S3 server in its own process, an invoicing stand-in."""
from __future__ import annotations

import base64
import json
import subprocess
import sys
import urllib.request

from nameko.rpc import rpc
from sqlalchemy import text

from servicekit.errors import NotFound

from tests.support.processes import free_port, wait_until

PDF = b"%PDF-1.4\n1 0 obj << >> endobj\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 20
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 20
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + b"\x00" * 20
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 20
PORTAL = {"kind": "portal", "id": "acc_1", "name": "Alice Jones"}
STAFF = {"kind": "staff", "id": "st_1", "name": "Dana Front"}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def count(engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.execute(text(f"select count(*) from {table}")).scalar()


def outbox(engine, event_type: str) -> list[dict]:
    with engine.connect() as connection:
        rows = connection.execute(text("select envelope from outbox where event_type = :t "
                                       "order by seq"), {"t": event_type}).all()
    return [json.loads(row.envelope) for row in rows]


def stored_files(root) -> list:
    """Every object the local-disk backend holds (partial writes included)."""
    return sorted(path for path in root.rglob("*") if path.is_file())


class MotoServer:
    """moto's S3 in its own process (eventlet-patched sockets and its
    werkzeug threads do not mix in ours); boto3 talks to it over a socket."""

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

    def stop(self):
        self.process.terminate()
        self.process.wait(10)


class FakeInvoicing:
    """invoice_pdf / statement_pdf as invoicing answers them; `missing`
    ids answer NotFound, `calls` lists what was asked."""
    name = "invoicing"
    calls: list = []
    missing: set = set()

    @classmethod
    def reset(cls):
        cls.calls, cls.missing = [], set()

    def _reply(self, kind, ref_id):
        FakeInvoicing.calls.append((kind, ref_id))
        if ref_id in FakeInvoicing.missing:
            raise NotFound(f"{kind} not found")
        pdf = PDF + f"% {kind} {ref_id}\n".encode()
        return {"filename": f"{kind}-{ref_id}.pdf", "content_type": "application/pdf",
                "pdf_base64": b64(pdf), "client_id": "cl_1"}

    @rpc(expected_exceptions=(NotFound,))
    def invoice_pdf(self, invoice_id, client_id=None):
        return self._reply("invoice", invoice_id)

    @rpc(expected_exceptions=(NotFound,))
    def statement_pdf(self, statement_id, client_id=None):
        return self._reply("statement", statement_id)
