"""The contracts say which events have consumers; the services' handlers must
agree, or the relay would hold back events nobody reads (or publish events
without `mandatory` that somebody needs)."""
import sys
from pathlib import Path

import contracts
from servicekit.topology import load, subscriptions

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
from stack import SERVICES  # noqa: E402


def test_consumed_flags_match_the_handlers():
    handled = {(s.source, s.event_type) for s in subscriptions([load(p) for p in SERVICES.values()])}
    for (event_type, version), schema in contracts.EVENTS.items():
        assert schema.consumed == ((schema.source, event_type) in handled), \
            f"{event_type} v{version}: consumed={schema.consumed} but handlers say otherwise"


def test_every_handler_listens_to_a_contracted_event():
    for sub in subscriptions([load(p) for p in SERVICES.values()]):
        schema = contracts.schema_for(sub.event_type, contracts.latest_version(sub.event_type))
        assert schema.source == sub.source, sub


def test_every_broadcast_event_has_a_copy_listening_and_nothing_else_is_broadcast():
    from servicekit.events import BroadcastHandler
    listened = set()
    for path in SERVICES.values():
        cls = load(path)
        for name in dir(cls):
            for entrypoint in getattr(getattr(cls, name, None), "nameko_entrypoints", ()):
                if isinstance(entrypoint, BroadcastHandler):
                    listened.add((entrypoint.source_service, entrypoint.event_type))
    broadcast = {(s.source, s.type) for s in contracts.EVENTS.values() if s.broadcast}
    assert listened == broadcast
    assert not any(s.consumed for s in contracts.EVENTS.values() if s.broadcast)
