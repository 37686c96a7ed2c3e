"""Run one service: `python -m servicekit.run module:Class`.

Configuration comes from CAIRN_* variables (servicekit.config); SIGTERM or
Ctrl-C stops the service gracefully."""
from __future__ import annotations

import servicekit  # noqa: F401  (quiets eventlet's import-time warning)

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything opens a socket

import logging  # noqa: E402
import sys  # noqa: E402

from nameko.cli.run import run  # noqa: E402

from servicekit import config  # noqa: E402
from servicekit.topology import load  # noqa: E402


def main(path: str) -> None:
    service = load(path)
    level = getattr(logging, (config.env("LOG_LEVEL", "INFO") or "INFO").upper())
    logging.basicConfig(level=level, stream=sys.stderr,
                        format=f"%(asctime)s {service.name} %(levelname)s %(name)s: %(message)s")
    for noisy in ("kombu", "amqp", "nameko", "urllib3", "stripe"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))
    run([service], config.nameko_config())


if __name__ == "__main__":
    main(sys.argv[1])
