"""Documents on a throwaway RabbitMQ vhost and a fresh PostgreSQL database,
files on a temporary folder (local backend) or moto's S3 server on
loopback; invoicing is a stand-in."""
from __future__ import annotations

import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine

from documents.service import DocumentsService

from documents_testkit import FakeInvoicing, MotoServer


@pytest.fixture(scope="session")
def moto_session():
    server = MotoServer()
    yield server
    server.stop()


@pytest.fixture
def moto_s3(moto_session, monkeypatch, tmp_path):
    """moto's S3, emptied, with dummy credentials for boto3's chain and no
    shared AWS files read."""
    moto_session.reset()
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                        "AWS_CONFIG_FILE": str(tmp_path / "none"),
                        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "none")}.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_SESSION_TOKEN", "AWS_PROFILE", "AWS_DEFAULT_REGION", "AWS_REGION"):
        monkeypatch.delenv(name, raising=False)
    return moto_session


class Running:
    def __init__(self, rpc, engine, config, container, files):
        self.rpc, self.engine, self.config = rpc, engine, config
        self.container, self.files = container, files


@pytest.fixture
def start_documents(container_factory, rabbit_config, database_url, tmp_path):
    """Start documents (and the invoicing stand-in) with extra settings."""
    made = []

    def start(**settings):
        url = database_url("documents")
        engine = create_engine(url)
        files = tmp_path / "documents"
        config = {**rabbit_config, "DATABASE_URL": url, "EVENT_RETRY_DELAYS_MS": [50],
                  "DOCUMENT_DIR": str(files), "KEPT_PDF_DELAY_SECONDS": 0, **settings}
        FakeInvoicing.reset()
        container_factory(FakeInvoicing, config).start()
        container = container_factory(DocumentsService, config)
        container.start()
        proxy = ServiceRpcProxy("documents", config)
        made.append((proxy, engine))
        return Running(proxy.start(), engine, config, container, files)

    yield start
    for proxy, engine in made:
        proxy.stop()
        engine.dispose()


@pytest.fixture
def documents(start_documents):
    return start_documents()
