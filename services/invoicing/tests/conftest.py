"""Invoicing on a throwaway RabbitMQ vhost and a fresh PostgreSQL database
with a two-line catalog; clients is a stand-in."""
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine, text

from invoicing.service import InvoicingService

from invoicing_testkit import FakeClients


@pytest.fixture
def invoicing(container_factory, rabbit_config, database_url):
    url = database_url("invoicing")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("insert into service_catalog (code, description, fee, active) values "
                                "('90834', 'Psychotherapy, 45 minutes', 15000, true), "
                                "('90853', 'Group psychotherapy', 6000, true)"))
    config = {**rabbit_config, "DATABASE_URL": url, "EVENT_RETRY_DELAYS_MS": [50]}
    FakeClients.reset()
    for service in (FakeClients, InvoicingService):
        container_factory(service, config).start()
    with ServiceRpcProxy("invoicing", config) as proxy:
        yield proxy, engine, config
    engine.dispose()
