"""Once money is applied, an invoice changes only through adjustments, write-
offs and credit notes that keep the history; credit on the account pays
another invoice; the ledger tells all of it with a running balance and aging."""
from datetime import timedelta

import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher

from servicekit import clock
from servicekit.errors import InvalidFields
from tests.support.processes import wait_until

from invoicing_testkit import PAYLOAD, captured, outbox, processing

TOTAL = 24300   # PAYLOAD: $270.00 less 10 %


def sent_invoice(proxy, **extra):
    invoice = proxy.create_invoice({**PAYLOAD, **extra}, "st_1")
    proxy.send_invoice(invoice["id"], "email", "st_1")
    return invoice


def pay(invoicing, invoice, amount, payment_id, unapplied=0):
    proxy, _, config = invoicing
    event_dispatcher(config)("payments", "PaymentCaptured",
                             captured(payment_id, {invoice["id"]: amount}, unapplied=unapplied))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] >= amount,
               what="the payment applied")


def adjust(proxy, invoice, kind, amount, key, reason="Billed the wrong code"):
    return proxy.adjust_invoice(invoice["id"], {"kind": kind, "amount": amount, "reason": reason,
                                                "request_key": key}, "st_1")


def refused(call) -> dict:
    with pytest.raises(InvalidFields) as error:
        call()
    return error.value.errors


def test_an_adjustment_corrects_a_paid_invoice_and_keeps_the_history(invoicing):
    proxy, engine, _ = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1")
    more = adjust(proxy, invoice, "adjustment", 2500, "key-adj-0001")
    assert (more["status"], more["owed"], more["balance"]) == ("partially_paid", TOTAL + 2500, 2500)
    assert adjust(proxy, invoice, "adjustment", 2500, "key-adj-0001")["balance"] == 2500  # again: nothing
    assert proxy.list_payable_invoices("cl_1", "portal")[0]["available"] == 2500
    assert "Adjustment +$25.00: Billed the wrong code" in [a["what"] for a in more["activity"]]
    event = outbox(engine, "InvoiceAdjusted")[-1]["data"]
    assert (event["kind"], event["amount"]["amount"], event["increase"], event["status"]) == \
        ("adjustment", 2500, True, "partially_paid")
    edit = pytest.raises(RemoteError, proxy.update_invoice, invoice["id"], PAYLOAD, "st_1")
    assert edit.value.exc_type == "InvalidInput"


def test_an_adjustment_may_not_take_the_amount_owed_below_what_was_paid(invoicing):
    proxy, _, _ = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, 20000, "pay_1")
    errors = refused(lambda: adjust(proxy, invoice, "adjustment", -5000, "key-adj-0002"))
    assert "Use a credit note" in errors["amount"]
    both = refused(lambda: proxy.adjust_invoice(invoice["id"], {"kind": "x", "amount": "ten",
                                                                "reason": " ", "request_key": "k-1"},
                                                "st_1"))
    assert set(both) == {"kind", "amount", "reason", "form"}      # every field at once
    assert both["reason"] == "Enter the reason."


def test_a_write_off_closes_what_cannot_be_collected_and_stops_payments(invoicing):
    proxy, engine, _ = invoicing
    invoice = sent_invoice(proxy)
    assert "write off at most that" in refused(
        lambda: adjust(proxy, invoice, "write_off", TOTAL + 1, "key-wo-00001"))["amount"]
    closed = adjust(proxy, invoice, "write_off", TOTAL, "key-wo-00001", "Uncollectible")
    assert (closed["status"], closed["balance"]) == ("closed", 0)
    assert proxy.list_payable_invoices("cl_1", "staff") == []
    hold = pytest.raises(RemoteError, proxy.hold_for_payment, "pay_9", "cl_1",
                         [{"invoice_id": invoice["id"], "amount": None}], "staff")
    assert hold.value.exc_type == "Conflict" and "nothing left to pay" in hold.value.value
    assert outbox(engine, "InvoicePaid") == []          # no money arrived


def test_a_write_off_of_the_rest_of_a_partly_paid_invoice_makes_it_paid(invoicing):
    proxy, engine, _ = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, 20000, "pay_1")
    done = adjust(proxy, invoice, "write_off", TOTAL - 20000, "key-wo-00002", "Small balance")
    assert (done["status"], done["balance"]) == ("paid", 0)
    assert outbox(engine, "InvoicePaid")[-1]["data"]["invoice_id"] == invoice["id"]


def test_a_credit_note_moves_what_was_paid_to_the_accounts_credit_which_pays_another(invoicing):
    proxy, engine, _ = invoicing
    first, second = sent_invoice(proxy), sent_invoice(proxy)
    pay(invoicing, first, TOTAL, "pay_1")
    noted = adjust(proxy, first, "credit_note", 4300, "key-cn-00001", "Session was 30 minutes")
    assert (noted["status"], noted["owed"], noted["amount_paid"]) == ("paid", 20000, 20000)
    assert proxy.financial_summary("cl_1")["credit"] == 4300
    # more than the credit, then twice with the same key: applied once
    assert "at most that" in refused(lambda: proxy.apply_credit(
        "cl_1", second["id"], 5000, "st_1", "key-ap-00001"))["amount"]
    paid = proxy.apply_credit("cl_1", second["id"], 4300, "st_1", "key-ap-00002")
    again = proxy.apply_credit("cl_1", second["id"], 4300, "st_1", "key-ap-00002")
    assert paid["balance"] == again["balance"] == TOTAL - 4300
    summary = proxy.financial_summary("cl_1")
    assert (summary["credit"], summary["balance"]) == (0, TOTAL - 4300)
    assert "no credit" in refused(lambda: proxy.apply_credit(
        "cl_1", second["id"], None, "st_1", "key-ap-00003"))["amount"]
    assert outbox(engine, "CreditApplied")[-1]["data"]["credit_left"]["amount"] == 0


def test_credit_left_by_a_payment_settles_an_invoice_in_full(invoicing):
    proxy, engine, _ = invoicing
    first, second = sent_invoice(proxy), sent_invoice(proxy)
    pay(invoicing, first, TOTAL, "pay_1", unapplied=TOTAL)
    settled = proxy.apply_credit("cl_1", second["id"], None, "st_1", "key-ap-00010")
    assert (settled["status"], settled["balance"]) == ("paid", 0)
    assert {e["data"]["invoice_id"] for e in outbox(engine, "InvoicePaid")} == \
        {first["id"], second["id"]}
    other = pytest.raises(RemoteError, proxy.apply_credit, "cl_2", first["id"], 100, "st_1",
                          "key-ap-00011")
    assert other.value.exc_type in ("InvalidInput", "InvalidFields")


def test_the_ledger_tells_every_movement_with_a_running_balance_and_aging(invoicing, tmp_path,
                                                                         monkeypatch):
    proxy, _, config = invoicing
    # due 100 days ago: past 90 (a due date may be at most a year back)
    old = sent_invoice(proxy, due_on=(clock.today() - timedelta(days=100)).isoformat())
    new = sent_invoice(proxy)
    pay(invoicing, old, 10000, "pay_1", unapplied=500)
    adjust(proxy, old, "write_off", 1000, "key-wo-00010", "Courtesy")
    proxy.hold_for_payment("pay_2", "cl_1", [{"invoice_id": new["id"], "amount": 3000}], "staff")
    event_dispatcher(config)("payments", "PaymentProcessing", processing("pay_2", {new["id"]: 3000}))
    wait_until(lambda: proxy.ledger("cl_1")["pending"] == 3000, what="the bank payment pending")
    ledger = proxy.ledger("cl_1")
    kinds = [(e["kind"], e["invoice_number"], e["amount"]) for e in ledger["entries"]]
    assert kinds == [("charge", old["number"], TOTAL), ("charge", new["number"], TOTAL),
                     ("payment", old["number"], 10000), ("credit", "", 500),
                     ("write_off", old["number"], 1000), ("pending", new["number"], 3000)]
    open_old = TOTAL - 10000 - 1000
    assert ledger["open_balance"] == open_old + TOTAL
    assert ledger["balance"] == ledger["entries"][-1]["running"] == open_old + TOTAL - 500
    aging = {row["bucket"]: row["amount"] for row in ledger["aging"]}
    assert aging == {"current": TOTAL, "31_60": 0, "61_90": 0, "over_90": open_old}
    # the business calendar moves: 45 days on, the new invoice is 31–60 days old
    offset = tmp_path / "clock"
    clock.advance(str(offset), 45)
    monkeypatch.setenv("CAIRN_CLOCK_OFFSET_FILE", str(offset))
    summary = proxy.financial_summary("cl_1")
    assert {row["bucket"]: row["amount"] for row in summary["aging"]}["31_60"] == TOTAL
    assert summary["ledger"]["entries"] == ledger["entries"]


def test_the_ledger_costs_the_same_sql_for_2_or_20_invoices(invoicing):
    from test_invoicing_reads import statements
    proxy, engine, _ = invoicing
    for n in range(20):
        invoice = sent_invoice(proxy, client_id="cl_1" if n >= 2 else "cl_2")
        adjust(proxy, invoice, "write_off", 100, f"key-wo-{n:05d}")
    url = engine.url.render_as_string(hide_password=False)
    with statements(url) as few:
        assert len(proxy.ledger("cl_2")["entries"]) == 4
    with statements(url) as many:
        assert len(proxy.ledger("cl_1")["entries"]) == 36
    assert len(many) == len(few) == 2, many


def test_an_adjustment_to_a_finalized_unsent_invoice_leaves_it_open(invoicing):
    proxy, _, _ = invoicing
    invoice = proxy.create_invoice({**PAYLOAD, "finalize": True}, "st_1")
    assert invoice["status"] == "open"
    assert adjust(proxy, invoice, "adjustment", -100, "key-open-0001")["status"] == "open"
    assert adjust(proxy, invoice, "write_off", TOTAL - 100, "key-open-0002")["status"] == "closed"
    assert adjust(proxy, invoice, "adjustment", 500, "key-open-0003")["status"] == "open"
