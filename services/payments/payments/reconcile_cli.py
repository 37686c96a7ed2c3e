"""`make reconcile`: ask the running payments service to settle what is due,
compare a day's Stripe objects with Cairn's, and print every open mismatch.

    python -m payments.reconcile_cli [--day YYYY-MM-DD|today] [--repair]

Yesterday (UTC) by default. --repair replays Stripe's object onto each
mismatch Cairn has a record for; the rest need a person. Exit code 1 while
any mismatch is open, so a scheduler can alert on it."""
from __future__ import annotations

import servicekit  # noqa: F401  (quiets eventlet's import-time warning)

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import sys  # noqa: E402

from nameko.exceptions import RpcTimeout, UnknownService  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from servicekit import config  # noqa: E402


def render(report: dict) -> str:
    lines = [f"Reconciliation of {report['day']} (UTC): {report['intents_checked']} payment "
             f"intent(s) and {report['refunds_checked']} refund(s) at Stripe checked; "
             f"{report['settled']} payment(s) or refund(s) settled now."]
    if not report["mismatches"]:
        lines.append("Stripe and Cairn agree.")
    for item in report["mismatches"]:
        subject = item["payment_id"] or item["refund_id"] or "no Cairn record"
        lines.append(f"  #{item['id']} {item['kind']}: {item['stripe_object']} ({subject}) "
                     f"ours={item['ours'] or '-'} stripe={item['theirs'] or '-'}"
                     + (f" — {item['repair_note']}" if item["repair_note"] else ""))
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--day", help="YYYY-MM-DD or 'today'; yesterday by default")
    parser.add_argument("--repair", action="store_true", help="replay Stripe's objects")
    args = parser.parse_args(argv)
    try:
        with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=120) as rpc:
            report = rpc.payments.reconcile(args.day, args.repair)
    except (RpcTimeout, UnknownService):
        print("The payments service did not answer. Is Cairn running (`make run`)?",
              file=sys.stderr)
        return 2
    print(render(report))
    return 1 if report["mismatches"] else 0


if __name__ == "__main__":
    sys.exit(main())
