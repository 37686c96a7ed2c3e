"""The statement run: every client with something owed or something that
happened in the period gets one statement, in chunks (500 by default).

Per chunk, with no lock held across the RPC:
1. the next client ids after the run's cursor (one SQL statement);
2. who they are (clients' `billing_directory`, ONE RPC for the chunk);
3. one transaction: the run row locked and its lease and cursor checked,
   every client's entries read (five SQL statements), the statements and
   their `StatementIssued` events inserted (one INSERT each), the counters
   and cursor moved, commit.
The cursor moves in the same transaction as the chunk's statements, so a run
resumed after a crash starts after the last committed chunk and never issues
a client's statement twice (`unique(run_id, client_id)` stands behind it).
A worker owns a run while its lease lasts; a run whose worker died is taken
over when the lease has expired. PDFs are not rendered here: on request."""
from __future__ import annotations

import logging
import secrets
from datetime import date, timedelta
from typing import Callable

from sqlalchemy import func, select, union, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit.db import iso, utcnow
from servicekit.errors import NotFound

from invoicing import statement_math, statements
from invoicing.models import CreditEntry, Invoice, Statement, StatementRun

log = logging.getLogger(__name__)
CHUNK = 500
LEASE_SECONDS = 120

Directory = Callable[[list[str]], dict]   # client ids -> {client id: {name, address, ...}}


def _candidates(end: date):
    """Client ids with a billed invoice or a credit entry up to the period's end."""
    until = statements._next_day(end)
    invoices = select(Invoice.client_id.label("client_id")).where(
        Invoice.status.not_in(statements.NOT_BILLED), Invoice.created_at < until)
    credits = select(CreditEntry.client_id.label("client_id")).where(CreditEntry.at < until)
    return union(invoices, credits).subquery()


def start(session: Session, start_day: date, end_day: date, actor: str) -> tuple[StatementRun, bool]:
    """The period's run: made now (with how many clients it will look at),
    or the one already there (True: new)."""
    found = session.scalars(select(StatementRun).where(StatementRun.period_start == start_day,
                                                       StatementRun.period_end == end_day)).first()
    if found is not None:
        return found, False
    candidates = _candidates(end_day)
    total = session.scalar(select(func.count()).select_from(candidates))
    run = StatementRun(id=f"run_{secrets.token_hex(8)}", period_start=start_day,
                       period_end=end_day, status="running", total=total, done=0, issued=0,
                       skipped=0, total_due=0, cursor="", lease_owner="", started_by=actor or "",
                       started_at=utcnow())
    try:
        with session.begin_nested():
            session.add(run)
    except IntegrityError:            # started a moment ago by someone else
        return start(session, start_day, end_day, actor)
    return run, True


def load(session: Session, run_id: str) -> StatementRun:
    run = session.get(StatementRun, str(run_id))
    if run is None:
        raise NotFound("statement run not found")
    return run


def claim(session: Session, run_id: str | None = None) -> tuple[str, str] | None:
    """Take a running run whose lease is free or expired: (run id, owner
    token), committed; None when there is none."""
    now = utcnow()
    query = (select(StatementRun).where(StatementRun.status == "running")
             .where((StatementRun.lease_until.is_(None)) | (StatementRun.lease_until < now))
             .order_by(StatementRun.started_at).limit(1).with_for_update(skip_locked=True))
    if run_id is not None:
        query = query.where(StatementRun.id == run_id)
    run = session.scalars(query).first()
    if run is None:
        session.rollback()
        return None
    owner = secrets.token_hex(8)
    run.lease_owner, run.lease_until = owner, now + timedelta(seconds=LEASE_SECONDS)
    session.commit()
    return run.id, owner


class LeaseLost(Exception):
    """Another worker took the run over (this one was too slow): stop."""


def work_chunk(session: Session, run_id: str, owner: str, directory: Directory,
               chunk: int = CHUNK) -> bool:
    """One chunk of the run; False once the run is finished."""
    run = load(session, run_id)
    cursor, end_day = run.cursor, run.period_end
    candidates = _candidates(end_day)
    ids = list(session.scalars(select(candidates.c.client_id)
                               .where(candidates.c.client_id > cursor)
                               .order_by(candidates.c.client_id).limit(chunk)))
    session.rollback()                                   # no transaction across the RPC
    who = directory(ids) if ids else {}
    run = session.scalars(select(StatementRun).where(StatementRun.id == run_id)
                          .with_for_update()).one()
    if run.lease_owner != owner or run.cursor != cursor:
        session.rollback()
        raise LeaseLost(run_id)
    if not ids:
        run.status, run.finished_at, run.lease_until = "finished", utcnow(), None
        session.commit()
        log.info("statement run %s finished: %d issued, %d skipped", run.id, run.issued,
                 run.skipped)
        return False
    already = set(session.scalars(select(Statement.client_id).where(
        Statement.run_id == run_id, Statement.client_id.in_(ids))))
    entries = statements.entries_for(session, ids, end_day)
    rows, now = [], utcnow()
    for client_id in ids:
        if client_id in already:
            continue
        figures = statement_math.statement(run.period_start, end_day, entries[client_id])
        if not figures.has_activity and figures.closing_balance == 0:
            run.skipped += 1
            continue
        rows.append(statements.new_row(client_id, figures, who.get(client_id) or {},
                                       run.started_by, run_id=run_id, now=now))
    statements.write(session, rows)
    run.issued += len(rows)
    run.total_due += sum(max(row["closing_balance"], 0) for row in rows)
    run.done += len(ids)
    run.total = max(run.total, run.done)
    run.cursor = ids[-1]
    run.lease_until = utcnow() + timedelta(seconds=LEASE_SECONDS)
    session.commit()
    return True


def work(session: Session, run_id: str, owner: str, directory: Directory,
         chunk: int = CHUNK) -> None:
    """Chunks until the run is finished (or another worker took it over)."""
    try:
        while work_chunk(session, run_id, owner, directory, chunk):
            pass
    except LeaseLost:
        log.warning("statement run %s: lease lost; another worker carries on", run_id)
    except Exception:
        # a service not answering, the database away: let the next tick retry
        # at once instead of after the lease (a crashed process waits for it)
        session.rollback()
        release(session, run_id, owner)
        raise


def release(session: Session, run_id: str, owner: str) -> None:
    try:
        session.execute(update(StatementRun).where(StatementRun.id == run_id,
                                                   StatementRun.lease_owner == owner)
                        .values(lease_until=None))
        session.commit()
    except Exception:  # the database is away too: the lease expires by itself
        session.rollback()


def progress(run: StatementRun) -> dict:
    return {"id": run.id, "period_start": run.period_start.isoformat(),
            "period_end": run.period_end.isoformat(), "status": run.status,
            "total": run.total, "done": run.done, "issued": run.issued, "skipped": run.skipped,
            "total_due": run.total_due, "started_at": iso(run.started_at),
            "finished_at": iso(run.finished_at) if run.finished_at else None}
