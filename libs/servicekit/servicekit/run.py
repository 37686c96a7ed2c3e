"""Run one service: `python -m servicekit.run module:Class`.

Configuration comes from CAIRN_* variables (servicekit.config). SIGTERM or
Ctrl-C (SIGINT) stops the service gracefully, once, however many of them
arrive (a terminal's Ctrl-C and `make run`'s own SIGTERM come together); a
second Ctrl-C while stopping kills it at once."""
from __future__ import annotations

import servicekit  # noqa: F401  (quiets eventlet's import-time warning)

import eventlet  # noqa: E402

eventlet.monkey_patch()  # before anything opens a socket

import errno  # noqa: E402
import logging  # noqa: E402
import signal  # noqa: E402
import sys  # noqa: E402

from nameko.runners import ServiceRunner  # noqa: E402

from servicekit import config  # noqa: E402
from servicekit.topology import load  # noqa: E402


def configure_logging(service_name: str) -> None:
    level = getattr(logging, (config.env("LOG_LEVEL", "INFO") or "INFO").upper())
    logging.basicConfig(level=level, stream=sys.stderr,
                        format=f"%(asctime)s {service_name} %(levelname)s %(name)s: %(message)s")
    for noisy in ("kombu", "amqp", "nameko", "urllib3", "stripe"):
        logging.getLogger(noisy).setLevel(max(level, logging.WARNING))


def main(path: str) -> None:
    service = load(path)
    configure_logging(service.name)
    runner = ServiceRunner(config.nameko_config(service.name))
    runner.add_service(service)
    signals: list[int] = []

    def on_signal(signum, _frame):
        # signal handlers run in the main loop and cannot use eventlet
        # primitives themselves: hand the work to a greenthread
        if not signals:
            eventlet.spawn_n(runner.stop)
        elif signum == signal.SIGINT:
            eventlet.spawn_n(runner.kill)
        signals.append(signum)

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    runner.start()
    waiter = eventlet.spawn(runner.wait)
    while True:
        try:
            waiter.wait()
            return
        except OSError as exc:  # EINTR when a signal lands while the hub waits
            if exc.errno != errno.EINTR:
                raise


if __name__ == "__main__":
    main(sys.argv[1])
