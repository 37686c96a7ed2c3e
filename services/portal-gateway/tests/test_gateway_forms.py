"""What people type into forms becomes exact cents and basis points."""
import pytest
from werkzeug.datastructures import MultiDict

from portal_gateway.forms import basis_points, cents, form_from_invoice, invoice_payload
from servicekit.errors import InvalidInput


@pytest.mark.parametrize("typed, expected", [("12.5", 1250), ("$1,0", None), ("0.05", 5), ("20", 2000),
                                             (" $7.10 ", 710), ("1.999", None), ("-3", None), ("abc", None)])
def test_dollars_become_cents_without_floats(typed, expected):
    if expected is None:
        with pytest.raises(InvalidInput):
            cents(typed, "price")
    else:
        assert cents(typed, "price") == expected


@pytest.mark.parametrize("typed, expected", [("10", 1000), ("12.5", 1250), ("33.33%", 3333), ("x", None)])
def test_percentages_become_basis_points(typed, expected):
    if expected is None:
        with pytest.raises(InvalidInput):
            basis_points(typed, "discount")
    else:
        assert basis_points(typed, "discount") == expected


def test_editing_an_invoice_keeps_every_line_price_and_the_discount():
    invoice = {"location_id": "loc_1", "payment_type": "sliding_scale", "memo": "", "due_on": None,
               "discount": {"kind": "percent", "value": 1250}, "provider_id": "prv_1",
               "diagnosis_codes": ["F32.1", "F41.1"], "no_charge": False,
               "lines": [{"service_code": "90834", "units": 1, "unit_price": 9000,
                          "discount": {"kind": "percent", "value": 1050},
                          "service_date": "2026-11-20", "modifiers": ["HJ", "95"],
                          "place_of_service": "02"},
                         {"service_code": "90853", "units": 2, "unit_price": 6005,
                          "discount": {"kind": "fixed", "value": 500}}]}
    payload, errors = invoice_payload(MultiDict(form_from_invoice(invoice)), "cl_1")
    assert errors == {}
    assert payload["lines"] == [
        {"row": 1, "service_code": "90834", "units": 1, "unit_price": 9000,
         "discount": {"kind": "percent", "value": 1050}, "service_date": "2026-11-20",
         "modifiers": "HJ, 95", "place_of_service": "02"},
        {"row": 2, "service_code": "90853", "units": 2, "unit_price": 6005,
         "discount": {"kind": "fixed", "value": 500}, "service_date": None, "modifiers": None,
         "place_of_service": None}]
    assert payload["discount"] == {"kind": "percent", "value": 1250}
    assert (payload["provider_id"], payload["diagnosis_codes"]) == ("prv_1", "F32.1, F41.1")

def test_every_submitted_line_is_read_a_seventh_too_and_empty_ones_are_left_out():
    form = MultiDict({"location_id": "loc_1", "payment_type": "copay", "action": "finalize"})
    for row in (1, 2, 3, 4, 5, 6, 7, 12):
        form[f"line{row}_service"] = "90834" if row != 4 else ""
        form[f"line{row}_units"] = "1"
    payload, errors = invoice_payload(form, "cl_1")
    assert errors == {} and payload["finalize"] is True
    assert [line["row"] for line in payload["lines"]] == [1, 2, 3, 5, 6, 7, 12]


def test_what_the_page_cannot_read_is_named_next_to_its_field_all_at_once():
    form = MultiDict({"payment_type": "copay", "discount_kind": "fixed", "discount_value": "ten",
                      "line1_service": "90834", "line1_units": "1.5", "line1_price": "-5",
                      "line1_discount": "lots", "line2_service": "", "line2_price": "20"})
    payload, errors = invoice_payload(form, "cl_1")
    assert errors == {
        "discount_value": "Enter the discount as an amount like 25.00.",
        "line1_units": "Enter units from 1 to 999 on line 1.",
        "line1_price": "Enter the price on line 1 as an amount like 150.00.",
        "line1_discount": "Enter the discount on line 1 as a percentage like 10% or an amount "
                          "like 5.00.",
    }
    # line 2 has a price but no service: invoicing says "Choose a service on line 2"
    assert payload["lines"][1] == {"row": 2, "service_code": "", "units": 1, "unit_price": 2000,
                                   "discount": None, "service_date": None, "modifiers": None,
                                   "place_of_service": None}
    assert payload["discount"] is None


def test_without_javascript_a_line_is_removed_and_the_rest_renumbered():
    from portal_gateway.pages.billing import _rows_changed
    form = MultiDict({"payment_type": "copay", "remove_line": "2",
                      "line1_service": "90834", "line1_units": "1",
                      "line2_service": "90853", "line2_units": "2",
                      "line3_service": "90837", "line3_units": "3"})
    kept = _rows_changed(form)
    assert (kept["line1_service"], kept["line2_service"], kept["line2_units"]) == \
        ("90834", "90837", "3")
    assert "line3_service" not in kept and kept["payment_type"] == "copay"
    more = _rows_changed(MultiDict({"add_line": "1", "line1_service": "90834"}))
    assert more["_add_row"] == "1"


def test_the_form_shows_every_error_next_to_its_field_with_a_summary():
    from portal_gateway.web import templates
    errors = {"payment_type": "Choose a payment type.",
              "line7_discount": "The discount on line 7 is more than the line ($60.00)."}
    html = templates.get_template("staff/invoice_form.html").render(
        session={"csrf": "x", "permissions": []}, client={"id": "cl_1", "name": "Sam Lee"},
        form={"line7_service": "90853"}, invoice=None, errors=errors, rows=[1, 7],
        services=[{"code": "90853", "description": "Group", "fee": 6000,
                   "location_fees": {"loc_1": 5000}}],
        providers=[], locations=[{"id": "loc_1", "name": "Main"}],
        payment_types=[("copay", "Insurance copay")])
    assert 'There are 2 problems' in html and '<a href="#payment_type">Choose a payment type.</a>' in html
    assert 'aria-describedby="payment_type-error"' in html
    assert '<p class="field-error" id="line7_discount-error">The discount on line 7' in html
    assert 'name="line7_service"' in html and "data-fees='{\"loc_1\": 5000}'" in html
    assert "Save and finalize" in html and "Add another line" in html


SESSION = {"csrf": "x", "permissions": ["billing.write", "billing.read", "org.admin"], "name": "Riley"}
INVOICE = {"id": "inv_1", "number": "INV-000001", "client_id": "cl_1", "location_id": "loc_1",
           "payment_type": "payment_plan", "payment_type_label": "Payment plan", "status": "open",
           "discount": {"kind": "percent", "value": 1000}, "subtotal": 21000, "line_discounts": 1500,
           "invoice_discount": 1950, "discount_amount": 3450, "total": 17550, "amount_paid": 0,
           "balance": 17550, "held": 0, "pending": 0, "available": 17550, "memo": "Call after 5pm",
           "due_on": "2026-12-31", "provider_id": "prv_1",
           "provider": {"id": "prv_1", "name": "Alex Rivera", "credentials": "LCSW", "npi": "1234567893"},
           "diagnosis_codes": ["F32.1", "F41.1"], "no_charge": False, "void_reason": "",
           "lines": [{"service_code": "90834", "description": "Psychotherapy", "units": 1,
                      "unit_price": 15000, "amount": 15000, "discount": {"kind": "fixed", "value": 1500},
                      "line_discount": 1500, "discount_share": 1350, "net": 12150,
                      "service_date": "2026-11-20", "modifiers": ["HJ", "95"], "place_of_service": "02"},
                     {"service_code": "90853", "description": "Group", "units": 1, "unit_price": 6000,
                      "amount": 6000, "discount": {"kind": "none", "value": 0}, "line_discount": 0,
                      "discount_share": 600, "net": 5400, "service_date": None, "modifiers": [],
                      "place_of_service": ""}],
           "activity": []}


def test_the_invoice_page_shows_provider_diagnoses_notes_and_each_lines_discount():
    from portal_gateway.web import templates
    html = templates.get_template("staff/invoice.html").render(
        session=SESSION, invoice=INVOICE, client={"id": "cl_1", "name": "Sam Lee", "first_name": "Sam"},
        location={"name": "Main"}, payments=[], links={}, notice="no-email")
    for shown in ("Payment plan", "Provider: Alex Rivera, LCSW · NPI 1234567893",
                  "Diagnoses: F32.1, F41.1", "Call after 5pm", "90834-HJ-95", "place of service 02",
                  "−$28.50", "$121.50", "Line discounts", "−$15.00", "−$19.50", "$175.50",
                  "Sam Lee has no email address. Add one on the", "Void…"):
        assert shown in html, shown
    assert ">Open<" in html and "Collect payment" in html


def test_the_void_page_says_what_will_happen_and_asks_why():
    from portal_gateway.web import templates
    html = templates.get_template("staff/invoice_void.html").render(
        session=SESSION, invoice={**INVOICE, "status": "sent"},
        client={"id": "cl_1", "name": "Sam Lee", "first_name": "Sam"}, form={},
        errors={"reason": "Enter why this invoice is being voided."})
    assert "Void invoice INV-000001?" in html and "cannot be un-voided" in html
    assert 'aria-describedby="reason-error reason-hint"' in html
    assert "Sam has already been sent this invoice" in html


def test_the_settings_pages_render_services_fees_and_providers():
    from portal_gateway.web import templates
    locations = [{"id": "loc_1", "name": "Main"}, {"id": "loc_2", "name": "North"}]
    service = {"code": "90834", "description": "Psychotherapy", "fee": 15000, "active": False,
               "modifiers": ["HJ"], "place_of_service": "11", "location_fees": {"loc_2": 12000}}
    html = templates.get_template("staff/catalog.html").render(
        session=SESSION, services=[service], providers=[{**INVOICE["provider"], "active": True}],
        locations=locations, notice="deactivated")
    assert "North: $120.00" in html and "Offer again" in html and "Alex Rivera" in html
    from portal_gateway.pages.staff_catalog import service_form, service_payload
    form = service_form(service)
    assert form["fee_loc_2"] == "120.00" and form["modifiers"] == "HJ"
    payload, errors = service_payload(MultiDict({**form, "fee_loc_1": "abc"}), locations)
    assert payload["location_fees"] == {"loc_2": 12000} and payload["fee"] == 15000
    assert errors == {"fee_loc_1": "Enter the fee at Main as an amount like 150.00, or leave it empty."}
    html = templates.get_template("staff/service_form.html").render(
        session=SESSION, service=None, form={}, errors={"code": "Enter the code."}, locations=locations)
    assert 'id="code-error"' in html and 'for="fee_loc_2"' in html
    html = templates.get_template("staff/provider_form.html").render(
        session=SESSION, provider=None, form={}, errors={"npi": "An NPI is 10 digits."})
    assert 'aria-describedby="npi-error npi-hint"' in html
