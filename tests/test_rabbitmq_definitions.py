"""deploy/rabbitmq/definitions.json is what the code declares; regenerate it
with `make rabbitmq-definitions` when handlers change."""
import json
import sys
from pathlib import Path

from servicekit.topology import definitions, load

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "deploy" / "local"))
from stack import SERVICES  # noqa: E402

DEFAULT_DELAYS_MS = [1000, 5000, 30000, 120000]


def test_committed_definitions_match_the_handlers():
    expected = definitions([load(p) for p in SERVICES.values()], DEFAULT_DELAYS_MS)
    committed = json.loads((REPO / "deploy" / "rabbitmq" / "definitions.json").read_text())
    assert committed == json.loads(json.dumps(expected))


def test_every_handler_queue_has_retries_and_a_dead_letter_queue():
    names = {q["name"] for q in definitions([load(p) for p in SERVICES.values()], [10, 20])["queues"]}
    handler_queues = {n for n in names if not (".retry" in n or n.endswith(".dead"))}
    assert handler_queues
    for name in handler_queues:
        assert {f"{name}.retry1", f"{name}.retry2", f"{name}.dead"} <= names
