"""python -m stripe_sandbox [--port 12111] [--webhook-url URL] [...]"""
import argparse
import logging
import signal
import threading

from .sandbox import Sandbox
from .state import (DEFAULT_ACH_SETTLEMENT_SECONDS,
                    DEFAULT_REFUND_FAILURE_SECONDS)


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m stripe_sandbox",
        description="Local Stripe API sandbox (test mode only).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=12111)
    parser.add_argument("--webhook-url", help="endpoint to POST events to")
    parser.add_argument("--webhook-secret", default="whsec_test",
                        help="signing secret for Stripe-Signature")
    parser.add_argument("--api-key", action="append", dest="api_keys",
                        help="accept only this key (repeatable); default: "
                             "any sk_test_/rk_test_ key")
    parser.add_argument("--ach-settlement-seconds", type=float,
                        default=DEFAULT_ACH_SETTLEMENT_SECONDS,
                        help="sandbox-clock seconds before an ACH debit or "
                             "refund settles (default: 3 days)")
    parser.add_argument("--refund-failure-seconds", type=float,
                        default=DEFAULT_REFUND_FAILURE_SECONDS,
                        help="sandbox-clock seconds before a refund of a "
                             "refund-fail card fails (default: 1 day)")
    parser.add_argument("--state-file", metavar="PATH",
                        help="keep the account in this JSON file across "
                             "restarts (default: in memory only)")
    parser.add_argument("--log-level", default="INFO")
    args = parser.parse_args(argv)
    logging.basicConfig(level=args.log_level.upper(),
                        format="%(asctime)s %(name)s %(levelname)s "
                               "%(message)s")
    sandbox = Sandbox(args.host, args.port, args.webhook_url,
                      args.webhook_secret, api_keys=args.api_keys,
                      ach_settlement_seconds=args.ach_settlement_seconds,
                      refund_failure_seconds=args.refund_failure_seconds,
                      state_file=args.state_file).start()
    logging.getLogger("stripe_sandbox").info(
        "listening on %s (webhooks: %s, state: %s)", sandbox.url,
        args.webhook_url or "none", args.state_file or "in memory")
    stop = threading.Event()
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, lambda *_: stop.set())
    while not stop.wait(1):
        pass
    sandbox.stop()


if __name__ == "__main__":
    main()
