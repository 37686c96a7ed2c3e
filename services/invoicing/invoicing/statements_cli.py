"""`make statements`: start (or resume) the statement run of a period over
the whole clinic in the running invoicing service, show its progress and a
summary. Running it again for the same period resumes an unfinished run or
reports the finished one: nobody gets a statement twice.

    python -m invoicing.statements_cli --period 2026-11
    python -m invoicing.statements_cli --start 2026-11-01 --end 2026-11-30

Without a period: last month (on the business calendar)."""
from __future__ import annotations

import servicekit  # noqa: F401  (quiets eventlet's import-time warning)

import eventlet  # noqa: E402

eventlet.monkey_patch()

import argparse  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from datetime import date, timedelta  # noqa: E402

from nameko.exceptions import RpcTimeout, UnknownService  # noqa: E402
from nameko.standalone.rpc import ClusterRpcProxy  # noqa: E402

from servicekit import clock, config  # noqa: E402
from servicekit.errors import InvalidFields  # noqa: E402
from servicekit.money import format_money  # noqa: E402

BAR = 30


def month(text: str) -> tuple[str, str]:
    """'2026-11' -> ('2026-11-01', '2026-11-30')."""
    first = date.fromisoformat(f"{text}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return first.isoformat(), (following - timedelta(days=1)).isoformat()


def last_month(today: date) -> tuple[str, str]:
    return month((today.replace(day=1) - timedelta(days=1)).strftime("%Y-%m"))


def bar(progress: dict) -> str:
    total = max(progress["total"], 1)
    filled = min(BAR, BAR * progress["done"] // total)
    return (f"[{'#' * filled}{'.' * (BAR - filled)}] {progress['done']}/{progress['total']} "
            f"clients · {progress['issued']} issued")


def summary(progress: dict, seconds: float | None = None) -> str:
    lines = [f"Statements for {progress['period_start']} to {progress['period_end']}: "
             f"{progress['status']}",
             f"  issued:    {progress['issued']}",
             f"  skipped:   {progress['skipped']} (nothing owed and nothing happened)",
             f"  total due: {format_money(progress['total_due'])}"]
    if seconds:
        lines.append(f"  time:      {seconds:.1f} s")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--period", help="a month, YYYY-MM")
    parser.add_argument("--start", help="first day, YYYY-MM-DD")
    parser.add_argument("--end", help="last day, YYYY-MM-DD")
    parser.add_argument("--actor", default="make-statements")
    args = parser.parse_args(argv)
    if args.period:
        try:
            start, end = month(args.period)
        except ValueError:
            print("PERIOD must be a month like 2026-11.", file=sys.stderr)
            return 2
    elif args.start or args.end:
        start, end = args.start or "", args.end or ""
    else:
        start, end = last_month(clock.today())
    began = time.monotonic()
    try:
        with ClusterRpcProxy({"AMQP_URI": config.amqp_uri()}, timeout=60) as rpc:
            progress = rpc.invoicing.start_statement_run(start, end, args.actor)
            while progress["status"] != "finished":
                print("\r" + bar(progress), end="", flush=True)
                time.sleep(0.5)
                progress = rpc.invoicing.statement_run_progress(progress["id"])
            print("\r" + bar(progress))
    except InvalidFields as wrong:
        print(" ".join(wrong.errors.values()), file=sys.stderr)
        return 2
    except (RpcTimeout, UnknownService):
        print("\nThe invoicing service did not answer. Is Cairn running (`make run`)? "
              "Run this again to resume: nothing is sent twice.", file=sys.stderr)
        return 2
    print(summary(progress, time.monotonic() - began))
    return 0


if __name__ == "__main__":
    sys.exit(main())
