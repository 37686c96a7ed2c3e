"""A refund is taken off the credit, or off what is paid on an invoice, when
payments asks (before Stripe): a second refund, credit applied or a credit
note in the seconds before PaymentRefunded arrives finds the money gone."""
import pytest
from nameko.exceptions import RemoteError
from nameko.standalone.events import event_dispatcher


from tests.support.processes import wait_until

from invoicing_testkit import captured, refund_failed, refunded
from test_invoicing_adjustments import TOTAL, adjust, pay, refused, sent_invoice
from test_invoicing_payments import handled


def credit(proxy):
    return proxy.financial_summary("cl_1")["credit"]


def test_credit_reserved_for_a_refund_cannot_also_pay_an_invoice(invoicing):
    proxy, engine, config = invoicing
    first, second = sent_invoice(proxy), sent_invoice(proxy)
    pay(invoicing, first, TOTAL, "pay_1", unapplied=5000)
    wait_until(lambda: credit(proxy) == 5000, what="credit")
    assert proxy.reserve_refund("rf_a", "cl_1", None, "pay_1", 5000)["reserved"] is True
    assert proxy.reserve_refund("rf_a", "cl_1", None, "pay_1", 5000)["reserved"] is True  # same id
    assert credit(proxy) == 0
    assert "no credit" in refused(lambda: proxy.apply_credit(
        "cl_1", second["id"], 5000, "st_1", "key-ap-r0001"))["amount"]
    event = refunded("rf_a", "pay_1", 5000)
    event_dispatcher(config)("payments", "PaymentRefunded", event)
    wait_until(lambda: handled(engine, event["id"]), what="the refund confirmed")
    assert credit(proxy) == 0                        # confirmed, not taken twice


def test_two_refunds_of_the_same_paid_money_pass_only_once(invoicing):
    proxy, _, config = invoicing
    invoice = sent_invoice(proxy)
    half = TOTAL // 2
    event_dispatcher(config)("payments", "PaymentCaptured",
                             captured("pay_1", {invoice["id"]: half}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] == half, what="P1")
    event_dispatcher(config)(
        "payments", "PaymentCaptured", captured("pay_2", {invoice["id"]: TOTAL - half}))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] == TOTAL, what="P2")
    adjust(proxy, invoice, "credit_note", TOTAL - half, "key-cn-r0001")
    assert proxy.get_invoice(invoice["id"])["amount_paid"] == half
    assert proxy.reserve_refund("rf_1", "cl_1", invoice["id"], "pay_1", half)["reserved"]
    second = proxy.reserve_refund("rf_2", "cl_1", invoice["id"], "pay_2", half)
    assert (second["reserved"], second["room"]) == (False, 0)
    assert proxy.get_invoice(invoice["id"])["amount_paid"] == 0
    # what the credit note moved is refundable once, from the credit
    assert proxy.reserve_refund("rf_3", "cl_1", None, "pay_2", TOTAL - half)["reserved"]
    assert proxy.reserve_refund("rf_4", "cl_1", None, "pay_2", 1)["reserved"] is False


def test_a_credit_note_after_a_refund_does_not_credit_the_refunded_money(invoicing):
    proxy, _, _ = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1")
    assert proxy.reserve_refund("rf_1", "cl_1", invoice["id"], "pay_1", 4300)["reserved"]
    noted = adjust(proxy, invoice, "credit_note", 4300, "key-cn-r0002")
    assert noted["amount_paid"] == TOTAL - 4300 and credit(proxy) == 0


def test_a_refused_refund_is_released_once_and_a_late_failure_changes_nothing(invoicing):
    proxy, engine, config = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1", unapplied=1000)
    wait_until(lambda: credit(proxy) == 1000, what="credit")
    proxy.reserve_refund("rf_i", "cl_1", invoice["id"], "pay_1", 4300)
    proxy.reserve_refund("rf_c", "cl_1", None, "pay_1", 600)
    assert (proxy.get_invoice(invoice["id"])["amount_paid"], credit(proxy)) == (TOTAL - 4300, 400)
    for _ in range(2):
        proxy.release_refund("rf_i")
        proxy.release_refund("rf_c")
    assert (proxy.get_invoice(invoice["id"])["amount_paid"], credit(proxy)) == (TOTAL, 1000)
    assert proxy.get_invoice(invoice["id"])["status"] == "paid"
    dispatch = event_dispatcher(config)
    for event in (refund_failed("rf_i", "pay_1", 4300, invoice["id"]),
                  refund_failed("rf_c", "pay_1", 600)):
        dispatch("payments", "RefundFailed", event)
        wait_until(lambda: handled(engine, event["id"]), what="the failure handled")
    assert (proxy.get_invoice(invoice["id"])["amount_paid"], credit(proxy)) == (TOTAL, 1000)


def test_a_reserved_refund_that_stripe_later_fails_comes_back_once(invoicing):
    proxy, engine, config = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1")
    proxy.reserve_refund("rf_1", "cl_1", invoice["id"], "pay_1", 4300)
    dispatch = event_dispatcher(config)
    ok = refunded("rf_1", "pay_1", 4300, invoice["id"])
    dispatch("payments", "PaymentRefunded", ok)
    wait_until(lambda: handled(engine, ok["id"]), what="confirmed")
    assert proxy.get_invoice(invoice["id"])["amount_paid"] == TOTAL - 4300
    dispatch("payments", "RefundFailed", refund_failed("rf_1", "pay_1", 4300, invoice["id"]))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["amount_paid"] == TOTAL, what="back")


def test_a_refund_stripe_refused_before_accepting_it_puts_the_reservation_back(invoicing):
    proxy, engine, config = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1", unapplied=1000)
    wait_until(lambda: credit(proxy) == 1000, what="credit")
    proxy.reserve_refund("rf_i", "cl_1", invoice["id"], "pay_1", 4300)
    proxy.reserve_refund("rf_c", "cl_1", None, "pay_1", 600)
    dispatch = event_dispatcher(config)
    for event in (refund_failed("rf_i", "pay_1", 4300, invoice["id"]),
                  refund_failed("rf_c", "pay_1", 600), refund_failed("rf_never", "pay_1", 900)):
        event["data"]["accepted"] = False
        dispatch("payments", "RefundFailed", event)
        wait_until(lambda: handled(engine, event["id"]), what="the refusal handled")
    assert (proxy.get_invoice(invoice["id"])["amount_paid"], credit(proxy)) == (TOTAL, 1000)


# ---- voiding an invoice money stayed on (b8-fixrefunds) ----
def test_a_credit_noted_invoice_cannot_be_voided_so_its_credit_stays_on_statements(invoicing):
    proxy, _, _ = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1")
    noted = adjust(proxy, invoice, "credit_note", TOTAL, "key-cn-r0003")
    assert (noted["amount_paid"], credit(proxy)) == (0, TOTAL)
    with pytest.raises(RemoteError) as error:
        proxy.void_invoice(invoice["id"], "st_1", "Entered twice")
    assert error.value.exc_type == "InvalidInput"
    assert "payments or adjustments on record; use an adjustment or credit note instead" in \
        error.value.value
    assert proxy.get_invoice(invoice["id"])["status"] != "void"


def test_an_invoice_whose_payments_were_all_refunded_can_still_be_voided(invoicing):
    proxy, engine, config = invoicing
    invoice = sent_invoice(proxy)
    pay(invoicing, invoice, TOTAL, "pay_1")
    proxy.reserve_refund("rf_1", "cl_1", invoice["id"], "pay_1", TOTAL)
    assert proxy.void_invoice(invoice["id"], "st_1", "Entered twice")["status"] == "void"


def test_an_invoice_pdf_holds_no_transaction_open_while_it_asks_clients(invoicing):
    from sqlalchemy import text
    from invoicing_testkit import FakeClients
    proxy, engine, _ = invoicing
    invoice = sent_invoice(proxy)
    seen: list = []

    def idle_in_transaction():
        with engine.connect() as connection:
            seen.append(connection.execute(text(
                "select count(*) from pg_stat_activity where datname = current_database() "
                "and state like 'idle in transaction%' and pid <> pg_backend_pid() "
                "and query ilike '%from invoice%' and query not ilike '%statement_run%' "
                "and query not ilike '%outbox%'")).scalar())   # the PDF's reads, not a timer's

    FakeClients.probe = idle_in_transaction
    try:
        assert proxy.invoice_pdf(invoice["id"])["pdf_base64"]
    finally:
        FakeClients.probe = None
    assert seen == [0]


def test_the_same_statement_form_sent_twice_issues_one_statement(invoicing):
    from datetime import date
    from invoicing_testkit import outbox
    proxy, engine, _ = invoicing
    sent_invoice(proxy)
    today = date.today()
    start, end = today.replace(day=1).isoformat(), today.isoformat()
    first = proxy.issue_statement("cl_1", start, end, "st_1", "stmt-key-0001")
    again = proxy.issue_statement("cl_1", start, end, "st_1", "stmt-key-0001")
    assert first["id"] == again["id"]
    assert len(outbox(engine, "StatementIssued")) == 1          # one statement, one email
    other = proxy.issue_statement("cl_1", start, end, "st_1", "stmt-key-0002")
    assert other["id"] != first["id"]
