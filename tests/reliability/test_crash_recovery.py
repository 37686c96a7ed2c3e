"""A consumer killed mid-stream (SIGKILL: no clean shutdown, unacked
messages) loses nothing and applies nothing twice once it is back."""
import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.support.processes import wait_until

pytestmark = [pytest.mark.slow, pytest.mark.integration]

INVOICES = 30
PAYLOAD = {"client_id": "cl_demo_avery", "location_id": "loc_main", "payment_type": "private_pay",
           "lines": [{"service_code": "90834", "units": 1}, {"service_code": "90853", "units": 1}]}


def test_invoicing_killed_while_payments_flow_applies_each_payment_exactly_once(cairn):
    with ClusterRpcProxy({"AMQP_URI": cairn.stack.env["CAIRN_AMQP_URI"]}) as rpc:
        invoices = [rpc.invoicing.create_invoice(PAYLOAD, "st_demo_frontdesk") for _ in range(INVOICES)]
        for invoice in invoices:
            rpc.invoicing.send_invoice(invoice["id"], "portal", "st_demo_frontdesk")
        links = [rpc.payments.issue_payment_link(i["id"], i["client_id"], f"crash-{i['id']}")
                 for i in invoices]
        for n, link in enumerate(links):
            assert rpc.payments.pay_with_link(link["token"], "pm_card_visa")["status"] == "succeeded"
            if n in (INVOICES // 3, 2 * INVOICES // 3):
                # a crash with captures still queued or half-handled; payments'
                # own calls to invoicing wait on the durable RPC queue meanwhile
                cairn.stack.kill("invoicing")
                cairn.stack.restart("invoicing")

        def all_paid():
            rows = cairn.sql("invoicing", "select status, amount_paid, total from invoices "
                             "where id = any(:ids)", ids=[i["id"] for i in invoices])
            return rows if all(r.status == "paid" for r in rows) else None
        rows = wait_until(all_paid, timeout=90, what="every invoice to be paid after the restart")
    assert all(r.amount_paid == r.total == 21000 for r in rows)       # nothing applied twice
    paid_events = cairn.sql("invoicing", "select count(*) as n from outbox where event_type = 'InvoicePaid' "
                            "and envelope like any(:ids)", ids=[f"%{i['id']}%" for i in invoices])
    assert paid_events[0].n == INVOICES
