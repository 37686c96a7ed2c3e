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

from . import api, errors, objects, pages

log = logging.getLogger("stripe_sandbox")
ACCEPT_POLL = 0.5


class LoopbackHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128        # bursts of concurrent clients

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


class BackgroundServer:
    """A LoopbackHTTPServer answering on its own thread (tests use it for
    webhook receivers and pages): `start()` → `.url`, `stop()`."""

    def __init__(self, handler_class, host="127.0.0.1", port=0):
        self.server = LoopbackHTTPServer((host, port), handler_class)
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.server.serve, args=(self.stopping,),
                                       daemon=True)
        host, port = self.server.server_address[:2]
        self.url = f"http://{host}:{port}"

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.stopping.set()
        wake(self.server.server_address)
        self.thread.join(5)
        self.server.close_all()


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
        control = url.path.startswith("/_sandbox/")
        try:
            if control:
                response = sandbox.control(method, url.path, body)
            else:
                response = self._serve(sandbox, method, url, body)
        except Exception:
            log.exception("sandbox failure on %s %s", method, url.path)
            response = api.Response(500, api.encode({"error": {
                "type": "api_error",
                "message": "The Stripe sandbox hit an internal error."}}))
        # before answering, so that what was answered is on disk (a no-op
        # without a state file)
        sandbox.persist()
        faults = sandbox.faults
        if not control and faults.drop_response(method, url.path, response):
            self.close_connection = True
            note = " (response dropped)"
        else:
            delay = 0 if control else faults.response_delay(method, url.path)
            if delay:
                time.sleep(delay)
            note = f" (delayed {delay:g}s)" if delay else ""
            self._send(response)
        sandbox.dispatch(response.events)
        log.info("%s %s %d %.1fms%s%s", method, url.path, response.status,
                 (time.monotonic() - started) * 1000,
                 " (idempotent replay)" if response.replayed else "", note)

    def _serve(self, sandbox, method, url, body):
        status = sandbox.faults.fail_request(method, url.path)
        if status:                           # injected: not processed at all
            return api.Response(status, api.encode(
                errors.api_error(status).body()),
                {"Request-Id": objects.new_id("req", 14)})
        sandbox.settle_due()
        base_url = self._base_url(sandbox)
        response = pages.handle(sandbox.state, method, url.path, url.query,
                                body, base_url)
        if response is None:
            response = api.handle(sandbox.state, method, url.path, url.query,
                                  body, self.headers, base_url)
        if sandbox.store is not None and method != "GET" and \
                not response.replayed:
            sandbox.state.touch()    # updates, idempotency records, ...
        return response

    def _base_url(self, sandbox):
        host = self.headers.get("Host")
        return f"http://{host}" if host else sandbox.url

    def _send(self, response):
        try:
            self.send_response(response.status)
            self.send_header("Content-Type", response.content_type)
            self.send_header("Content-Length", str(len(response.body)))
            for name, value in response.headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(response.body)
        except OSError:                      # the client gave up waiting
            self.close_connection = True

    def log_message(self, format, *args):   # noqa: A002 (stdlib signature)
        log.debug("%s - %s", self.address_string(), format % args)


def json_response(status, payload):
    return api.Response(status, json.dumps(payload, indent=2).encode())
