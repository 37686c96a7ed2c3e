"""Bad input gets a clear 4xx / RPC error naming the problem, writes nothing
and emits nothing."""
import re

import pytest
import requests
from nameko.exceptions import RemoteError
from nameko.standalone.rpc import ClusterRpcProxy

from servicekit.errors import InvalidFields

from tests.integration.test_invoice_flow import (
    INVOICE_FORM, Payer, create_invoice, invoice_email, links_in, send_by_email,
)

pytestmark = pytest.mark.integration


def counts(cairn):
    invoices = cairn.sql("invoicing", "select count(*) as n from invoices")[0].n
    events = cairn.sql("invoicing", "select count(*) as n from outbox")[0].n
    return invoices, events


@pytest.fixture
def rpc(cairn):
    with ClusterRpcProxy({"AMQP_URI": cairn.stack.env["CAIRN_AMQP_URI"]}) as proxy:
        yield proxy


@pytest.mark.parametrize("change, message", [
    ({"line1_service": "", "line2_service": ""}, "Add at least one service."),
    ({"discount_value": "100.5"}, "A percentage discount cannot be over 100 %."),
    ({"discount_kind": "fixed", "discount_value": "1000.00"},
     "The discount is more than the invoice ($270.00)."),
    ({"discount_value": "ten"}, "Enter the discount as a percentage like 10 or 12.5."),
    ({"line1_units": "-1"}, "Enter units from 1 to 999 on line 1."),
    ({"line1_units": "1.5"}, "Enter units from 1 to 999 on line 1."),
    ({"line1_units": "²"}, "Enter units from 1 to 999 on line 1."),
    ({"line1_price": "999999999"}, "The price on line 1 can be at most $999,999.99."),
    ({"line1_price": "-5"}, "Enter the price on line 1 as an amount like 150.00."),
    ({"line1_service": "99999"}, "The service 99999 on line 1 is not in the catalog."),
    ({"line2_discount": "121.00"}, "The discount on line 2 is more than the line ($120.00)."),
    ({"location_id": "loc_nowhere"}, "Pick a location from the list"),
    ({"payment_type": "barter"}, "Choose a payment type."),
    ({"memo": "see me\x00"}, "The note contains characters that cannot be saved"),
    ({"diagnosis_codes": "F32.1, depression"}, "is not an ICD-10 code"),
])
def test_invoice_form_refuses_bad_input_and_writes_nothing(cairn, change, message):
    staff = cairn.staff()
    before = counts(cairn)
    csrf = staff.csrf("/staff/clients/cl_demo_sam/invoices/new")
    response = staff.post("/staff/clients/cl_demo_sam/invoices", data={**INVOICE_FORM, **change, "csrf": csrf})
    assert response.status_code == 400
    assert message in response.text
    assert counts(cairn) == before


def test_unknown_client_is_a_404(cairn):
    response = cairn.staff().get("/staff/clients/cl_nobody/financial")
    assert response.status_code == 404 and "client cl_nobody not found" in response.text


def test_form_without_csrf_token_is_refused(cairn):
    staff = cairn.staff()
    before = counts(cairn)
    response = staff.post("/staff/clients/cl_demo_sam/invoices", data=INVOICE_FORM)
    assert response.status_code == 403
    assert counts(cairn) == before


def test_staff_pages_need_sign_in(cairn):
    response = requests.get(f"{cairn.url}/staff/clients/cl_demo_sam/financial", timeout=10,
                            allow_redirects=False)
    assert response.status_code == 303 and response.headers["Location"] == "/staff/login"


@pytest.mark.parametrize("payload, message", [
    ({"lines": [{"service_code": "90834", "units": 1, "unit_price": -500}]},
     "Enter the price on line 1 as an amount like 150.00."),
    ({"lines": [{"service_code": "90834", "units": 1, "unit_price": 12.5}]},
     "Enter the price on line 1 as an amount like 150.00."),
    ({"lines": [{"service_code": "90834", "units": "2"}]}, "Enter units from 1 to 999 on line 1."),
    ({"lines": []}, "Add at least one service."),
    ({"discount": {"kind": "percent", "value": 10_001}}, "cannot be over 100 %"),
    ({"discount": {"kind": "fixed", "value": 15_001}}, "The discount is more than the invoice ($150.00)."),
    ({"discount": {"kind": "fixed", "value": -1}}, "Enter the discount as a percentage like 10"),
    ({"client_id": "cl_nobody"}, "This client or account was not found."),
])
def test_rpc_refuses_bad_invoices_field_by_field(cairn, rpc, payload, message):
    before = counts(cairn)
    good = {"client_id": "cl_demo_sam", "location_id": "loc_main", "payment_type": "copay",
            "lines": [{"service_code": "90834", "units": 1}]}
    with pytest.raises(InvalidFields) as refused:
        rpc.invoicing.create_invoice({**good, **payload}, "st_demo_frontdesk")
    assert message in str(refused.value)
    assert counts(cairn) == before


def test_unknown_invoice_is_not_found(rpc):
    with pytest.raises(RemoteError) as error:
        rpc.invoicing.send_invoice("inv_nope", "email", "st_demo_frontdesk")
    assert error.value.exc_type == "NotFound"


def test_tampered_and_expired_pay_links(cairn):
    staff = cairn.staff()
    invoice_id = create_invoice(staff, client_id="cl_demo_sam")
    number = re.search(r"Invoice (INV-\d{6})", staff.get(f"/staff/invoices/{invoice_id}").text).group(1)
    send_by_email(staff, invoice_id)
    link = links_in(invoice_email(cairn, number))["pay"]

    tampered = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    payer = Payer()
    payer.page(link)                                    # a real form's CSRF token
    for bad in (tampered, link.rsplit(".", 1)[0], cairn.url + "/pay/nonsense",
                cairn.url + "/pay/%C3%BCml%C3%A4ut.t%C3%B6k%C3%A9n"):
        response = requests.get(bad, timeout=10)
        assert response.status_code == 404 and "not valid" in response.text
        paid = payer.post(bad, data={"payment_method": "pm_card_visa", "csrf": payer.csrf}, timeout=10)
        assert paid.status_code == 404
    assert not cairn.sql("payments", "select payment_id from payment_allocations "
                         "where invoice_id = :id", id=invoice_id)
    forged = payer.post(link, data={"payment_method": "pm_card_visa", "csrf": "ñöt-the-tökén"},
                        timeout=10)
    assert forged.status_code == 403 and "expired" in forged.text

    engine_rows = cairn.sql("payments", "select id from payment_links where invoice_id = :id", id=invoice_id)
    from sqlalchemy import create_engine, text
    engine = create_engine(cairn.database_urls["payments"])
    with engine.begin() as connection:
        connection.execute(text("update payment_links set expires_at = now() - interval '1 minute' "
                                "where id = :id"), {"id": engine_rows[0].id})
    engine.dispose()
    expired = requests.get(link, timeout=10)
    assert expired.status_code == 410 and "expired" in expired.text
    refused = payer.pay(link, "pm_card_visa")
    assert refused.status_code == 410
    assert cairn.sql("invoicing", "select amount_paid from invoices where id = :id", id=invoice_id)[0].amount_paid == 0


def test_webhook_with_a_bad_signature_is_rejected(cairn):
    response = requests.post(f"{cairn.url}/webhooks/stripe", data='{"id": "evt_forged"}',
                             headers={"Stripe-Signature": "t=1,v1=deadbeef"}, timeout=10)
    assert response.status_code == 400
    assert cairn.sql("payments", "select count(*) as n from stripe_events where id = 'evt_forged'")[0].n == 0
