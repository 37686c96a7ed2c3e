"""The floor `make load` compares pages with: a bare nameko @http GET handler
that makes N sequential trivial RPCs to a bare nameko @rpc service, on the
same machine, broker and runner as Cairn, and the same way Cairn's RPCs
travel (servicekit.rpc: transient, unconfirmed, with a deadline). No
database, no templates, no sessions: what any page with N RPCs costs at least.

Each runs as its own process, like Cairn's services:

    PYTHONPATH=bench/load python -m servicekit.run floor_services:FloorRpc
    PYTHONPATH=bench/load python -m servicekit.run floor_services:FloorHttp

(CAIRN_AMQP_URI and CAIRN_WEB_ADDRESS as for the services.)"""
from __future__ import annotations

from nameko.web.handlers import http

from servicekit.rpc import TimedRpcProxy, rpc


class FloorRpc:
    name = "floor_rpc"

    @rpc
    def ping(self):
        return "pong"


class FloorHttp:
    name = "floor_http"
    floor_rpc = TimedRpcProxy("floor_rpc")

    @http("GET", "/rpc/<int:count>")
    def page(self, request, count):
        for _ in range(count):
            self.floor_rpc.ping()
        return 200, f"ok {count}"
