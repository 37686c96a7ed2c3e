"""RPC with a deadline. `TimedRpcProxy("invoicing")` is nameko's RpcProxy
whose calls give up after `RPC_TIMEOUT_SECONDS` (10 s unless configured) with
`RpcTimeout`, and whose request messages expire in the broker after the same
time, so a service that stalls does not later work through calls nobody is
waiting for. One stalled service can then never hang its callers' workers."""
from __future__ import annotations

import warnings

import eventlet
from nameko.amqp.publish import Publisher
from nameko.constants import (
    AMQP_SSL_CONFIG_KEY, AMQP_URI_CONFIG_KEY, DEFAULT_SERIALIZER, LOGIN_METHOD_CONFIG_KEY,
    SERIALIZER_CONFIG_KEY,
)
from nameko.rpc import MethodProxy, Responder, Rpc, RpcConsumer, RpcProxy, ServiceProxy, get_rpc_exchange

from servicekit import config
from servicekit.errors import RpcTimeout

# An RPC request or reply is worth nothing once its caller has given up: the
# deadline, not the broker, makes it safe. So both travel as transient
# messages without publisher confirms — no broker round trip and no disk
# write per call (nameko's defaults: persistent and confirmed, which cost
# most of an RPC's CPU). A message lost in a broker crash is a timeout.
TRANSIENT = 1
RPC_MESSAGE_OPTIONS = {"use_confirms": False, "delivery_mode": TRANSIENT}
# nameko still asks for `mandatory` on a request (to raise UnknownService,
# which needs confirms); without them a call to a service that never ran
# ends at its deadline instead, which is what a caller handles anyway
warnings.filterwarnings("ignore", message="Mandatory delivery was requested, but unroutable",
                        category=UserWarning)

DEFAULT_TIMEOUT_SECONDS = 10.0


class TimedRpcProxy(RpcProxy):
    """The deadline is `timeout` if given, else the setting `timeout_setting`
    (RPC_TIMEOUT_SECONDS unless named), else `default` seconds."""

    def __init__(self, target_service: str, timeout: float | None = None,
                 timeout_setting: str | None = None, default: float = DEFAULT_TIMEOUT_SECONDS,
                 **options):
        super().__init__(target_service, **{**RPC_MESSAGE_OPTIONS, **options})
        self.timeout, self.timeout_setting, self.default = timeout, timeout_setting, default

    def setup(self):
        super().setup()
        if self.timeout is None:
            self.timeout = float(config.setting(self.container.config,
                                                self.timeout_setting or "RPC_TIMEOUT_SECONDS",
                                                self.default))
        self.options.setdefault("expiration", self.timeout)   # seconds, for kombu

    def get_dependency(self, worker_ctx):
        return TimedServiceProxy(worker_ctx, self.target_service, self.rpc_reply_listener,
                                 self.timeout, **self.options)


class TimedServiceProxy(ServiceProxy):

    def __init__(self, worker_ctx, service_name, reply_listener, timeout, **options):
        super().__init__(worker_ctx, service_name, reply_listener, **options)
        self.timeout = timeout

    def __getattr__(self, name):
        return TimedMethodProxy(self.worker_ctx, self.service_name, name, self.reply_listener,
                                self.timeout, **self.options)


class TimedMethodProxy(MethodProxy):

    def __init__(self, worker_ctx, service_name, method_name, reply_listener, timeout, **options):
        super().__init__(worker_ctx, service_name, method_name, reply_listener, **options)
        self.timeout = timeout

    def __call__(self, *args, **kwargs):
        return self.call_async(*args, **kwargs).result()

    def call_async(self, *args, **kwargs):
        count_call(self.worker_ctx)
        return TimedReply(self._call(*args, **kwargs), self)


def count_call(worker_ctx) -> None:
    worker_ctx.rpc_calls = getattr(worker_ctx, "rpc_calls", 0) + 1


def calls_made(worker_ctx) -> int:
    """How many RPCs this worker has made (what a page cost)."""
    return getattr(worker_ctx, "rpc_calls", 0)


class TimedReply:
    """A pending reply whose `result()` waits at most the proxy's timeout."""

    def __init__(self, reply, proxy: TimedMethodProxy):
        self.reply, self.proxy = reply, proxy

    def result(self):
        deadline = eventlet.Timeout(self.proxy.timeout)
        try:
            return self.reply.result()
        except eventlet.Timeout as expired:
            if expired is not deadline:   # an enclosing deadline of the caller's own
                raise
            self._forget()
            raise RpcTimeout(f"{self.proxy.service_name}.{self.proxy.method_name} did not answer "
                             f"within {self.proxy.timeout:g} s") from None
        finally:
            deadline.cancel()

    def _forget(self) -> None:
        """Drop the reply listener's waiter: a late answer is simply discarded."""
        waiting = self.proxy.reply_listener._reply_events
        for correlation_id, event in list(waiting.items()):
            if event is self.reply.reply_event:
                waiting.pop(correlation_id, None)


class _TransientReplies(Publisher):
    use_confirms = False
    delivery_mode = TRANSIENT


class _Responder(Responder):
    publisher_cls = _TransientReplies


class _RpcConsumer(RpcConsumer):
    """nameko's, but replies go out transient and unconfirmed."""

    def handle_result(self, message, result, exc_info):
        settings = self.container.config
        responder = _Responder(
            settings[AMQP_URI_CONFIG_KEY], get_rpc_exchange(settings),
            settings.get(SERIALIZER_CONFIG_KEY, DEFAULT_SERIALIZER), message,
            ssl=settings.get(AMQP_SSL_CONFIG_KEY), login_method=settings.get(LOGIN_METHOD_CONFIG_KEY))
        result, exc_info = responder.send_response(result, exc_info)
        self.queue_consumer.ack_message(message)
        return result, exc_info


class TimedRpc(Rpc):
    rpc_consumer = _RpcConsumer()


rpc = TimedRpc.decorator
"""Use instead of nameko's `rpc` in every service: callers hold the deadline."""
