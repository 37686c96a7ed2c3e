"""The estimate form becomes a payload invoicing can judge field by field, and
the Financial tab's estimates and the invoice form's $400 warning read as a
front-desk worker needs them."""
from werkzeug.datastructures import MultiDict

from portal_gateway.estimate_forms import channels, estimate_payload
from portal_gateway.web import templates


def test_the_form_keeps_rows_and_passes_what_was_typed_for_invoicing_to_judge():
    form = MultiDict({"kind": "gfe", "provider_id": "bp_1", "location_id": "loc_main",
                      "scheduled_on": "2026-12-01", "requested_by_patient": "yes",
                      "line1_service": "90834", "line1_units": "4", "line1_date": "2026-12-21",
                      "line3_service": "99999", "line3_units": "two"})
    payload = estimate_payload(form, "cl_1")
    assert payload["requested_by_patient"] is True
    assert payload["lines"] == [
        {"row": 1, "service_code": "90834", "units": 4, "expected_on": "2026-12-21"},
        {"row": 3, "service_code": "99999", "units": "two", "expected_on": ""}]
    assert channels("both") == ["portal", "email"] and channels("fax") is None


SESSION = {"permissions": ["billing.read", "billing.write"], "csrf": "t"}
CLIENT = {"id": "cl_1", "name": "Jordan Okafor"}


def item(state, label, deadline="2026-12-04"):
    return {"id": "est_1", "number": "EST-000001", "kind_label": "Good Faith Estimate",
            "provider_name": "Sam Rivera", "status": "draft", "deadline": deadline,
            "delivery": {"state": state, "label": label, "deadline": deadline}, "total": 66000}


def test_the_financial_tab_shows_late_and_due_estimates_and_a_new_estimate_button():
    html = templates.get_template("staff/_financial_estimates.html").render(
        session=SESSION, client=CLIENT, summary={"estimates": {
            "items": [item("late", "Late"), item("due", "Due")], "due": 1, "late": 1}})
    assert "1 Good Faith Estimate is late: send it now." in html
    assert "1 Good Faith Estimate due to be sent." in html
    assert "<strong>Late</strong> · 2026-12-04" in html and "$660.00" in html
    assert 'href="/staff/clients/cl_1/estimates/new"' in html
    empty = templates.get_template("staff/_financial_estimates.html").render(
        session=SESSION, client=CLIENT, summary={})
    assert "No estimates yet." in empty


def test_the_invoice_form_warning_says_how_much_over_and_why_it_matters():
    partial = templates.get_template("staff/_estimate_variance.html")
    variance = {"estimate_number": "EST-000001", "provider_name": "Sam Rivera", "estimated": 66000,
                "billed": 66000, "over": 40000, "threshold": 40000,
                "warning": "This would bill $400.00 more than the Good Faith Estimate for Sam "
                           "Rivera — at $400 over, the patient may dispute it."}
    assert 'role="alert"' in partial.render(variance=variance)
    below = partial.render(variance={**variance, "over": 12500, "warning": ""})
    assert "This would bill $125.00 more than the Good Faith Estimate for Sam Rivera" in below
    assert partial.render(variance=None).strip() == ""


def estimate(**changes):
    base = {"id": "est_1", "number": "EST-000001", "client_id": "cl_1", "kind": "estimate",
            "kind_label": "Estimate", "status": "declined", "total": 15000, "provider": None,
            "provider_name": "", "location_id": "loc_main", "diagnosis_codes": [],
            "scheduled_on": "2026-12-01", "first_service_on": None, "deadline": None,
            "delivery": {"state": "not_required", "label": "No delivery deadline", "deadline": None},
            "requested_by_patient": False, "memo": "", "issued_on": "2026-12-01",
            "issued_at": "2026-12-01T10:00:00.000000Z", "issued_channels": ["portal"],
            "invoice_id": None, "lines": [{"service_code": "90834", "description": "Psychotherapy",
                                           "expected_on": None, "units": 1, "unit_price": 15000,
                                           "amount": 15000, "modifiers": ""}],
            "decision": {"status": "declined", "typed_name": "Jordan <b>Okafor</b>",
                         "at": "2026-12-02T09:30:00.000000Z", "ip": "203.0.113.7",
                         "user_agent": "Firefox"},
            "wording": {"version": "cms-2022-1", "right_to_estimate": [],
                        "disclaimer": ["This estimate shows the expected cost."]}}
    return {**base, **changes}


def test_a_declined_plain_estimate_and_a_late_gfe_render_for_staff_and_patient():
    staff = templates.get_template("staff/estimate.html")
    html = staff.render(session=SESSION, client={**CLIENT, "first_name": "Jordan"},
                        estimate=estimate(), location={"name": "Main"}, notice="")
    assert "Declined</strong>" in html and "Jordan &lt;b&gt;Okafor&lt;/b&gt;" in html
    assert "Create invoice" not in html and "Send to portal" not in html
    late = staff.render(session=SESSION, client={**CLIENT, "first_name": "Jordan"}, notice="",
                        location={"name": "Main"}, estimate=estimate(
                            kind="gfe", kind_label="Good Faith Estimate", status="draft",
                            decision=None, deadline="2026-12-02",
                            delivery={"state": "late", "label": "Late", "deadline": "2026-12-02"}))
    assert "Late: this Good Faith Estimate had to reach the patient by 2026-12-02" in late
    assert "Send by email" in late
    portal = templates.get_template("portal/estimate.html").render(
        session={**SESSION, "clients": [{"id": "cl_1", "name": "Jordan Okafor"}],
                 "acting_for": "cl_1", "name": "Jordan"},
        organization={"name": "Cedar Ridge", "phone": "555-0100", "email": "o@x.test"},
        estimate=estimate(status="issued", decision=None), location={"name": "Main"},
        notice="", errors={"typed_name": "Enter your full name."}, form={})
    assert 'aria-describedby="typed_name-error"' in portal and "Approve this estimate" in portal
