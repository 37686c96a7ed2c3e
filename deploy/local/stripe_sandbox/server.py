"""HTTP plumbing: a loopback server that also runs under eventlet.

`LoopbackHTTPServer.serve` is an accept loop on a socket with a timeout
instead of `serve_forever` (whose selector may be the real, blocking
`poll` when `socketserver` was imported before `eventlet.monkey_patch()`).
Each connection gets a thread (a greenthread when monkey-patched).
"""
import json
import logging
import socket
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

from . import api

log = logging.getLogger("stripe_sandbox")
ACCEPT_POLL = 0.5


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address, handler_class):
        self._connections = set()
        self._conn_lock = threading.Lock()
        super().__init__(address, handler_class)

    def server_bind(self):
        # skip HTTPServer's getfqdn(): a (green) DNS lookup we do not need
        socketserver.TCPServer.server_bind(self)
        self.server_name, self.server_port = self.server_address[:2]

    def serve(self, stopping: threading.Event):
        self.socket.settimeout(ACCEPT_POLL)
        while not stopping.is_set():
            try:
                conn, address = self.socket.accept()
            except socket.timeout:
                continue
            except OSError:
                if stopping.is_set():
                    break
                log.exception("accept failed")   # e.g. out of file handles
                time.sleep(0.05)
                continue
            if stopping.is_set():
                conn.close()
                break
            conn.settimeout(None)
            with self._conn_lock:
                self._connections.add(conn)
            self.process_request(conn, address)

    def shutdown_request(self, request):
        with self._conn_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def close_all(self):
        """Close the listener and drop idle keep-alive connections."""
        self.server_close()
        with self._conn_lock:
            connections, self._connections = self._connections, set()
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass


def wake(address):
    """Connect once so a blocked accept() returns promptly."""
    try:
        socket.create_connection(address[:2], timeout=1).close()
    except OSError:
        pass


class SandboxHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "StripeSandbox/0.1"
    sys_version = ""
    disable_nagle_algorithm = True
    timeout = 120             # idle keep-alive connections are closed after

    def do_GET(self):
        self._handle("GET")

    def do_POST(self):
        self._handle("POST")

    def do_DELETE(self):
        self._handle("DELETE")

    def _handle(self, method):
        started = time.monotonic()
        url = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace")
        sandbox = self.server.sandbox
        try:
            if url.path.startswith("/_sandbox/"):
                response = sandbox.control(method, url.path, body)
            else:
                response = api.handle(sandbox.state, method, url.path,
                                      url.query, body, self.headers)
        except Exception:
            log.exception("sandbox failure on %s %s", method, url.path)
            response = api.Response(500, api.encode({"error": {
                "type": "api_error",
                "message": "The Stripe sandbox hit an internal error."}}))
        if sandbox.faults.drop_response(method, url.path, response):
            self.close_connection = True
        else:
            self._send(response)
        sandbox.dispatch(response.events)
        log.info("%s %s %d %.1fms%s", method, url.path, response.status,
                 (time.monotonic() - started) * 1000,
                 " (idempotent replay)" if response.replayed else "")

    def _send(self, response):
        self.send_response(response.status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(response.body)))
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(response.body)

    def log_message(self, format, *args):   # noqa: A002 (stdlib signature)
        log.debug("%s - %s", self.address_string(), format % args)


def json_response(status, payload):
    return api.Response(status, json.dumps(payload, indent=2).encode())
