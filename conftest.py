"""Root test configuration: eventlet first (nameko 2.14's plugin no longer
monkey-patches, and plain pytest would hang), then shared fixtures."""
import eventlet

eventlet.monkey_patch()

from hypothesis import HealthCheck, settings  # noqa: E402

# Property tests check rules, not speed: on a busy 2-core machine (CI runs
# several pytest processes at once) generation may be slow, which is no failure.
settings.register_profile("cairn", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("cairn")

pytest_plugins = ["tests.fixtures.databases", "tests.fixtures.mail", "tests.fixtures.stack"]
