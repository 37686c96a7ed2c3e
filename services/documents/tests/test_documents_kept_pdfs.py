"""Statements issued and invoices sent are kept as PDFs: queued once per
event, fetched from invoicing by the timer, stored, listed for the client."""
import base64
import threading

import pytest
from nameko.exceptions import RemoteError
from nameko.testing.services import entrypoint_hook
from sqlalchemy import text
from sqlalchemy.orm import Session

import contracts

from documents import kept_pdfs

from documents_testkit import PDF, FakeInvoicing


def statement_issued(statement_id="stm_1", client_id="cl_1"):
    data = {**contracts.example("StatementIssued"), "statement_id": statement_id,
            "client_id": client_id}
    return contracts.make_envelope("invoicing", "StatementIssued", data, 1)


def invoice_sent(invoice_id="inv_1", client_id="cl_1"):
    data = {**contracts.example("InvoiceSent"), "invoice_id": invoice_id, "client_id": client_id}
    return contracts.make_envelope("invoicing", "InvoiceSent", data, 1)


def deliver(documents, handler, envelope):
    with entrypoint_hook(documents.container, handler) as handle:
        handle(envelope)


def tick(documents):
    with entrypoint_hook(documents.container, "keep_pdfs") as keep:
        keep()


def rows(documents):
    with documents.engine.connect() as connection:
        return connection.execute(text("select kind, ref_id, status, attempts from kept_pdfs "
                                       "order by kind, ref_id")).all()


def test_a_statement_and_an_invoice_are_kept_once_and_opened_by_their_client(documents):
    event = statement_issued()
    deliver(documents, "on_statement_issued", event)
    deliver(documents, "on_statement_issued", event)                  # redelivered
    deliver(documents, "on_invoice_sent", invoice_sent())
    deliver(documents, "on_invoice_sent", invoice_sent())             # sent again: a new event
    assert rows(documents) == [("invoice", "inv_1", "queued", 0), ("statement", "stm_1", "queued", 0)]
    assert documents.rpc.list_kept_pdfs("cl_1") == []                 # not fetched yet

    tick(documents)
    assert sorted(FakeInvoicing.calls) == [("invoice", "inv_1"), ("statement", "stm_1")]
    kept = documents.rpc.list_kept_pdfs("cl_1")
    assert sorted((k["kind"], k["ref_id"], k["filename"]) for k in kept) == [
        ("invoice", "inv_1", "invoice-inv_1.pdf"), ("statement", "stm_1", "statement-stm_1.pdf")]
    assert all(k["stored_at"].endswith("Z") for k in kept)

    statement = next(k for k in kept if k["kind"] == "statement")
    opened = documents.rpc.open_kept_pdf(statement["id"], "cl_1")
    assert base64.b64decode(opened["content_b64"]).startswith(PDF)
    with pytest.raises(RemoteError) as caught:
        documents.rpc.open_kept_pdf(statement["id"], "cl_2")
    assert caught.value.exc_type == "NotFound"
    assert documents.rpc.list_kept_pdfs("cl_2") == []

    tick(documents)                                                   # nothing left to do
    assert len(FakeInvoicing.calls) == 2


def test_a_document_invoicing_does_not_have_is_given_up_at_once(documents):
    FakeInvoicing.missing.add("stm_gone")
    deliver(documents, "on_statement_issued", statement_issued("stm_gone"))
    tick(documents)
    assert rows(documents) == [("statement", "stm_gone", "failed", 1)]
    tick(documents)
    assert FakeInvoicing.calls == [("statement", "stm_gone")]
    assert documents.rpc.list_kept_pdfs("cl_1") == []


def test_an_unanswered_request_is_retried_later(start_documents):
    documents = start_documents(KEPT_PDF_RPC_TIMEOUT_SECONDS=0.5)
    deliver(documents, "on_statement_issued", statement_issued())
    gate = threading.Event()
    FakeInvoicing.missing.clear()
    original = FakeInvoicing._reply

    def stalled(self, kind, ref_id):
        if not gate.is_set():
            gate.wait(10)            # invoicing stalls past the caller's deadline
        return original(self, kind, ref_id)
    FakeInvoicing._reply = stalled
    try:
        tick(documents)
        with documents.engine.connect() as connection:
            status, attempts, waits, claimed = connection.execute(text(
                "select status, attempts, next_attempt_at > now() at time zone 'utc', "
                "claimed_until from kept_pdfs")).one()
        assert (status, attempts, waits, claimed) == ("queued", 1, True, None)
        # due again: the next tick stores it
        with documents.engine.begin() as connection:
            connection.execute(text("update kept_pdfs set next_attempt_at = null"))
        gate.set()
        tick(documents)
        assert rows(documents) == [("statement", "stm_1", "stored", 2)]
    finally:
        FakeInvoicing._reply = original


def test_two_workers_never_claim_the_same_rows(documents):
    for n in range(6):
        deliver(documents, "on_statement_issued", statement_issued(f"stm_{n}"))
    with Session(documents.engine) as first, Session(documents.engine) as second:
        # the first worker's claim is still uncommitted while the second claims
        locked = first.execute(text("select id from kept_pdfs order by created_at, id limit 3 "
                                    "for update skip locked")).scalars().all()
        taken = kept_pdfs.claim(second, batch=10, lease_seconds=60)
        assert len(taken) == 3 and not {item.id for item in taken} & set(locked)
        first.rollback()
        # the leased rows are not claimed again while their lease runs
        again = kept_pdfs.claim(first, batch=10, lease_seconds=60)
        assert {item.id for item in again} == set(locked)


def test_the_first_fetch_waits_the_configured_delay(start_documents):
    documents = start_documents(KEPT_PDF_DELAY_SECONDS=3600)
    deliver(documents, "on_statement_issued", statement_issued())
    tick(documents)
    assert FakeInvoicing.calls == [] and rows(documents) == [("statement", "stm_1", "queued", 0)]
