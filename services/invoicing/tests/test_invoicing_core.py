"""The invoice form's rules as the invoicing service applies them: every
problem named at once next to its field, nothing saved; fees from the catalog
(per location); providers and diagnoses; draft, open, sent; void with a
reason; the catalog and providers kept by administrators."""
import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import text

import contracts
from servicekit.errors import InvalidFields

from invoicing_testkit import PAYLOAD, outbox


def refused(call) -> dict:
    with pytest.raises(InvalidFields) as caught:
        call()
    return caught.value.errors


def counts(engine):
    with engine.connect() as connection:
        return (connection.execute(text("select count(*) from invoices")).scalar(),
                connection.execute(text("select count(*) from outbox")).scalar())


def test_every_problem_is_named_at_once_and_nothing_is_saved(invoicing):
    proxy, engine, _ = invoicing
    before = counts(engine)
    bad = {"client_id": "cl_1", "location_id": "loc_9", "payment_type": "",
           "provider_id": "prv_nobody", "diagnosis_codes": "F32.1, banana", "due_on": "2020-01-01",
           "memo": "call back\x00", "discount": {"kind": "fixed", "value": 100},
           "lines": [{"row": 1, "service_code": "90834", "units": 0},
                     {"row": 2, "service_code": "90853", "units": 1,
                      "discount": {"kind": "fixed", "value": 6001}},
                     {"row": 3, "service_code": "99999", "units": 1},
                     {"row": 4, "service_code": "90853", "units": 1, "modifiers": "HJ,95,GT,U1,XX",
                      "service_date": "yesterday", "place_of_service": "home"}]}
    errors = refused(lambda: proxy.create_invoice(bad, "st_1"))
    assert errors == {
        "location_id": "Pick a location from the list (that one was not found).",
        "payment_type": "Choose a payment type.",
        "provider_id": "Choose a provider from the list.",
        "diagnosis_codes": "“BANANA” is not an ICD-10 code. Enter codes like F32.1 or F41.1, "
                           "separated by commas.",
        "due_on": "The due date can be at most a year in the past.",
        "memo": "The note contains characters that cannot be saved (remove anything pasted from "
                "another program and type it again).",
        "line1_units": "Enter units from 1 to 999 on line 1.",
        "line2_discount": "The discount on line 2 is more than the line ($60.00).",
        "line3_service": "The service 99999 on line 3 is not in the catalog. Choose another.",
        "line4_modifiers": "Enter up to 4 two-character modifiers on line 4, like HJ, 95.",
        "line4_date": "Enter the date of service on line 4 as a date.",
        "line4_pos": "Enter the place of service on line 4 as two digits, like 11 or 02.",
    }
    assert counts(engine) == before
    assert refused(lambda: proxy.create_invoice({"client_id": "cl_1", "lines": []}, "st_1")) == {
        "location_id": "Pick a location.", "payment_type": "Choose a payment type.",
        "lines": "Add at least one service."}
    assert counts(engine) == before


def test_a_zero_invoice_is_refused_unless_no_charge_which_is_never_sent(invoicing):
    proxy, _, _ = invoicing
    free = {**PAYLOAD, "discount": {"kind": "percent", "value": 10_000}}
    assert refused(lambda: proxy.create_invoice(free, "st_1")) == {
        "lines": "This invoice comes to $0.00. Add a service with a fee, or mark it “No charge”."}
    invoice = proxy.create_invoice({**free, "no_charge": True, "finalize": True}, "st_1")
    assert (invoice["total"], invoice["no_charge"], invoice["status"]) == (0, True, "open")
    with pytest.raises(RemoteError, match="no-charge invoice is not sent"):
        proxy.send_invoice(invoice["id"], "email", "st_1")
    assert proxy.list_payable_invoices("cl_1", "staff") == []


def test_seven_lines_with_their_own_discounts_add_up_to_the_cent(invoicing):
    proxy, engine, _ = invoicing
    lines = [{"row": n, "service_code": "90853", "units": 1, "unit_price": 3333,
              "discount": {"kind": "percent", "value": 333} if n % 2 else None}
             for n in range(1, 8)]
    invoice = proxy.create_invoice({**PAYLOAD, "lines": lines,
                                    "discount": {"kind": "fixed", "value": 1001}}, "st_1")
    assert len(invoice["lines"]) == 7
    assert sum(line["net"] for line in invoice["lines"]) == invoice["total"]
    assert invoice["subtotal"] - invoice["line_discounts"] - invoice["invoice_discount"] \
        == invoice["total"]
    assert invoice["invoice_discount"] == 1001 and invoice["line_discounts"] == 4 * 111
    [saved] = outbox(engine, "InvoiceSaved")
    assert saved["data"]["total"]["amount"] == invoice["total"]


def test_fees_modifiers_and_place_of_service_come_from_the_catalog_per_location(invoicing):
    proxy, engine, _ = invoicing
    proxy.save_service({"code": "90834", "existing": True, "description": "Psychotherapy, 45 min",
                        "fee": 15000, "modifiers": "HJ", "place_of_service": "11"}, "st_admin")
    proxy.set_location_fee("90834", "loc_1", 12000, "st_admin")
    invoice = proxy.create_invoice({**PAYLOAD, "discount": None}, "st_1")
    first = invoice["lines"][0]
    assert (first["unit_price"], first["modifiers"], first["place_of_service"]) == \
        (12000, ["HJ"], "11")
    typed = proxy.create_invoice({**PAYLOAD, "lines": [
        {"service_code": "90834", "units": 1, "unit_price": 9000, "modifiers": ["95"],
         "place_of_service": "02", "service_date": "2026-11-20"}]}, "st_1")["lines"][0]
    assert (typed["unit_price"], typed["modifiers"], typed["place_of_service"],
            typed["service_date"]) == (9000, ["95"], "02", "2026-11-20")
    proxy.set_location_fee("90834", "loc_1", None, "st_admin")
    assert proxy.list_services()[0]["location_fees"] == {}
    changes = outbox(engine, "CatalogChanged")
    assert [c["data"]["part"] for c in changes] == ["service", "location_fee", "location_fee"]
    for change in changes:
        contracts.validate_envelope(change)


def test_a_deactivated_service_keeps_its_history_but_is_not_offered(invoicing):
    proxy, _, _ = invoicing
    invoice = proxy.create_invoice(PAYLOAD, "st_1")
    proxy.set_service_active("90853", False, "st_admin")
    assert [s["code"] for s in proxy.list_services()] == ["90834"]
    assert [s["code"] for s in proxy.list_services(True)] == ["90834", "90853"]
    assert proxy.get_invoice(invoice["id"])["lines"][1]["service_code"] == "90853"
    assert proxy.update_invoice(invoice["id"], PAYLOAD, "st_1")["total"] == invoice["total"]
    assert refused(lambda: proxy.create_invoice(PAYLOAD, "st_1")) == {
        "line2_service": "The service 90853 on line 2 is no longer offered. Choose another."}
    assert refused(lambda: proxy.save_service({"code": "90834", "description": "Again",
                                                "fee": 1}, "st_admin"))["code"].startswith(
        "90834 is already in the catalog")
    assert set(refused(lambda: proxy.save_service({"code": "9", "description": "",
                                                    "fee": -1}, "st_admin"))) == \
        {"code", "description", "fee"}


def test_a_provider_and_diagnoses_are_kept_on_the_invoice(invoicing):
    proxy, _, _ = invoicing
    provider = proxy.save_provider({"name": "Alex Rivera", "credentials": "LCSW",
                                    "npi": "1234567893"}, "st_admin")
    assert refused(lambda: proxy.save_provider({"name": "", "npi": "12"}, "st_admin")) == {
        "name": "Enter the provider's name.", "npi": "An NPI is 10 digits."}
    invoice = proxy.create_invoice({**PAYLOAD, "provider_id": provider["id"],
                                    "diagnosis_codes": "f32.1, F41.1"}, "st_1")
    assert invoice["provider"]["name"] == "Alex Rivera"
    assert invoice["diagnosis_codes"] == ["F32.1", "F41.1"]
    proxy.set_provider_active(provider["id"], False, "st_admin")
    assert proxy.list_providers() == [] and len(proxy.list_providers(True)) == 1
    assert refused(lambda: proxy.create_invoice({**PAYLOAD, "provider_id": provider["id"]},
                                                "st_1")) == {
        "provider_id": "Choose a provider from the list."}
    too_many = ",".join(f"F{n:02d}.1" for n in range(13))
    assert "at most 12" in refused(lambda: proxy.create_invoice(
        {**PAYLOAD, "diagnosis_codes": too_many}, "st_1"))["diagnosis_codes"]


def test_draft_open_sent_and_void_with_a_reason(invoicing):
    proxy, engine, _ = invoicing
    draft = proxy.create_invoice(PAYLOAD, "st_1")
    assert draft["status"] == "draft"
    opened = proxy.update_invoice(draft["id"], {**PAYLOAD, "finalize": True}, "st_1")
    assert opened["status"] == "open"
    assert [p["id"] for p in proxy.list_payable_invoices("cl_1", "staff")] == [draft["id"]]
    assert proxy.list_payable_invoices("cl_1", "portal") == []
    assert proxy.send_invoice(draft["id"], "portal", "st_1")["status"] == "sent"
    assert refused(lambda: proxy.void_invoice(draft["id"], "st_1", " ")) == {
        "reason": "Enter why this invoice is being voided."}
    voided = proxy.void_invoice(draft["id"], "st_1", "Billed to the wrong client")
    assert (voided["status"], voided["void_reason"]) == ("void", "Billed to the wrong client")
    assert "Voided: Billed to the wrong client" in [a["what"] for a in voided["activity"]]
    assert len(outbox(engine, "InvoiceVoided")) == 1


def test_check_only_finds_problems_and_saves_nothing(invoicing):
    proxy, engine, _ = invoicing
    before = counts(engine)
    assert proxy.create_invoice(PAYLOAD, "st_1", check_only=True) is None
    assert refused(lambda: proxy.create_invoice({**PAYLOAD, "payment_type": "barter"}, "st_1",
                                                check_only=True)) == {
        "payment_type": "Choose a payment type."}
    assert counts(engine) == before


def test_a_service_and_its_location_fees_are_saved_together(invoicing):
    proxy, engine, _ = invoicing
    saved = proxy.save_service({"code": "h0004", "description": "Counseling, per 15 minutes",
                                "fee": 3500, "modifiers": "hj", "place_of_service": "11",
                                "location_fees": {"loc_1": 3000}}, "st_admin")
    assert (saved["code"], saved["modifiers"], saved["location_fees"]) == \
        ("H0004", ["HJ"], {"loc_1": 3000})
    assert proxy.get_service("H0004") == saved
    assert refused(lambda: proxy.save_service({"code": "H0005", "description": "x", "fee": 1,
                                                "location_fees": {"loc_9": 100}}, "st_admin")) \
        == {"location_id": "Pick a location from the list (that one was not found)."}
    assert [c["data"]["part"] for c in outbox(engine, "CatalogChanged")] == ["service"]


def test_control_characters_in_any_field_are_named_next_to_it(invoicing):
    proxy, engine, _ = invoicing
    before = counts(engine)
    nul = "\x00"
    errors = refused(lambda: proxy.create_invoice({
        **PAYLOAD, "location_id": "loc_1" + nul, "payment_type": "copay" + nul,
        "provider_id": nul, "diagnosis_codes": "F32.1" + nul, "memo": "a\x1bb", "due_on": nul,
        "lines": [{"service_code": "90834" + nul, "units": 1, "modifiers": "HJ" + nul,
                   "service_date": nul, "place_of_service": "1" + nul}]}, "st_1"))
    assert errors["location_id"] == "Pick a location."
    assert errors["payment_type"] == "Choose a payment type."
    assert errors["line1_service"] == "Choose a service on line 1."
    assert set(errors) == {"location_id", "payment_type", "provider_id", "diagnosis_codes", "memo",
                           "due_on", "line1_service", "line1_modifiers", "line1_date", "line1_pos"}
    assert all("\x00" not in message for message in errors.values())
    assert counts(engine) == before


def test_a_draft_is_finalized_once_and_an_edit_keeps_its_status(invoicing):
    proxy, _, _ = invoicing
    draft = proxy.create_invoice(PAYLOAD, "st_1")
    opened = proxy.finalize_invoice(draft["id"], "st_1")
    assert opened["status"] == "open" and opened["activity"][-1]["what"] == "Finalized"
    with pytest.raises(RemoteError, match="Only a draft can be finalized"):
        proxy.finalize_invoice(draft["id"], "st_1")
    assert proxy.update_invoice(draft["id"], {**PAYLOAD, "finalize": True}, "st_1")["status"] == "open"
    proxy.send_invoice(draft["id"], "email", "st_1")
    assert proxy.update_invoice(draft["id"], PAYLOAD, "st_1")["status"] == "sent"
