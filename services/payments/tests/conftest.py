"""Payments as a nameko service on a throwaway RabbitMQ vhost and a fresh
PostgreSQL database, talking to the Stripe sandbox over real sockets with
the real `stripe` SDK; invoicing and clients are stand-ins."""
from dataclasses import dataclass

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine

from payments.service import PaymentsService
from stripe_sandbox import Sandbox

from payments_testkit import SECRET, FakeClients, FakeInvoicing


@dataclass
class Payments:
    rpc: object
    engine: object
    sandbox: Sandbox
    config: dict


@pytest.fixture
def sandbox():
    with Sandbox(webhook_secret=SECRET) as sb:   # no endpoint: tests hand webhooks over themselves
        yield sb


@pytest.fixture
def payments(container_factory, rabbit_config, database_url, sandbox):
    FakeInvoicing.reset(inv_1=24300, inv_2=5000)
    FakeClients.reset()
    url = database_url("payments")
    config = {**rabbit_config, "DATABASE_URL": url, "STRIPE_API_BASE": sandbox.url,
              "STRIPE_SECRET_KEY": "sk_test_payments", "STRIPE_WEBHOOK_SECRET": SECRET,
              "STRIPE_TIMEOUT_SECONDS": 3, "PAY_LINK_SECRET": "link-secret",
              "EVENT_RETRY_DELAYS_MS": [50], "RPC_TIMEOUT_SECONDS": 5}
    for service in (FakeInvoicing, FakeClients, PaymentsService):
        container_factory(service, config).start()
    engine = create_engine(url)
    with ServiceRpcProxy("payments", config, timeout=30) as proxy:
        yield Payments(proxy, engine, sandbox, config)
    engine.dispose()
