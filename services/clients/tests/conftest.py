"""Fixtures for the clients tests: a fresh migrated PostgreSQL database with
a small clinic in it, and the service running on a throwaway RabbitMQ vhost."""
from __future__ import annotations

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from clients import passwords
from clients.service import ClientsService

import clients_testkit as kit


@pytest.fixture(scope="session")
def clinic_hashes():
    return {"staff": passwords.hash_password(kit.STAFF_PASSWORD),
            "portal": passwords.hash_password(kit.PORTAL_PASSWORD)}


@pytest.fixture
def clinic_db(database_url, clinic_hashes):
    url = database_url("clients")
    engine = create_engine(url)
    with Session(engine) as session:
        kit.seed(session, clinic_hashes)
    yield url, engine
    engine.dispose()


@pytest.fixture
def clients(container_factory, rabbit_config, clinic_db):
    url, engine = clinic_db
    config = {**rabbit_config, "DATABASE_URL": url, "ACCOUNT_LINK_SECRET": kit.LINK_SECRET}
    container_factory(ClientsService, config).start()
    with ServiceRpcProxy("clients", config) as proxy:
        yield kit.Kit(proxy, engine, config)
