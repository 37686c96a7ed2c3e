"""Every service answers RPC the same way (servicekit.rpc.rpc: transient,
unconfirmed replies; the caller's deadline makes that safe). One service
mixing it with nameko's own `rpc` would run two consumers on one queue, and
each would refuse the other's methods."""
import sys
from pathlib import Path

from nameko.rpc import Rpc

from servicekit.rpc import TimedRpc
from servicekit.topology import load

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "deploy" / "local"))
from stack import SERVICES  # noqa: E402


def test_every_rpc_entrypoint_is_servicekits():
    for path in SERVICES.values():
        cls = load(path)
        for name in dir(cls):
            for entrypoint in getattr(getattr(cls, name, None), "nameko_entrypoints", ()):
                if isinstance(entrypoint, Rpc):
                    assert type(entrypoint) is TimedRpc, f"{cls.name}.{name} uses nameko's rpc"
