"""Root test configuration: eventlet first (nameko 2.14's plugin no longer
monkey-patches, and plain pytest would hang), then shared fixtures."""
import eventlet

eventlet.monkey_patch()

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.mail", "tests.fixtures.stack"]
