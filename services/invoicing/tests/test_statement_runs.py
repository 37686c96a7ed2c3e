"""The statement run over many clients, in chunks: a run that crashes
mid-chunk resumes after the last committed chunk and nobody gets a second
statement or a second StatementIssued; a worker whose lease was taken over
stops; starting the period again resumes the same run."""
from collections import Counter
from datetime import date, datetime

import pytest
from sqlalchemy import create_engine, text, update
from sqlalchemy.orm import Session

from invoicing import statement_runs, statements
from invoicing.models import CreditEntry, Invoice, InvoicePayment, StatementRun

from invoicing_testkit import outbox

START, END = date(2026, 11, 1), date(2026, 11, 30)


def at(day: int, month: int = 11) -> datetime:
    return datetime(2026, month, day, 15, 0)


def seed(session: Session) -> None:
    """cl_00..cl_09 owe or paid something in November; cl_10 paid in full
    in September (nothing owed, nothing happened: skipped); cl_11 has only a
    draft (not billed: not looked at)."""
    def invoice(n, client, made, total, status="sent"):
        session.add(Invoice(id=f"inv_{n}", number=f"INV-{n:06d}", client_id=client,
                            location_id="loc_1", payment_type="private_pay", status=status,
                            subtotal=total, discount_amount=0, total=total, amount_paid=0,
                            created_at=made, updated_at=made))
    for n in range(10):
        invoice(n, f"cl_{n:02d}", at(3 + n), 10000 + n)
    session.flush()
    session.add(InvoicePayment(payment_id="pay_3", invoice_id="inv_3", amount=2500, method="card",
                               applied_at=at(20)))
    session.add(CreditEntry(client_id="cl_03", amount=700, source="payment:pay_3", at=at(20)))
    invoice(10, "cl_10", at(2, 9), 5000, status="paid")
    invoice(11, "cl_11", at(4), 5000, status="draft")
    session.flush()
    session.add(InvoicePayment(payment_id="pay_10", invoice_id="inv_10", amount=5000,
                               method="cash", applied_at=at(3, 9)))
    session.commit()


@pytest.fixture
def db(database_url):
    engine = create_engine(database_url("invoicing"))
    with Session(engine, expire_on_commit=False) as session:
        seed(session)
        yield session, engine
    engine.dispose()


def directory(asked: list):
    def look_up(ids):
        asked.append(list(ids))
        return {i: {"id": i, "name": f"Client {i}", "address": "1 Elm St"} for i in ids}
    return look_up


class Crash(Exception):
    pass


def test_a_run_that_crashes_mid_chunk_resumes_and_nobody_gets_two_statements(db, monkeypatch):
    session, engine = db
    run, new = statement_runs.start(session, START, END, "st_1")
    session.commit()
    assert new and run.total == 11                      # cl_00..cl_10; the draft is not billed
    run_id, owner = statement_runs.claim(session)
    asked: list = []
    for _ in range(2):                                    # two chunks of 3 committed
        assert statement_runs.work_chunk(session, run_id, owner, directory(asked), chunk=3)

    real_write = statements.write

    def crash_after_writing(session_, rows):
        real_write(session_, rows)                        # statements and events inserted...
        raise Crash("the process died before the commit")
    monkeypatch.setattr(statements, "write", crash_after_writing)
    with pytest.raises(Crash):
        statement_runs.work_chunk(session, run_id, owner, directory(asked), chunk=3)
    session.rollback()
    monkeypatch.setattr(statements, "write", real_write)
    assert len(outbox(engine, "StatementIssued")) == 6   # only the committed chunks

    assert statement_runs.claim(session) is None          # its lease still stands
    session.execute(update(StatementRun).values(lease_until=datetime(2000, 1, 1)))
    session.commit()
    run_id, second_owner = statement_runs.claim(session)  # another worker takes it over
    with pytest.raises(statement_runs.LeaseLost):
        statement_runs.work_chunk(session, run_id, owner, directory(asked), chunk=3)
    statement_runs.work(session, run_id, second_owner, directory(asked), chunk=3)

    done = statement_runs.progress(statement_runs.load(session, run_id))
    assert done["status"] == "finished"
    assert (done["total"], done["done"], done["issued"], done["skipped"]) == (11, 11, 10, 1)
    events = outbox(engine, "StatementIssued")
    assert Counter(e["data"]["client_id"] for e in events) == {f"cl_{n:02d}": 1 for n in range(10)}
    assert all(e["data"]["run_id"] == run_id for e in events)
    with engine.connect() as connection:
        per_client = connection.execute(text(
            "select client_id, count(*) from statements group by client_id")).all()
    assert dict(per_client) == {f"cl_{n:02d}": 1 for n in range(10)}
    assert done["total_due"] == sum(10000 + n for n in range(10)) - 2500 - 700
    assert all(len(chunk) <= 3 for chunk in asked)        # one directory call per chunk

    again, new = statement_runs.start(session, START, END, "st_2")
    assert not new and again.id == run_id                 # the period's run, not a second one


def test_a_statement_row_holds_the_figures_and_who_it_was_for(db):
    session, _ = db
    run, _ = statement_runs.start(session, START, END, "st_1")
    session.commit()
    run_id, owner = statement_runs.claim(session)
    statement_runs.work(session, run_id, owner, directory([]), chunk=500)
    [row] = statements.recent(session, "cl_03")
    shown = statements.out(row)
    assert (shown["opening_balance"], shown["charges"], shown["payments"], shown["credits"],
            shown["closing_balance"]) == (0, 10003, 2500, 700, 10003 - 2500 - 700)
    assert shown["aging"]["current"] == 7503 and shown["credit_on_account"] == 700
    assert shown["bill_to"] == {"name": "Client cl_03", "address": "1 Elm St"}
    assert [a["kind"] for a in shown["activity"]] == ["charge", "payment", "credit"]


def test_a_run_whose_collaborator_fails_is_let_go_for_the_next_tick(db):
    session, engine = db
    statement_runs.start(session, START, END, "st_1")
    session.commit()
    run_id, owner = statement_runs.claim(session)

    def clients_down(ids):
        raise RuntimeError("clients did not answer")
    with pytest.raises(RuntimeError):
        statement_runs.work(session, run_id, owner, clients_down, chunk=3)
    assert outbox(engine, "StatementIssued") == []
    again = statement_runs.claim(session)                 # not after the lease: at once
    assert again is not None and again[0] == run_id
    statement_runs.work(session, *again, directory([]), chunk=3)
    assert len(outbox(engine, "StatementIssued")) == 10
