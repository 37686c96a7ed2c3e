"""Every RPC has a deadline: a stalled service makes its callers fail fast
with RpcTimeout (an error code they can show), and the calls nobody waits
for any more expire in the broker instead of being worked through later."""
import eventlet
import pytest
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy

from kombu import Connection

from servicekit.errors import RpcTimeout
from servicekit.rpc import TimedRpcProxy
from tests.support.processes import wait_until

STALL = {"seconds": 0.0}
CALLS = []


class Slow:
    name = "slow"

    @rpc
    def work(self, n):
        CALLS.append(n)
        eventlet.sleep(STALL["seconds"])
        return n * 2


class Caller:
    name = "caller"
    slow = TimedRpcProxy("slow", timeout=0.3)

    @rpc
    def ask(self, n):
        try:
            return self.slow.work(n)
        except RpcTimeout as timeout:
            return f"timeout: {timeout}"

    @rpc
    def ask_both(self, a, b):
        replies = [self.slow.work.call_async(a), self.slow.work.call_async(b)]
        return [reply.result() for reply in replies]


def queued(config, queue_name):
    with Connection(config["AMQP_URI"]) as connection:
        return connection.default_channel.queue_declare(queue_name, passive=True).message_count


@pytest.fixture
def services(container_factory, rabbit_config):
    STALL["seconds"] = 0.0
    CALLS.clear()
    for service in (Slow, Caller):
        container_factory(service, rabbit_config).start()
    with ServiceRpcProxy("caller", rabbit_config, timeout=10) as caller:
        yield caller


def test_an_answer_in_time_is_returned(services):
    assert services.ask(21) == 42
    assert services.ask_both(1, 2) == [2, 4]


def test_a_stalled_service_times_out_and_the_caller_recovers(services):
    STALL["seconds"] = 1.0
    started = eventlet.hubs.get_hub().clock()
    assert services.ask(1).startswith("timeout: slow.work did not answer within 0.3 s")
    assert eventlet.hubs.get_hub().clock() - started < 1.0
    STALL["seconds"] = 0.0
    assert services.ask(5) == 10


def test_timed_proxy_reads_its_deadline_from_config(container_factory, rabbit_config):
    class Configured:
        name = "configured"
        slow = TimedRpcProxy("slow")

        @rpc
        def deadline(self):
            return self.slow.timeout

    container_factory(Configured, {**rabbit_config, "RPC_TIMEOUT_SECONDS": 2.5}).start()
    with ServiceRpcProxy("configured", rabbit_config, timeout=10) as proxy:
        assert proxy.deadline() == 2.5


def test_a_call_that_timed_out_while_the_service_was_down_is_never_run(container_factory,
                                                                        rabbit_config):
    CALLS.clear()
    slow = container_factory(Slow, rabbit_config)
    slow.start()
    container_factory(Caller, rabbit_config).start()
    slow.stop()                                   # its queue stays; nobody consumes it
    with ServiceRpcProxy("caller", rabbit_config, timeout=10) as caller:
        assert caller.ask(7).startswith("timeout:")
        wait_until(lambda: queued(rabbit_config, "rpc-slow") == 0, timeout=5,
                   what="the unanswered call to expire in the broker")
        container_factory(Slow, rabbit_config).start()
        # the service is back; on a busy machine its first answer may still
        # miss the 0.3 s deadline, so ask until one comes back in time
        wait_until(lambda: caller.ask(8) == 16, timeout=10, what="the restarted service to answer")
    assert 7 not in CALLS and 8 in CALLS           # the call that timed out never ran
