"""Good Faith Estimates over real sockets: staff build one from the catalog
(mistakes shown next to their fields, nothing saved), see its delivery
deadline, send it to the portal and by email; the patient reads it with the
CMS disclaimer, signs an approval with a typed name and downloads the PDF;
another portal account cannot see it; staff turn it into an invoice in one
step and see the $400 warning the invoice form can show."""
import re
from datetime import timedelta

import pytest

from servicekit import clock
from servicekit.pdf import text_of
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

CLIENT = "cl_demo_jordan"
JORDAN = ("jordan@demo.cairn.test", "demo-portal-2026")
MORGAN = ("morgan@demo.cairn.test", "demo-portal-2026")


def in_days(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


GFE_FORM = {"kind": "gfe", "provider_id": "prv_demo_rivera", "location_id": "loc_main",
            "diagnosis_codes": "F41.1", "scheduled_on": clock.today().isoformat(),
            "line1_service": "90834", "line1_units": "4", "line1_date": in_days(21),
            "line2_service": "90853", "line2_units": "1", "line2_date": in_days(28)}


def field_errors(page) -> dict:
    return dict(re.findall(r'<p class="field-error" id="([\w-]+)-error">([^<]+)</p>', page.text))


def test_a_good_faith_estimate_from_form_to_signed_approval_to_invoice(cairn):
    staff = cairn.staff()
    csrf = staff.csrf(f"/staff/clients/{CLIENT}/estimates/new")
    refused = staff.post(f"/staff/clients/{CLIENT}/estimates", data={
        **GFE_FORM, "provider_id": "", "line1_service": "99999", "line2_units": "two",
        "diagnosis_codes": "sad", "csrf": csrf})
    assert refused.status_code == 400 and "Nothing was saved" in refused.text
    errors = field_errors(refused)
    assert errors["line1_service"].startswith("Service 99999 on line 1 is not in the catalog")
    assert errors["line2_units"].startswith("Units on line 2 must be a whole number")
    assert errors["provider_id"] == "Choose the provider who will give the services."
    assert "is not a diagnosis code" in errors["diagnosis_codes"]
    assert 'value="two"' in refused.text                     # what was typed stays
    assert cairn.sql("invoicing", "select count(*) as n from estimates")[0].n == 0

    created = staff.post(f"/staff/clients/{CLIENT}/estimates", data={**GFE_FORM, "csrf": csrf})
    match = re.search(r"/staff/estimates/(est_[0-9a-f]+)", created.url)
    assert match, (created.status_code, field_errors(created))
    estimate_id = match.group(1)
    assert "Due: send this Good Faith Estimate by" in created.text
    assert "$660.00" in created.text                         # 4 × $150 + 1 × $60
    assert "Alex Rivera" in created.text and "1234567893" in created.text

    sent = staff.post(f"/staff/estimates/{estimate_id}/send", data={"channel": "both", "csrf": csrf})
    assert "posted to the portal and emailed" in sent.text
    assert "Delivered on time" in sent.text

    def estimate_email():
        for message in cairn.mail.messages():
            if "jordan@" in str(message["To"]) and "estimate" in str(message["Subject"]):
                return message
    message = wait_until(estimate_email, timeout=20, what="the estimate email")
    assert message["Subject"].startswith("You have a new estimate from")
    assert "$" not in message["Subject"]
    assert f"/portal/estimates/{estimate_id}" in message.get_body(("plain",)).get_content()

    patient = cairn.sign_in("portal", *JORDAN)
    listed = patient.get("/portal/estimates")
    assert estimate_id in listed.text and "Waiting for your answer" in listed.text
    page = patient.get(f"/portal/estimates/{estimate_id}")
    assert "If you are billed for more than this Good Faith Estimate" in page.text
    assert "at least $400 more" in page.text and "F41.1" in page.text
    assert "For Jordan Okafor" in page.text
    pdf = patient.get(f"/portal/estimates/{estimate_id}/pdf")
    assert pdf.headers["Content-Type"] == "application/pdf" and pdf.content.startswith(b"%PDF")
    shown = " ".join(text_of(pdf.content).split())
    assert "Jordan Okafor" in shown and "Alex Rivera" in shown and "$660.00" in shown

    outsider = cairn.sign_in("portal", *MORGAN)
    assert outsider.get(f"/portal/estimates/{estimate_id}").status_code == 404
    assert outsider.get(f"/portal/estimates/{estimate_id}/pdf").status_code == 404

    token = patient.csrf(f"/portal/estimates/{estimate_id}")
    unsigned = patient.post(f"/portal/estimates/{estimate_id}/decision",
                            data={"decision": "approve", "typed_name": "  ", "csrf": token})
    assert unsigned.status_code == 400 and field_errors(unsigned) == {"typed_name": "Enter your full name."}
    signed = patient.post(f"/portal/estimates/{estimate_id}/decision",
                          data={"decision": "approve", "typed_name": "Jordan Okafor", "csrf": token})
    assert "You approved this estimate" in signed.text
    assert "Approved</strong> by Jordan Okafor (typed signature)" in " ".join(signed.text.split())

    page = staff.get(f"/staff/estimates/{estimate_id}")
    assert "by Jordan Okafor (typed signature)" in page.text and "Create invoice" in page.text
    invoiced = staff.post(f"/staff/estimates/{estimate_id}/invoice", data={"csrf": csrf})
    assert re.search(r"/staff/invoices/inv_[0-9a-f]+", invoiced.url)
    assert "$660.00" in invoiced.text

    warning = staff.get(f"/staff/clients/{CLIENT}/estimate-variance",
                        params={"provider_id": "prv_demo_rivera", "proposed": "400.00"})
    assert ("This would bill $400.00 more than the Good Faith Estimate for Alex Rivera — at $400 "
            "over, the patient may dispute it.") in warning.text
    quiet = staff.get(f"/staff/clients/{CLIENT}/estimate-variance",
                      params={"provider_id": "prv_demo_rivera", "proposed": "0"})
    assert "Good Faith Estimate EST-000001" in quiet.text and "may dispute" not in quiet.text
