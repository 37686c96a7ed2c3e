"""The staff invoice form end to end: every problem shown at once next to its
field, in words a front desk uses, nothing saved; a seventh line is kept;
"Add another line" works without JavaScript; an invoice for someone with no
email address is not "sent" by email; voiding asks for a reason first."""
import re

import pytest
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.test_invoice_flow import create_invoice
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

NO_EMAIL = "cl_demo_ellis"     # a child with no email address of their own


def counts(cairn):
    return (cairn.sql("invoicing", "select count(*) as n from invoices")[0].n,
            cairn.sql("invoicing", "select count(*) as n from outbox")[0].n)


def field_error(html: str, field: str) -> str | None:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]+)</p>', html)
    return found.group(1) if found else None


def test_every_problem_is_shown_next_to_its_field_at_once_and_nothing_is_saved(cairn):
    staff = cairn.staff()
    before = counts(cairn)
    csrf = staff.csrf("/staff/clients/cl_demo_sam/invoices/new")
    response = staff.post("/staff/clients/cl_demo_sam/invoices", data={
        "csrf": csrf, "location_id": "", "payment_type": "", "diagnosis_codes": "F32.1, sad",
        "discount_kind": "percent", "discount_value": "ten",
        "line1_service": "90834", "line1_units": "1", "line1_discount": "151.00",
        "line2_service": "", "line2_price": "20",
        "line3_service": "90853", "line3_units": "x", "action": "finalize"})
    assert response.status_code == 400
    html = response.text
    assert field_error(html, "location_id") == "Pick a location."
    assert field_error(html, "payment_type") == "Choose a payment type."
    assert "is not an ICD-10 code" in field_error(html, "diagnosis_codes")
    assert field_error(html, "discount_value") == "Enter the discount as a percentage like 10 or 12.5."
    assert field_error(html, "line1_discount") == "The discount on line 1 is more than the line ($150.00)."
    assert field_error(html, "line2_service") == "Choose a service on line 2."
    assert field_error(html, "line3_units") == "Enter units from 1 to 999 on line 3."
    assert "There are 7 problems" in html and 'aria-describedby="payment_type-error"' in html
    assert "payment_type is required" not in html and "loc_" not in html.split("<form")[0]
    assert counts(cairn) == before


def test_a_seventh_line_is_kept_and_another_is_added_without_javascript(cairn):
    staff = cairn.staff()
    csrf = staff.csrf("/staff/clients/cl_demo_sam/invoices/new")
    form = {"csrf": csrf, "location_id": "loc_main", "payment_type": "private_pay"}
    for row in range(1, 8):
        form.update({f"line{row}_service": "90853", f"line{row}_units": "1"})
    more = staff.post("/staff/clients/cl_demo_sam/invoices", data={**form, "add_line": "1"})
    assert more.status_code == 200 and 'name="line8_service"' in more.text
    assert "Alex Rivera, LCSW" in more.text                    # the demo clinic's provider
    invoice_id = create_invoice(staff, "cl_demo_sam", **{k: v for k, v in form.items() if k != "csrf"},
                                discount_kind="none", discount_value="", action="finalize",
                                provider_id="prv_demo_rivera", diagnosis_codes="f32.1 F41.1")
    page = staff.get(f"/staff/invoices/{invoice_id}").text
    assert page.count("90853 ·") == 7 and "$420.00" in page      # 7 × $60.00
    assert "Provider: Alex Rivera, LCSW" in page and "Diagnoses: F32.1, F41.1" in page
    assert re.search(r'data-testid="invoice-status">Open<', page)


def test_send_by_email_to_someone_without_an_address_says_so_and_records_nothing(cairn):
    staff = cairn.staff()
    invoice_id = create_invoice(staff, NO_EMAIL, discount_kind="none", discount_value="")
    events = cairn.sql("invoicing", "select count(*) as n from outbox where event_type = 'InvoiceSent'")[0].n
    csrf = staff.csrf(f"/staff/invoices/{invoice_id}")
    response = staff.post(f"/staff/invoices/{invoice_id}/send", data={"channel": "email", "csrf": csrf})
    assert "Ellis Reyes has no email address. Add one on the" in response.text
    assert "post the invoice to the portal" in response.text
    assert re.search(r'data-testid="invoice-status">Draft<', response.text)
    assert cairn.sql("invoicing", "select count(*) as n from outbox where event_type = 'InvoiceSent'")[0].n == events
    assert "Sent by email" not in response.text


def test_voiding_asks_for_a_reason_on_a_confirmation_page(cairn):
    staff = cairn.staff()
    invoice_id = create_invoice(staff, "cl_demo_sam")
    confirm = staff.get(f"/staff/invoices/{invoice_id}/void")
    assert confirm.status_code == 200 and "Why is it being voided?" in confirm.text
    csrf = staff.csrf(f"/staff/invoices/{invoice_id}/void")
    refused = staff.post(f"/staff/invoices/{invoice_id}/void", data={"csrf": csrf, "reason": "  "})
    assert refused.status_code == 400
    assert field_error(refused.text, "reason") == "Enter why this invoice is being voided."
    done = staff.post(f"/staff/invoices/{invoice_id}/void", data={"csrf": csrf, "reason": "Entered twice"})
    assert "Invoice voided." in done.text and "Voided: Entered twice" in done.text


def test_a_catalog_change_reaches_the_invoice_form_at_once(cairn):
    """The gateway keeps the catalog; CatalogChanged (a broadcast) drops it,
    even when the change was not made through this gateway."""
    staff = cairn.staff()
    page = "/staff/clients/cl_demo_sam/invoices/new"
    assert "H2019" not in staff.get(page).text          # the catalog is now cached
    with ClusterRpcProxy({"AMQP_URI": cairn.stack.env["CAIRN_AMQP_URI"]}) as rpc:
        rpc.invoicing.save_service({"code": "H2019", "description": "Dialectical behavior therapy",
                                    "fee": 4500, "location_fees": {"loc_main": 4000}}, "st_demo_admin")
    wait_until(lambda: "H2019 · Dialectical behavior therapy" in staff.get(page).text,
               timeout=10, what="the new service on the invoice form")
    assert "data-fees='{\"loc_main\": 4000}'" in staff.get(page).text
