"""The statement run at clinic scale (used by bench/run.py): N clients (10,000
by default) each with an invoice from before the period, an invoice in it and
a payment on that one, seeded in bulk into the running stack's fresh clients
and invoicing databases; then `invoicing.start_statement_run` over RPC, as
`make statements` does, polled until finished. The run is the real one: the
invoicing service's timer works it in chunks of 500, one
`clients.billing_directory` RPC per chunk, statements and StatementIssued
events written per chunk, the outbox relay publishing them and notifications
handling every one (the bench's clients have no email address, so each is
an inbox message and a quick "no email on file", not 10,000 SMTP sends).

Floor of the same run: the statements' own writes alone — N rows of the
statements table's width inserted in transactions of 500 into a scratch
table of a fresh database, from this process.
"""
from __future__ import annotations

import json
import time
from datetime import date, datetime, timedelta

from sqlalchemy import create_engine, insert, text

PERIOD = (date(2026, 11, 1), date(2026, 11, 30))
CHUNK = 500


def seed(clients_url: str, invoicing_url: str, count: int) -> None:
    from clients.models import Client
    from invoicing.models import Invoice, InvoicePayment
    start, _ = PERIOD
    before, during, paid_on = (datetime.combine(start - timedelta(days=20), datetime.min.time()),
                               datetime.combine(start + timedelta(days=11), datetime.min.time()),
                               datetime.combine(start + timedelta(days=19), datetime.min.time()))
    ids = [f"cl_bench{n:06d}" for n in range(count)]
    engine = create_engine(clients_url)
    with engine.begin() as connection:
        for part in range(0, count, 2000):
            connection.execute(insert(Client.__table__), [
                {"id": i, "kind": "client", "first_name": "Bench", "last_name": f"Client {i[-6:]}",
                 "preferred_name": "", "email": "", "phone": "",
                 "address": "12 Birch Lane\nSpringfield, IL 62704", "created_at": before}
                for i in ids[part:part + 2000]])
    engine.dispose()
    engine = create_engine(invoicing_url)
    with engine.begin() as connection:
        for part in range(0, count, 1000):
            chunk = ids[part:part + 1000]
            invoices = []
            for n, client_id in enumerate(chunk, start=part):
                for k, (made, total, paid, status) in enumerate(
                        ((before, 12000, 0, "sent"), (during, 15000, 5000, "partially_paid"))):
                    invoices.append({
                        "id": f"inv_b{n:06d}{k}", "number": f"BEN-{n:06d}{k}",
                        "client_id": client_id, "location_id": "loc_main",
                        "payment_type": "private_pay", "status": status, "subtotal": total,
                        "discount_amount": 0, "total": total, "amount_paid": paid,
                        "created_at": made, "updated_at": made})
            connection.execute(insert(Invoice.__table__), invoices)
            connection.execute(insert(InvoicePayment.__table__), [
                {"payment_id": f"pay_b{n:06d}", "invoice_id": f"inv_b{n:06d}1", "amount": 5000,
                 "method": "card", "applied_at": paid_on}
                for n in range(part, part + len(chunk))])
    engine.dispose()


def floor(scratch_url: str, count: int) -> dict:
    """N statement-sized rows in transactions of 500: the writes alone."""
    engine = create_engine(scratch_url)
    with engine.begin() as connection:
        connection.execute(text(
            "create table statements_floor (id varchar(40) primary key, client_id varchar(40), "
            "run_id varchar(40), figures text, activity text, issued_at timestamp, "
            "unique (run_id, client_id))"))
        connection.execute(text(
            "create table outbox_floor (event_id varchar(36) primary key, envelope text)"))
    activity = json.dumps([{"on": "2026-11-12", "kind": "charge", "label": "Invoice BEN-0000001",
                            "amount": 15000, "balance": 27000}] * 2)
    started = time.perf_counter()
    for part in range(0, count, CHUNK):
        with engine.begin() as connection:
            rows = range(part, min(part + CHUNK, count))
            connection.execute(text(
                "insert into statements_floor values (:id, :client_id, 'run_1', :figures, "
                ":activity, now())"),
                [{"id": f"stm_{n}", "client_id": f"cl_{n}", "figures": "0" * 120,
                  "activity": activity} for n in rows])
            connection.execute(text("insert into outbox_floor values (:id, :envelope)"),
                               [{"id": f"{n:036d}", "envelope": "x" * 400} for n in rows])
    seconds = time.perf_counter() - started
    engine.dispose()
    return {"count": count, "seconds": seconds, "per_second": count / seconds}


def run_statements(amqp_uri: str, timeout: float = 600) -> dict:
    """Start the period's run over RPC and poll it to the end."""
    from nameko.standalone.rpc import ClusterRpcProxy
    start, end = PERIOD
    with ClusterRpcProxy({"AMQP_URI": amqp_uri}, timeout=60) as rpc:
        began = time.perf_counter()
        progress = rpc.invoicing.start_statement_run(start.isoformat(), end.isoformat(), "bench")
        first_chunk = None
        while progress["status"] != "finished":
            if time.perf_counter() - began > timeout:
                raise RuntimeError(f"statement run not finished after {timeout:g} s: {progress}")
            time.sleep(0.1)
            progress = rpc.invoicing.statement_run_progress(progress["id"])
            if first_chunk is None and progress["done"]:
                first_chunk = time.perf_counter() - began
        seconds = time.perf_counter() - began
    return {**progress, "seconds": seconds, "first_chunk_after": first_chunk,
            "per_second": progress["done"] / seconds}


def report(figures: dict) -> str:
    run, floor_ = figures["run"], figures["floor"]
    return "\n".join([
        f"Statement run over {run['done']:,} clients (each: an invoice before the period, one in "
        f"it, a payment), started over RPC as `make statements` does, polled to the end:",
        "",
        "| | clients | seconds | clients/s |",
        "| --- | ---: | ---: | ---: |",
        f"| statement run (issued {run['issued']:,}, skipped {run['skipped']:,}, "
        f"total due ${run['total_due'] / 100:,.2f}) | {run['done']:,} | {run['seconds']:.1f} | "
        f"**{run['per_second']:,.0f}** |",
        f"| floor: the same number of statement and outbox rows inserted in transactions of "
        f"{CHUNK} | {floor_['count']:,} | {floor_['seconds']:.1f} | {floor_['per_second']:,.0f} |",
        "",
        f"The first chunk was committed {run['first_chunk_after'] or 0:.1f} s after the run "
        f"was started (the timer's pick-up); notifications handled every StatementIssued "
        f"meanwhile, on the same cores. PDFs are not rendered in the run (on request)."])
