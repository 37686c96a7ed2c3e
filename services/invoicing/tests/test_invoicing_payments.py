"""Invoicing's side of taking money: holds for payments in flight (checked
balances, no void or edit meanwhile), payments over several invoices with a
credit left over, bank payments pending then returned, refunds that reopen a
balance, and refunds that fail later."""
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher

from tests.support.processes import wait_until

from invoicing_testkit import (
    PAYLOAD, captured, failed, outbox, processing, refund_failed, refunded,
)

TOTAL = 24300   # PAYLOAD: $270.00 less 10 %


def sent_invoice(proxy, client_id="cl_1"):
    invoice = proxy.create_invoice({**PAYLOAD, "client_id": client_id}, "st_1")
    proxy.send_invoice(invoice["id"], "email", "st_1")
    return invoice


def refused(call) -> RemoteError:
    with pytest.raises(RemoteError) as error:
        call()
    return error.value


def test_a_hold_takes_what_is_due_and_stops_a_second_payment_void_and_edit(invoicing):
    proxy, _, _ = invoicing
    invoice = sent_invoice(proxy)
    held = proxy.hold_for_payment("pay_1", "cl_1", [{"invoice_id": invoice["id"], "amount": None}],
                                  "pay_link")
    assert held == {"currency": "usd",
                    "allocations": [{"invoice_id": invoice["id"], "amount": TOTAL, "due": TOTAL,
                                     "invoice_number": invoice["number"]}]}
    assert proxy.hold_for_payment("pay_1", "cl_1", [{"invoice_id": invoice["id"], "amount": None}],
                                  "pay_link") == held                       # asking again: same answer
    view = proxy.get_invoice(invoice["id"])
    assert (view["held"], view["available"], view["balance"]) == (TOTAL, 0, TOTAL)
    second = refused(lambda: proxy.hold_for_payment(
        "pay_2", "cl_1", [{"invoice_id": invoice["id"], "amount": 100}], "portal"))
    assert second.exc_type == "Conflict" and "already in progress" in second.value
    for call, verb in [(lambda: proxy.void_invoice(invoice["id"], "st_1", "Entered twice"), "void"),
                       (lambda: proxy.update_invoice(invoice["id"], PAYLOAD, "st_1"), "edit")]:
        error = refused(call)
        assert error.exc_type == "InvalidInput"
        assert "A payment of $243.00 is being processed" in error.value and verb in error.value
    assert proxy.list_payable_invoices("cl_1", "portal") == []


@pytest.mark.parametrize("wanted, channel, code, words", [
    ({"amount": 24301}, "portal", "InvalidInput", "has $243.00 due; enter at most that"),
    ({"client": "cl_2"}, "portal", "InvalidInput", "not on this account"),
    ({"draft": True}, "portal", "InvalidInput", "has not been sent yet"),
    ({"void": True}, "staff", "Conflict", "is void"),
])
def test_a_hold_that_would_break_a_rule_is_refused_and_holds_nothing(invoicing, wanted, channel,
                                                                    code, words):
    proxy, engine, _ = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    if not wanted.get("draft"):
        proxy.send_invoice(invoice["id"], "email", "st_1")
    if wanted.get("void"):
        proxy.void_invoice(invoice["id"], "st_1", "Entered twice")
    error = refused(lambda: proxy.hold_for_payment(
        "pay_x", wanted.get("client", "cl_1"),
        [{"invoice_id": invoice["id"], "amount": wanted.get("amount")}], channel))
    assert (error.exc_type, words in error.value) == (code, True), error.value
    with engine.connect() as connection:
        assert connection.exec_driver_sql("select count(*) from payment_holds").scalar() == 0


def test_staff_may_collect_on_a_draft_and_partly(invoicing):
    proxy, _, _ = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    held = proxy.hold_for_payment("pay_1", "cl_1", [{"invoice_id": invoice["id"], "amount": 5000}],
                                  "staff")
    assert held["allocations"][0]["amount"] == 5000


def test_one_payment_over_two_invoices_with_credit_left_on_the_account(invoicing):
    proxy, engine, config = invoicing
    first, second = sent_invoice(proxy), sent_invoice(proxy)
    shares = {first["id"]: TOTAL, second["id"]: 4300}
    proxy.hold_for_payment("pay_1", "cl_1", [{"invoice_id": i, "amount": a} for i, a in shares.items()],
                           "staff")
    event_dispatcher(config)("payments", "PaymentCaptured", captured("pay_1", shares, unapplied=2500))
    wait_until(lambda: proxy.get_invoice(second["id"])["amount_paid"] == 4300, what="applied")
    summary = proxy.financial_summary("cl_1")
    by_id = {i["id"]: i for i in summary["invoices"]}
    assert by_id[first["id"]]["status"] == "paid" and by_id[second["id"]]["status"] == "partially_paid"
    assert (summary["credit"], summary["balance"]) == (2500, TOTAL - 4300)
    assert by_id[first["id"]]["held"] == by_id[second["id"]]["held"] == 0   # holds released
    assert [e["data"]["invoice_id"] for e in outbox(engine, "InvoicePaid")] == [first["id"]]


def test_a_bank_payment_is_pending_then_returned_and_the_balance_reopens(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    shares = {invoice["id"]: TOTAL}
    proxy.hold_for_payment("pay_ach", "cl_1", [{"invoice_id": invoice["id"], "amount": None}],
                           "portal")
    dispatch = event_dispatcher(config)
    dispatch("payments", "PaymentProcessing", processing("pay_ach", shares))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["pending"] == TOTAL, what="pending shown")
    view = proxy.get_invoice(invoice["id"])
    assert (view["status"], view["amount_paid"], view["available"]) == ("sent", 0, 0)
    dispatch("payments", "PaymentFailed", failed("pay_ach", shares, after_processing=True,
                                                 code="insufficient_funds"))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["available"] == TOTAL, what="reopened")
    history = [a["what"] for a in proxy.get_invoice(invoice["id"])["activity"]]
    assert any("Bank payment returned (insufficient_funds)" in what for what in history)


def test_a_hold_asked_for_after_its_payment_ended_is_refused(invoicing):
    """The hold request timed out at payments, which failed the payment; the
    request then arrives late: it must not hold the invoice for ever."""
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    event_dispatcher(config)("payments", "PaymentFailed", failed("pay_late", {invoice["id"]: TOTAL}))
    wait_until(lambda: any("Payment attempt failed" in a["what"]
                           for a in proxy.get_invoice(invoice["id"])["activity"]), what="failure noted")
    error = refused(lambda: proxy.hold_for_payment(
        "pay_late", "cl_1", [{"invoice_id": invoice["id"], "amount": None}], "portal"))
    assert error.exc_type == "Conflict"
    assert proxy.get_invoice(invoice["id"])["available"] == TOTAL


def test_a_refund_reopens_the_balance_and_a_failed_refund_restores_it(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    dispatch = event_dispatcher(config)
    dispatch("payments", "PaymentCaptured", captured("pay_1", {invoice["id"]: TOTAL}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid", what="paid")
    dispatch("payments", "PaymentRefunded", refunded("rf_1", "pay_1", 4300, invoice["id"]))
    dispatch("payments", "PaymentRefunded", refunded("rf_1", "pay_1", 4300, invoice["id"]))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["balance"] == 4300, what="reopened")
    assert proxy.get_invoice(invoice["id"])["status"] == "partially_paid"
    dispatch("payments", "RefundFailed", refund_failed("rf_1", "pay_1", 4300, invoice["id"]))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid", what="paid again")
    assert proxy.get_invoice(invoice["id"])["amount_paid"] == TOTAL


def test_a_full_refund_lets_the_invoice_be_voided(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    dispatch = event_dispatcher(config)
    dispatch("payments", "PaymentCaptured", captured("pay_1", {invoice["id"]: TOTAL}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid", what="paid")
    dispatch("payments", "PaymentRefunded", refunded("rf_1", "pay_1", TOTAL, invoice["id"]))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "sent", what="unpaid again")
    assert proxy.void_invoice(invoice["id"], "st_1", "Entered twice")["status"] == "void"


def test_a_refund_from_the_credit_shrinks_it(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    dispatch = event_dispatcher(config)
    dispatch("payments", "PaymentCaptured", captured("pay_1", {invoice["id"]: TOTAL}, unapplied=1000))
    wait_until(lambda: proxy.financial_summary("cl_1")["credit"] == 1000, what="credit")
    dispatch("payments", "PaymentRefunded", refunded("rf_c", "pay_1", 600))
    wait_until(lambda: proxy.financial_summary("cl_1")["credit"] == 400, what="credit refunded")


def test_a_retry_releases_the_hold_of_an_attempt_payments_says_has_failed(invoicing):
    """The decline's PaymentFailed has not reached invoicing yet when the
    payer tries another card: payments names the failed attempt, and its
    hold goes (and stays gone when the event arrives)."""
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    wanted = [{"invoice_id": invoice["id"], "amount": None}]
    proxy.hold_for_payment("pay_declined", "cl_1", wanted, "pay_link")
    held = proxy.hold_for_payment("pay_retry", "cl_1", wanted, "pay_link", ["pay_declined"])
    assert held["allocations"][0]["amount"] == TOTAL
    event_dispatcher(config)("payments", "PaymentFailed", failed("pay_declined", {invoice["id"]: TOTAL}))
    wait_until(lambda: any("Payment attempt failed" in a["what"]
                           for a in proxy.get_invoice(invoice["id"])["activity"]), what="noted")
    assert proxy.get_invoice(invoice["id"])["held"] == TOTAL        # the retry's hold stands


def handled(engine, event_id) -> bool:
    with engine.connect() as connection:
        return bool(connection.exec_driver_sql(
            "select 1 from processed_events where event_id = %(id)s", {"id": event_id}).first())


def test_a_refund_failure_that_overtakes_the_refund_leaves_the_balance_alone(invoicing):
    """RefundFailed and PaymentRefunded travel on different queues; if the
    failure comes first, the late refund must not reopen the balance."""
    proxy, engine, config = invoicing
    invoice = sent_invoice(proxy)
    dispatch = event_dispatcher(config)
    dispatch("payments", "PaymentCaptured", captured("pay_1", {invoice["id"]: TOTAL}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid", what="paid")
    dispatch("payments", "RefundFailed", refund_failed("rf_late", "pay_1", 4300, invoice["id"]))
    wait_until(lambda: any("failed" in a["what"] and "Refund" in a["what"]
                           for a in proxy.get_invoice(invoice["id"])["activity"]), what="noted")
    late = refunded("rf_late", "pay_1", 4300, invoice["id"])
    dispatch("payments", "PaymentRefunded", late)
    wait_until(lambda: handled(engine, late["id"]), what="the late refund handled")
    view = proxy.get_invoice(invoice["id"])
    assert (view["status"], view["amount_paid"]) == ("paid", TOTAL)


def test_a_hold_and_the_failure_it_overtakes_do_not_deadlock(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    wanted = [{"invoice_id": invoice["id"], "amount": None}]
    for n in range(5):
        proxy.hold_for_payment(f"pay_try{n}", "cl_1", wanted, "portal",
                               [f"pay_try{n - 1}"] if n else [])
        if n:   # the earlier try's PaymentFailed races the next hold
            event_dispatcher(config)("payments", "PaymentFailed",
                                     failed(f"pay_try{n - 1}", {invoice["id"]: TOTAL}))
    wait_until(lambda: sum(1 for a in proxy.get_invoice(invoice["id"])["activity"]
                           if "Payment attempt failed" in a["what"]) == 4, what="all failures")
    assert proxy.get_invoice(invoice["id"])["held"] == TOTAL          # the last try holds it


def test_payments_can_release_a_failed_attempts_hold_at_once(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    proxy.hold_for_payment("pay_declined", "cl_1", [{"invoice_id": invoice["id"], "amount": None}],
                           "pay_link")
    proxy.release_hold("pay_declined")
    assert proxy.get_invoice(invoice["id"])["available"] == TOTAL
    event_dispatcher(config)("payments", "PaymentFailed", failed("pay_declined", {invoice["id"]: TOTAL}))
    wait_until(lambda: any("Payment attempt failed" in a["what"]
                           for a in proxy.get_invoice(invoice["id"])["activity"]), what="noted")
    assert proxy.get_invoice(invoice["id"])["available"] == TOTAL
    assert proxy.release_hold("pay_unknown") == {"released": "pay_unknown"}
