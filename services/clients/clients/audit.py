"""The audit trail (HIPAA 164.312(b)): who did what to whose record, from
where, and whether it was allowed. Rows are only ever added. `detail` holds
field names or a reason, never values (no PHI)."""
from __future__ import annotations

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow

from clients.models import AuditEntry

log = logging.getLogger(__name__)
OUTCOMES = ("ok", "denied", "failed")


def _columns(actor_kind: str, actor_id: str | None, action: str, client_id: str | None,
             outcome: str, ip: str, detail: str) -> dict:
    assert outcome in OUTCOMES, outcome
    return {"at": utcnow(), "actor_kind": actor_kind, "actor_id": str(actor_id or "")[:40],
            "action": action, "client_id": client_id, "outcome": outcome,
            "ip": str(ip or "")[:64], "detail": str(detail or "")[:500]}


def record(session: Session, actor_kind: str, actor_id: str | None, action: str,
           client_id: str | None = None, outcome: str = "ok", ip: str = "",
           detail: str = "") -> None:
    """Add an entry in the caller's transaction."""
    session.add(AuditEntry(**_columns(actor_kind, actor_id, action, client_id, outcome, ip,
                                      detail)))


def read_by(trail, actor, action: str, client_id: str | None = None, detail: str = "") -> None:
    """An authorized read, written behind the request in a batch (`trail` is
    the service's servicekit.batching RowBuffer): a page that only reads
    pays no INSERT and COMMIT of its own. Changes and refusals are never
    written this way; they go in the transaction of what they record."""
    trail.add(**_columns(actor.kind, actor.id, action, client_id, "ok", actor.ip, detail))


def by(session: Session, actor, action: str, client_id: str | None = None,
       outcome: str = "ok", detail: str = "") -> None:
    """An entry for an authorized actor (actors.Actor)."""
    record(session, actor.kind, actor.id, action, client_id, outcome, actor.ip, detail)


def refuse(session: Session, error: Exception, actor_kind: str, actor_id: str | None,
           action: str, client_id: str | None = None, outcome: str = "denied",
           ip: str = "", detail: str = "") -> Exception:
    """Record a refusal and commit it (with whatever the caller staged before,
    e.g. a failed-attempt count), so it survives the error the caller raises:
    `raise audit.refuse(...)`."""
    record(session, actor_kind, actor_id, action, client_id, outcome, ip, detail)
    session.commit()
    log.info("%s %s by %s %s (client %s): %s", action, outcome, actor_kind, actor_id or "-",
             client_id or "-", detail or "-")
    return error


def listing(session: Session, client_id: str | None, limit: int,
            before_id: int | None = None) -> list[dict]:
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if client_id:
        query = query.where(AuditEntry.client_id == client_id)
    return [entry_out(entry) for entry in session.scalars(query)]


def entry_out(entry: AuditEntry) -> dict:
    return {"id": entry.id, "at": iso(entry.at), "actor_kind": entry.actor_kind,
            "actor_id": entry.actor_id, "action": entry.action, "client_id": entry.client_id,
            "outcome": entry.outcome, "ip": entry.ip, "detail": entry.detail}
