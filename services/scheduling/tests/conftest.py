"""Scheduling on a throwaway RabbitMQ vhost and a fresh PostgreSQL database,
in the clinic's zone America/Chicago."""
import pytest
from nameko.standalone.rpc import ServiceRpcProxy
from sqlalchemy import create_engine

from scheduling.service import SchedulingService

TZ = "America/Chicago"


@pytest.fixture
def scheduling(container_factory, rabbit_config, database_url):
    url = database_url("scheduling")
    engine = create_engine(url)
    config = {**rabbit_config, "DATABASE_URL": url, "CLINIC_TIMEZONE": TZ,
              "TELEHEALTH_BASE_URL": "https://video.example/room/", "JOIN_OPENS_MINUTES": 10}
    container_factory(SchedulingService, config).start()
    with ServiceRpcProxy("scheduling", config) as proxy:
        yield proxy, engine
    engine.dispose()
