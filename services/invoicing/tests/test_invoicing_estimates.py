"""Estimates and Good Faith Estimates on the real broker and PostgreSQL:
field-level refusals that save nothing, issuing (EstimateIssued), the
patient's signed decision, one-step invoicing and the $400 variance warning."""
import base64
from datetime import date, timedelta

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import text

import contracts
from servicekit import clock
from servicekit.errors import InvalidFields
from servicekit.pdf import text_of

from invoicing_testkit import outbox

PATIENT = {"id": "pa_1", "client_id": "cl_1"}
SIGNER = {"typed_name": "Jordan Avery", "ip": "203.0.113.7", "user_agent": "Firefox/140"}


def later(days: int) -> str:
    return (clock.today() + timedelta(days=days)).isoformat()


def gfe(**changes):
    payload = {"client_id": "cl_1", "kind": "gfe", "provider_id": "bp_rivera",
               "location_id": "loc_1", "diagnosis_codes": "f41.1, F32.1",
               "requested_by_patient": False, "scheduled_on": clock.today().isoformat(),
               "lines": [{"service_code": "90834", "units": 4, "expected_on": later(21)},
                         {"service_code": "90853", "units": 2, "expected_on": later(28)}]}
    return {**payload, **changes}


@pytest.fixture
def estimating(invoicing):
    proxy, engine, config = invoicing
    with engine.begin() as connection:
        connection.execute(text(
            "insert into billing_providers (id, name, credentials, npi, tax_id, license, staff_id, "
            "active) values ('bp_rivera', 'Sam Rivera', 'LCSW', '1234567893', '12-3456789', "
            "'LCSW 1234', '', true), ('bp_gone', 'Former Provider', '', '', '', '', '', false)"))
        connection.execute(text("insert into service_catalog (code, description, fee, active) "
                                "values ('90791', 'Diagnostic evaluation', 25000, false)"))
        connection.execute(text("insert into service_location_fees (code, location_id, fee) "
                                "values ('90853', 'loc_1', 5000)"))
    return proxy, engine, config


def count(engine, table):
    with engine.connect() as connection:
        return connection.execute(text(f"select count(*) from {table}")).scalar_one()


def test_unknown_and_inactive_codes_are_refused_per_field_and_nothing_is_saved(estimating):
    proxy, engine, _ = estimating
    bad = gfe(provider_id="bp_gone", location_id="loc_nowhere", diagnosis_codes="sad",
              lines=[{"service_code": "99999", "units": 1, "expected_on": later(5)},
                     {"service_code": "90791", "units": 0, "expected_on": "next week"},
                     {"service_code": "90834", "units": 1}])
    with pytest.raises(InvalidFields) as refused:
        proxy.create_estimate(bad, "st_1")
    errors = refused.value.errors
    assert errors["line1_service"].startswith("Service 99999 on line 1 is not in the catalog")
    assert "no longer offered" in errors["line2_service"]
    assert "from 1 to 999" in errors["line2_units"] and "as a date like" in errors["line2_date"]
    assert errors["line3_date"] == "Enter the expected date on line 3."   # a GFE needs dates
    assert "not available" in errors["provider_id"] and "not found" in errors["location_id"]
    assert "is not a diagnosis code" in errors["diagnosis_codes"]
    with pytest.raises(InvalidFields) as empty:
        proxy.create_estimate(gfe(lines=[], provider_id=""), "st_1")
    assert set(empty.value.errors) == {"lines", "provider_id"}
    assert count(engine, "estimates") == 0 and count(engine, "estimate_lines") == 0


def test_a_gfe_is_priced_from_the_catalog_with_its_deadline(estimating):
    proxy, _, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")
    assert estimate["number"] == "EST-000001" and estimate["status"] == "draft"
    # 4 × $150.00 + 2 × $50.00 (this location's fee for group therapy)
    assert [line["amount"] for line in estimate["lines"]] == [60000, 10000]
    assert estimate["total"] == 70000
    assert estimate["diagnosis_codes"] == ["F41.1", "F32.1"]
    assert estimate["provider"]["npi"] == "1234567893"
    # the first service is 3 weeks away (10+ business days): 3 business days to deliver
    assert estimate["delivery"]["state"] == "due"
    assert date.fromisoformat(estimate["deadline"]) > clock.today()
    assert "at least $400 more" in " ".join(estimate["wording"]["right_to_estimate"])
    assert proxy.list_estimates("cl_1")[0]["id"] == estimate["id"]
    assert proxy.financial_summary("cl_1")["estimates"]["due"] == 1


def test_issuing_emits_estimate_issued_and_the_patient_signs_a_decision(estimating):
    proxy, engine, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")
    with pytest.raises(RemoteError) as early:
        proxy.decide_estimate(estimate["id"], "approve", SIGNER, PATIENT)
    assert early.value.exc_type == "NotFound"          # a draft is not the patient's to see
    issued = proxy.issue_estimate(estimate["id"], ["email", "portal"], "st_1")
    assert issued["status"] == "issued" and issued["delivery"]["state"] == "on_time"
    [event] = outbox(engine, "EstimateIssued")
    contracts.validate_envelope(event)
    assert event["data"]["channels"] == ["portal", "email"]
    assert event["data"]["total"] == {"amount": 70000, "currency": "usd"}
    with pytest.raises(RemoteError) as stranger:
        proxy.decide_estimate(estimate["id"], "approve", SIGNER, {"id": "pa_2", "client_id": "cl_2"})
    assert stranger.value.exc_type == "NotFound"
    with pytest.raises(InvalidFields) as unsigned:
        proxy.decide_estimate(estimate["id"], "approve", {**SIGNER, "typed_name": " "}, PATIENT)
    assert unsigned.value.errors == {"typed_name": "Enter your full name."}
    decided = proxy.decide_estimate(estimate["id"], "approve", SIGNER, PATIENT)
    assert decided["status"] == "approved"
    assert decided["decision"]["typed_name"] == "Jordan Avery"
    assert decided["decision"]["ip"] == "203.0.113.7" and decided["decision"]["at"]
    [event] = outbox(engine, "EstimateDecided")
    contracts.validate_envelope(event)
    assert event["data"]["decision"] == "approved"
    with pytest.raises(RemoteError) as twice:
        proxy.decide_estimate(estimate["id"], "decline", SIGNER, PATIENT)
    assert "already approved" in twice.value.value


def test_an_approved_estimate_becomes_a_draft_invoice_in_one_step(estimating):
    proxy, _, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")
    proxy.issue_estimate(estimate["id"], ["portal"], "st_1")
    with pytest.raises(RemoteError) as not_yet:
        proxy.invoice_from_estimate(estimate["id"], "st_1")
    assert "Only an approved estimate" in not_yet.value.value
    proxy.decide_estimate(estimate["id"], "approve", SIGNER, PATIENT)
    invoice = proxy.invoice_from_estimate(estimate["id"], "st_1")
    assert invoice["status"] == "draft" and invoice["total"] == 70000
    assert [(l["service_code"], l["units"], l["unit_price"]) for l in invoice["lines"]] == [
        ("90834", 4, 15000), ("90853", 2, 5000)]
    assert invoice["location_id"] == "loc_1"
    again = proxy.get_estimate(estimate["id"])
    assert again["status"] == "invoiced" and again["invoice_id"] == invoice["id"]
    assert again["decision"]["status"] == "approved"
    with pytest.raises(RemoteError) as twice:
        proxy.invoice_from_estimate(estimate["id"], "st_1")
    assert "already created" in twice.value.value


def test_staff_are_warned_before_billing_reaches_400_over_the_gfe(estimating):
    proxy, engine, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")                      # $700.00
    proxy.issue_estimate(estimate["id"], ["email"], "st_1")
    proxy.decide_estimate(estimate["id"], "approve", SIGNER, PATIENT)
    proxy.invoice_from_estimate(estimate["id"], "st_1")                  # billed $700.00
    variance = proxy.estimate_variance("cl_1", "bp_rivera", 39_999)
    assert (variance["estimated"], variance["billed"], variance["variance"]) == (70000, 70000, 0)
    assert variance["warning"] == ""
    variance = proxy.estimate_variance("cl_1", "bp_rivera", 40_000)
    assert variance["over"] == 40_000
    assert variance["warning"] == ("This would bill $400.00 more than the Good Faith Estimate "
                                   "for Sam Rivera — at $400 over, the patient may dispute it.")
    # another provider's, another client's and a void invoice do not count
    assert proxy.estimate_variance("cl_2", "bp_rivera", 90_000)["warning"] == ""
    with engine.begin() as connection:
        connection.execute(text("update invoices set status = 'void'"))
    assert proxy.estimate_variance("cl_1", "bp_rivera", 0)["billed"] == 0
    assert proxy.get_estimate(estimate["id"], with_variance=True)["variance"]["estimated"] == 70000


def test_a_saved_invoice_carries_its_gfe_warning_and_billed_counts_adjustments(estimating):
    """The invoice page shows the warning with no RPC of its own: get_invoice
    answers `estimate_variance`; what was billed is what invoices owe after
    adjustments and write-offs."""
    proxy, engine, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")                      # $700.00
    proxy.issue_estimate(estimate["id"], ["email"], "st_1")
    proxy.decide_estimate(estimate["id"], "approve", SIGNER, PATIENT)
    first = proxy.invoice_from_estimate(estimate["id"], "st_1")          # billed $700.00
    assert proxy.get_invoice(first["id"])["estimate_variance"]["warning"] == ""
    with engine.begin() as connection:                                   # $400.00 more billed
        connection.execute(text("update invoices set total = 110000 where id = :id"),
                           {"id": first["id"]})
    shown = proxy.get_invoice(first["id"])["estimate_variance"]
    assert shown["billed"] == 110000 and shown["over"] == 40000
    assert shown["warning"].startswith("This would bill $400.00 more than the Good Faith Estimate")
    proxy.finalize_invoice(first["id"], "st_1")
    proxy.adjust_invoice(first["id"], {"kind": "write_off", "amount": 100, "reason": "Courtesy",
                                       "request_key": "key-gfe-0001"}, "st_1")
    shown = proxy.get_invoice(first["id"])["estimate_variance"]
    assert shown["billed"] == 109900 and shown["warning"] == ""
    without = proxy.create_invoice({"client_id": "cl_1", "location_id": "loc_1",
                                    "payment_type": "private_pay",
                                    "lines": [{"service_code": "90834", "units": 1}]}, "st_1")
    assert proxy.get_invoice(without["id"])["estimate_variance"] is None   # no provider


def test_the_pdf_shows_the_estimate_and_only_to_its_own_client_once_sent(estimating):
    proxy, _, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")
    with pytest.raises(RemoteError) as draft:
        proxy.estimate_pdf(estimate["id"], "cl_1")
    assert draft.value.exc_type == "NotFound"
    proxy.issue_estimate(estimate["id"], ["portal"], "st_1")
    with pytest.raises(RemoteError):
        proxy.estimate_pdf(estimate["id"], "cl_2")
    document = proxy.estimate_pdf(estimate["id"], "cl_1")
    assert document["filename"] == "estimate-EST-000001.pdf"
    assert document["content_type"] == "application/pdf"
    shown = " ".join(text_of(base64.b64decode(document["pdf_base64"])).split())
    assert "Good Faith Estimate EST-000001" in shown and "$700.00" in shown
    assert "Sam Rivera" in shown and "1234567893" in shown and "F41.1" in shown
    assert "at least $400 more" in shown
    assert "Cedar Ridge" in shown                   # the letterhead every billing PDF has


def test_the_estimate_pdf_is_rendered_once_and_kept_in_the_shared_pdf_cache(estimating):
    proxy, engine, _ = estimating
    estimate = proxy.create_estimate(gfe(), "st_1")
    first = proxy.estimate_pdf(estimate["id"])
    assert proxy.estimate_pdf(estimate["id"])["pdf_base64"] == first["pdf_base64"]
    with engine.connect() as connection:
        assert connection.execute(text(
            "select subject_id from pdf_cache where kind = 'estimate'")).scalars().all() == \
            [estimate["id"]]
    with engine.begin() as connection:                              # changed: rendered again
        connection.execute(text("update estimates set scheduled_on = scheduled_on - 1"))
    assert proxy.estimate_pdf(estimate["id"])["pdf_base64"] != first["pdf_base64"]
    with engine.connect() as connection:
        assert connection.execute(text(
            "select count(*) from pdf_cache where kind = 'estimate'")).scalar() == 1


def test_a_gfe_not_sent_by_its_deadline_shows_late(estimating, tmp_path, monkeypatch):
    proxy, _, _ = estimating
    monkeypatch.setenv("CAIRN_CLOCK_OFFSET_FILE", str(tmp_path / "clock"))
    estimate = proxy.create_estimate(gfe(), "st_1")
    short = proxy.create_estimate(gfe(lines=[{"service_code": "90834", "units": 1,
                                              "expected_on": later(1)}]), "st_1")
    assert short["deadline"] is None and short["delivery"]["state"] == "not_required"
    clock.advance(str(tmp_path / "clock"), 10)          # two weeks of business days later
    [listed] = [e for e in proxy.list_estimates("cl_1") if e["id"] == estimate["id"]]
    assert listed["delivery"] == {"state": "late", "label": "Late", "deadline": estimate["deadline"]}
    summary = proxy.financial_summary("cl_1")["estimates"]
    assert (summary["due"], summary["late"]) == (0, 1)
    sent = proxy.issue_estimate(estimate["id"], ["portal"], "st_1")
    assert sent["delivery"]["state"] == "delivered_late"
