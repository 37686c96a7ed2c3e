"""The audit entries of reads, written behind the request (servicekit.batching):
they land in batches, survive a graceful stop, and one row the database
refuses never holds back the rest."""
from nameko.rpc import rpc
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine, text

from servicekit.batching import BatchedInserts
from servicekit.db import utcnow
from tests.support.processes import wait_until

from clients.models import AuditEntry


class Reader:
    name = "reader"
    trail = BatchedInserts(AuditEntry.__table__, flush_seconds=0.05, max_batch=10)

    @rpc
    def read(self, client_id, count=1):
        for _ in range(count):
            self.trail.add(at=utcnow(), actor_kind="staff", actor_id="st_1", action="client.read",
                           client_id=client_id, outcome="ok", ip="", detail="")


def audited(url) -> list:
    engine = create_engine(url)
    with engine.connect() as connection:
        rows = [row.client_id for row in connection.execute(text(
            "select client_id from audit_log order by id"))]
    engine.dispose()
    return rows


def start(container_factory, rabbit_config, url):
    container = container_factory(Reader, {**rabbit_config, "DATABASE_URL": url})
    container.start()
    return container


def test_rows_land_in_batches_and_a_stop_writes_what_waits(container_factory, rabbit_config,
                                                           database_url):
    url = database_url("clients")
    container = start(container_factory, rabbit_config, url)
    with ServiceRpcProxy("reader", rabbit_config) as reader:
        reader.read("cl_1", 25)
        wait_until(lambda: len(audited(url)) == 25, timeout=5, what="25 rows")
        reader.read("cl_2", 3)
    container.stop()                       # graceful: the last rows are written first
    assert audited(url).count("cl_2") == 3


def test_a_refused_row_is_set_aside_and_the_others_are_written(container_factory, rabbit_config,
                                                               database_url):
    url = database_url("clients")
    container = start(container_factory, rabbit_config, url)
    with ServiceRpcProxy("reader", rabbit_config) as reader:
        reader.read("cl_before", 4)
        reader.read("x" * 41)              # longer than the column: PostgreSQL refuses it
        reader.read("cl_after", 4)
        wait_until(lambda: len(audited(url)) == 8, timeout=5, what="the 8 good rows")
    assert audited(url) == ["cl_before"] * 4 + ["cl_after"] * 4
    provider = next(d for d in container.dependencies if isinstance(d, BatchedInserts))
    assert provider.refused == 1 and not provider.buffer.rows
