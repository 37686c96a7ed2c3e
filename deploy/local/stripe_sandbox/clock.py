"""Settling what the sandbox clock says is due.

`run_due` is called before every API request, by POST
/_sandbox/clock/advance before it answers, and by the Sandbox's ticker once
a second. Tasks leave the state's queue as they are taken, and every
handler re-checks its object's status, so nothing is settled twice.
"""
import logging

from . import charging, refunds
from .state import RequestContext

log = logging.getLogger("stripe_sandbox")

HANDLERS = {
    "ach_payment": charging.settle_ach_payment,
    "refund_settles": refunds.settle_pending,
    "refund_fails": refunds.fail,
}


def run_due(state):
    """Settle every task now due; return the events to deliver."""
    with state.lock:
        ctx = RequestContext(api_key=None, request_id=None)
        for task in state.take_due():
            try:
                HANDLERS[task.kind](state, ctx, task.object_id)
            except Exception:
                log.exception("settling %s %s failed", task.kind,
                              task.object_id)
        return ctx.events


def describe(state):
    with state.lock:
        offset = state.offset
        offset = int(offset) if offset == int(offset) else offset
        return {"now": state.now(), "offset_seconds": offset,
                "scheduled": [{"due": t.due, "kind": t.kind,
                               "object": t.object_id}
                              for t in sorted(state.tasks)]}
