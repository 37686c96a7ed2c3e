"""Statements, invoice PDFs and superbills through the running service: the
PDF shows the same amounts as the RPC (and the screen), to the cent; a
superbill for dates with no services is a field error, nothing saved."""
import base64
from datetime import date, timedelta

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher
from sqlalchemy import text

from servicekit.errors import InvalidFields
from servicekit.pdf import text_of
from servicekit.money import format_money
from tests.support.processes import wait_until

from invoicing_testkit import PAYLOAD, FakeClients, captured, outbox

TOTAL = 24300   # PAYLOAD: $270.00 less 10 %


def paid_invoice(proxy, config, engine, paid):
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    proxy.send_invoice(invoice["id"], "email", "st_1")
    event_dispatcher(config)("payments", "PaymentCaptured",
                             captured("pay_1", {invoice["id"]: paid}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] == paid,
               what="the payment applied")
    return proxy.get_invoice(invoice["id"])


def pdf_text(reply) -> str:
    assert reply["content_type"] == "application/pdf"
    pdf = base64.b64decode(reply["pdf_base64"])
    assert pdf.startswith(b"%PDF")
    return text_of(pdf)


def this_month():
    today = date.today()
    return today.replace(day=1).isoformat(), today.isoformat()


def test_a_statement_shows_what_the_screen_shows_and_its_pdf_the_same_to_the_cent(invoicing):
    proxy, engine, config = invoicing
    paid_invoice(proxy, config, engine, 10001)
    start, end = this_month()
    issued = proxy.issue_statement("cl_1", start, end, "st_1")
    screen = proxy.financial_summary("cl_1")
    assert issued["closing_balance"] == screen["balance"] == TOTAL - 10001 == 14299
    assert (issued["opening_balance"], issued["charges"], issued["payments"]) == (0, TOTAL, 10001)
    assert issued["aging"]["current"] == 14299
    assert screen["statements"][0]["id"] == issued["id"]

    [event] = outbox(engine, "StatementIssued")
    assert event["data"]["statement_id"] == issued["id"]
    assert event["data"]["amount_due"] == {"amount": 14299, "currency": "usd"}
    assert "run_id" not in event["data"]

    reply = proxy.statement_pdf(issued["id"])
    shown = pdf_text(reply)
    for cents in (0, TOTAL, 10001, 14299):
        assert format_money(cents) in shown, (cents, shown)
    assert "Client cl_1" in shown and "12 Birch Lane" in shown and "Cedar Ridge Recovery" in shown
    assert "/portal/billing" in shown
    assert reply["filename"] == f"statement-{start}-to-{end}.pdf"

    again = proxy.statement_pdf(issued["id"], "cl_1")           # the portal's client: cached
    assert again["pdf_base64"] == reply["pdf_base64"]
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from pdf_cache")).scalar() == 1
    with pytest.raises(RemoteError) as other:
        proxy.statement_pdf(issued["id"], "cl_2")
    assert other.value.exc_type == "NotFound"


def test_a_statement_period_must_be_two_dates_in_order(invoicing):
    proxy, engine, _ = invoicing
    with pytest.raises(InvalidFields) as wrong:
        proxy.issue_statement("cl_1", "", "2026-11-31", "st_1")
    assert wrong.value.errors == {"period_start": "Enter the first day.",
                                  "period_end": "Enter the last day as a date, like 2026-11-30."}
    with pytest.raises(InvalidFields) as backwards:
        proxy.issue_statement("cl_1", "2026-11-30", "2026-11-01", "st_1")
    assert "period_end" in backwards.value.errors
    assert outbox(engine, "StatementIssued") == []


def test_the_invoice_pdf_shows_the_invoice_as_stored(invoicing):
    proxy, engine, config = invoicing
    invoice = paid_invoice(proxy, config, engine, 5000)
    reply = proxy.invoice_pdf(invoice["id"])
    shown = pdf_text(reply)
    assert reply["filename"] == f"invoice-{invoice['number']}.pdf"
    for cents in (27000, 2700, TOTAL, 5000, TOTAL - 5000, 15000, 13500, 6000, 1200, 10800):
        assert format_money(cents) in shown, (cents, shown)
    assert "90834" in shown and "90853" in shown

    draft = proxy.create_invoice(PAYLOAD, "st_1")
    proxy.invoice_pdf(draft["id"])                               # staff may see a draft
    for invoice_id, client_id in ((draft["id"], "cl_1"), (invoice["id"], "cl_2")):
        with pytest.raises(RemoteError) as hidden:
            proxy.invoice_pdf(invoice_id, client_id)
        assert hidden.value.exc_type == "NotFound"


def test_a_superbill_lists_services_with_codes_and_what_was_paid_per_line(invoicing):
    proxy, engine, config = invoicing
    invoice = paid_invoice(proxy, config, engine, 10000)
    with engine.begin() as connection:
        connection.execute(text(
            "insert into billing_providers (id, name, credentials, npi, tax_id, license, staff_id, "
            "active) values ('bp_1', 'Dana Whitfield', 'LCSW', '1234567893', '12-3456789', "
            "'LCSW-IL 149.012345', 'st_9', true)"))
        connection.execute(text("update invoices set provider_id = 'bp_1', diagnosis_codes = "
                                "'F32.1,F41.1' where id = :id"), {"id": invoice["id"]})
        connection.execute(text("update invoice_lines set modifiers = 'HJ', place_of_service = "
                                "'11', service_date = :d where invoice_id = :id"),
                           {"id": invoice["id"], "d": date.today()})
    start, end = this_month()
    reply = proxy.superbill("cl_1", start, end)
    bill = reply["superbill"]
    assert [(line["code"], line["fee"], line["paid"]) for line in bill["lines"]] == [
        ("90834", 13500, 5556), ("90853", 10800, 4444)]            # $100.00 over 135 : 108
    assert bill["total_paid"] == 10000 and bill["total_fees"] == TOTAL
    assert bill["diagnosis_codes"] == ["F32.1", "F41.1"]
    assert bill["client"]["date_of_birth"] == "1990-04-02"
    shown = pdf_text(reply)
    for words in ("Dana Whitfield", "1234567893", "12-3456789", "LCSW-IL 149.012345", "F32.1",
                  "HJ", "April 2, 1990", "12 Birch Lane", "Provider signature",
                  format_money(5556), format_money(4444), format_money(TOTAL)):
        assert words in shown, (words, shown)
    assert reply["filename"] == f"superbill-{start}-to-{end}.pdf"


def test_a_superbill_for_dates_without_services_is_a_field_error_and_saves_nothing(invoicing):
    proxy, engine, config = invoicing
    paid_invoice(proxy, config, engine, 100)
    with pytest.raises(InvalidFields) as empty:
        proxy.superbill("cl_1", "2020-01-01", "2020-01-31")
    assert empty.value.errors == {"start": "There are no services between January 1, 2020 and "
                                           "January 31, 2020. Choose other dates."}
    with pytest.raises(InvalidFields) as backwards:
        proxy.superbill("cl_1", "2020-02-01", "2020-01-01")
    assert set(backwards.value.errors) == {"end"}
    with engine.connect() as connection:
        assert connection.execute(text("select count(*) from pdf_cache")).scalar() == 0


def test_the_statement_run_works_the_whole_clinic_and_reports_progress(invoicing):
    proxy, engine, config = invoicing
    paid_invoice(proxy, config, engine, 100)
    proxy.create_invoice({**PAYLOAD, "client_id": "cl_2"}, "st_1")  # a draft: not billed
    start, end = this_month()
    run = proxy.start_statement_run(start, end, "st_1")
    assert run["status"] == "running" and run["total"] == 1
    wait_until(lambda: proxy.statement_run_progress(run["id"])["status"] == "finished",
               timeout=30, what="the statement run finished")
    done = proxy.statement_run_progress(run["id"])
    assert (done["done"], done["issued"], done["skipped"], done["total_due"]) == (1, 1, 0, TOTAL - 100)
    assert proxy.start_statement_run(start, end, "st_1")["id"] == run["id"]   # one run per period
    [event] = outbox(engine, "StatementIssued")
    assert event["data"]["run_id"] == run["id"] and event["data"]["client_id"] == "cl_1"
    assert FakeClients.calls["billing_directory"] == 1


def _adjust(proxy, invoice_id, kind, amount, key):
    return proxy.adjust_invoice(invoice_id, {"kind": kind, "amount": amount,
                                             "reason": "Billed the wrong code",
                                             "request_key": key}, "st_1")


def test_a_statement_counts_adjustments_write_offs_and_credit_notes_as_the_ledger_does(invoicing):
    """To the cent: the statement's adjustments line, closing balance, aging
    and credit are the ledger's and the Financial tab's, and aging counts
    from the due date there too."""
    proxy, engine, config = invoicing
    first = paid_invoice(proxy, config, engine, TOTAL)                  # paid in full
    _adjust(proxy, first["id"], "credit_note", 5000, "key-stm-0001")   # $50 paid → credit
    overdue = (date.today() - timedelta(days=45)).isoformat()
    second = proxy.create_invoice({**PAYLOAD, "due_on": overdue}, "st_1")
    proxy.send_invoice(second["id"], "email", "st_1")
    _adjust(proxy, second["id"], "write_off", 3000, "key-stm-0002")
    _adjust(proxy, second["id"], "adjustment", 1234, "key-stm-0003")
    _adjust(proxy, second["id"], "adjustment", -234, "key-stm-0004")

    start, end = this_month()
    issued = proxy.issue_statement("cl_1", start, end, "st_1")
    screen, book = proxy.financial_summary("cl_1"), proxy.ledger("cl_1")
    adjusted = sum(e["effect"] for e in book["entries"]
                   if e["kind"] in ("adjustment", "write_off", "credit_note"))
    assert issued["adjustments"] == adjusted == -5000 - 3000 + 1234 - 234
    assert issued["charges"] == 2 * TOTAL and issued["payments"] == TOTAL
    owed_second = TOTAL - 3000 + 1000
    assert issued["closing_balance"] == book["balance"] == screen["balance"] - screen["credit"] \
        == owed_second - 5000
    assert issued["credit_on_account"] == book["credit"] == screen["credit"] == 5000
    assert issued["aging"] == {a["bucket"]: a["amount"] for a in book["aging"]} \
        == {"current": 0, "31_60": owed_second, "61_90": 0, "over_90": 0}
    labels = [line["label"] for line in issued["activity"]]
    assert f"Credit note, invoice {first['number']} (paid amount moved to your credit)" in labels
    assert f"Write-off, invoice {second['number']}" in labels
    assert not any("Billed the wrong code" in label for label in labels)   # staff's note stays in
    shown = pdf_text(proxy.statement_pdf(issued["id"]))
    for cents in (-7000, owed_second - 5000, owed_second):
        assert format_money(cents) in shown, (cents, shown)


def test_a_superbill_shows_what_was_billed_and_what_stayed_paid_after_a_credit_note(invoicing):
    """Fees are what was billed (the lines' nets); paid is what stays paid on
    the invoice once a credit note moved part of it to the credit."""
    proxy, engine, config = invoicing
    invoice = paid_invoice(proxy, config, engine, TOTAL)
    _adjust(proxy, invoice["id"], "credit_note", 4300, "key-sb-00001")   # $43 back to credit
    bill = proxy.superbill("cl_1", *this_month())["superbill"]
    assert bill["total_fees"] == TOTAL
    assert bill["total_paid"] == TOTAL - 4300 == proxy.get_invoice(invoice["id"])["amount_paid"]
    assert sum(line["paid"] for line in bill["lines"]) == bill["total_paid"]


def test_the_invoice_pdf_shows_what_is_owed_after_a_write_off(invoicing):
    proxy, engine, config = invoicing
    invoice = paid_invoice(proxy, config, engine, 10000)
    _adjust(proxy, invoice["id"], "write_off", 4300, "key-pdf-00001")
    shown = pdf_text(proxy.invoice_pdf(invoice["id"]))
    assert "Owed after adjustments" in shown
    for cents in (TOTAL, -4300, TOTAL - 4300, 10000, TOTAL - 4300 - 10000):
        assert format_money(cents) in shown, (cents, shown)
