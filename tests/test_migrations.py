"""Each service's migrations build exactly the schema its models describe."""
import importlib

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine

from servicekit.tables import messaging_metadata


@pytest.mark.parametrize("service", ["clients", "invoicing", "payments", "notifications",
                                     "documents", "scheduling"])
def test_migrated_schema_matches_the_models(database_url, service):
    models = importlib.import_module(f"{service}.models")
    engine = create_engine(database_url(service))
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection)
            diff = compare_metadata(context, [models.Base.metadata, messaging_metadata])
    finally:
        engine.dispose()
    assert diff == []
