"""A third-party contact under a release of information only READS, through
the gateway with stand-ins behind it: every portal write (pay, add or change
a card, sign a plan, approve an estimate, come back from 3-D Secure, join a
session) is refused with 403 before any service is asked, the refusal
audited, and the controls are not shown to it; a billing-only contact is not
shown what names diagnoses (superbills, estimates); a session acting for no
client of its own is refused; only a signed or waiting release can be
revoked; a contact does not see the client's releases nor where they signed."""
import re

import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.pages.portal_documents import as_seen_by
from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, NotFound
from test_gateway_portal_billing import INVOICES, PAYMENTS, PLANS
from tests.support.processes import free_port

CALLS: list = []
LATER = "2099-01-01T00:00:00.000000Z"
PART2 = "42 CFR part 2"
WRITE_REFUSED = "Only the client or their guardian can do this."
WRITES = ("pay_in_portal", "save_method", "set_default_method", "remove_saved_method",
          "complete_method_setup", "complete_payment_action", "sign_plan", "decide_estimate",
          "get_appointment", "revoke_consent")
CONTACTS = ("contact-billing", "contact-billing_and_clinical")


def session_of(token):
    common = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER, "kind": "portal",
              "permissions": [], "role": "patient", "subject_id": "pa_5", "name": "Morgan Lee"}
    if token.startswith("contact-"):
        return {**common, "acting_for": "cl_1",
                "clients": [{"id": "cl_1", "name": "Avery Reyes", "first_name": "Avery",
                             "relationship": "contact", "scope": token[len("contact-"):]}]}
    if token == "stray":          # acting for a client that is not among its own
        return {**common, "acting_for": "cl_9",
                "clients": [{"id": "cl_1", "name": "Avery Reyes", "relationship": "self",
                             "scope": "full"}]}
    if token == "nobody":
        return {**common, "acting_for": None,
                "clients": [{"id": "cl_1", "name": "Avery Reyes", "relationship": "self",
                             "scope": "full"}]}
    return {**common, "subject_id": "pa_1", "name": "Avery Reyes", "acting_for": "cl_1",
            "clients": [{"id": "cl_1", "name": "Avery Reyes", "first_name": "Avery",
                         "relationship": "self", "scope": "full"}]}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return session_of(token)

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", action, client_id, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "phone": "555-0100", "email": "front@cedar.test",
                "welcome_message": "", "logo_url": None,
                "locations": [{"id": "loc_1", "name": "Main office", "address": "1 Elm St",
                               "phone": "", "email": ""}]}


ESTIMATE = {"id": "est_1", "number": "EST-000001", "client_id": "cl_1", "kind": "estimate",
            "kind_label": "Estimate", "status": "issued", "total": 15000, "provider": None,
            "provider_name": "", "location_id": "loc_1", "diagnosis_codes": ["F41.1"],
            "scheduled_on": "2026-12-01", "first_service_on": None, "deadline": None,
            "delivery": {"state": "not_required", "label": "No delivery deadline", "deadline": None},
            "requested_by_patient": False, "memo": "", "issued_on": "2026-12-01",
            "issued_at": "2026-12-01T10:00:00.000000Z", "issued_channels": ["portal"],
            "invoice_id": None, "decision": None,
            "lines": [{"service_code": "90834", "description": "Psychotherapy", "expected_on": None,
                       "units": 1, "unit_price": 15000, "amount": 15000, "modifiers": ""}],
            "wording": {"version": "cms-2022-1", "right_to_estimate": [],
                        "disclaimer": ["This estimate shows the expected cost."]}}


class Invoicing:
    name = "invoicing"

    @rpc(expected_exceptions=EXPECTED)
    def financial_summary(self, client_id):
        return {"invoices": INVOICES, "balance": 32000, "pending": 3000, "credit": 0,
                "plans": PLANS}

    @rpc(expected_exceptions=EXPECTED)
    def list_plans(self, client_id):
        return PLANS

    @rpc(expected_exceptions=EXPECTED)
    def get_plan(self, plan_id, client_id=None):
        return next(plan for plan in PLANS if plan["id"] == plan_id)

    @rpc(expected_exceptions=EXPECTED)
    def sign_plan(self, *args):
        CALLS.append(("sign_plan",))

    @rpc(expected_exceptions=EXPECTED)
    def list_payable_invoices(self, client_id, channel):
        return [i for i in INVOICES if i["status"] in ("sent", "partially_paid") and i["available"]]

    @rpc(expected_exceptions=EXPECTED)
    def list_statements(self, client_id):
        return []

    @rpc(expected_exceptions=EXPECTED)
    def list_estimates(self, client_id):
        CALLS.append(("list_estimates",))
        return [ESTIMATE]

    @rpc(expected_exceptions=EXPECTED)
    def get_estimate(self, estimate_id, with_variance=False):
        CALLS.append(("get_estimate",))
        return ESTIMATE

    @rpc(expected_exceptions=EXPECTED)
    def estimate_pdf(self, estimate_id, client_id=None):
        CALLS.append(("estimate_pdf",))
        return {"pdf_base64": "JVBERi0=", "filename": "estimate.pdf", "client_id": "cl_1"}

    @rpc(expected_exceptions=EXPECTED)
    def superbill(self, client_id, start, end):
        CALLS.append(("superbill",))
        return {"pdf_base64": "JVBERi0=", "filename": "superbill.pdf", "client_id": "cl_1"}

    @rpc(expected_exceptions=EXPECTED)
    def decide_estimate(self, *args):
        CALLS.append(("decide_estimate",))
        return ESTIMATE


METHOD = {"id": "pm_1", "label": "Visa ending 4242", "expires": "12/30", "is_default": False}


class Payments:
    name = "payments"

    @rpc(expected_exceptions=EXPECTED)
    def list_payments(self, client_id=None, invoice_id=None):
        return [p for p in PAYMENTS.values() if p["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def get_payment(self, payment_id, actor=None):
        found = PAYMENTS.get(payment_id)
        if found is None or found["client_id"] != actor.get("client_id"):
            raise NotFound("That payment was not found.")
        return found

    @rpc(expected_exceptions=EXPECTED)
    def payment_form_context(self, client_id):
        return {"methods": [METHOD, {**METHOD, "id": "pm_2", "is_default": True}],
                "terms": {"card_on_file": "Keep it.", "ach_mandate": "Bank.",
                          "ach_mandate_on_file": "Bank on file."}}

    def _write(name):
        @rpc(expected_exceptions=EXPECTED)
        def method(self, *args):
            CALLS.append((name,))
            return {**PAYMENTS["pay_1"], "status": "succeeded"}
        return method

    pay_in_portal = _write("pay_in_portal")
    save_method = _write("save_method")
    set_default_method = _write("set_default_method")
    remove_saved_method = _write("remove_saved_method")
    complete_method_setup = _write("complete_method_setup")
    complete_payment_action = _write("complete_payment_action")


class Scheduling:
    name = "scheduling"

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, client_id):
        soon = {"id": "ap_soon", "client_id": "cl_1", "starts_at": "2026-12-01T15:00:00Z",
                "ends_at": "2099-12-01T15:50:00Z", "mode": "telehealth", "location_id": None,
                "location_name": None, "clinician_name": "Dr. Rowan Hale", "status": "scheduled",
                "join_url": "https://telehealth.example/j", "cancelled_reason": None,
                "join": {"open": True, "opens_at": "2026-12-01T14:50:00Z",
                         "url": "https://telehealth.example/j"}}
        return {"upcoming": [soon], "past": []}

    @rpc(expected_exceptions=EXPECTED)
    def get_appointment(self, appointment_id, client_id=None):
        CALLS.append(("get_appointment",))
        raise NotFound("not asked")


def consent(id_, kind="consent", status="signed", **extra):
    return {"id": id_, "client_id": "cl_1", "template_key": "treatment", "title": f"Title {id_}",
            "kind": kind, "status": status, "requested_at": "2026-11-20T10:00:00Z",
            "requested_by_name": "Front Desk", "signed_at": "2026-11-21T10:00:00Z",
            "signer_name": "Avery Reyes", "revoked_at": None, "contact_id": None,
            "contact_name": None, "text": "I agree.",
            "signature": {"typed_name": "Avery Reyes", "method": "typed",
                          "signed_at": "2026-11-21T10:00:00Z", "ip": "198.51.100.23",
                          "user_agent": "SecretBrowser/9", "sha256": "ab", "verified": True},
            **extra}


CONSENTS = {"co_1": consent("co_1"),
            "co_rel": consent("co_rel", "release", contact_id="ct_7", contact_name="Jordan Pike"),
            "co_old": consent("co_old", "release", "revoked", contact_id="ct_7",
                              contact_name="Jordan Pike")}


class Documents:
    name = "documents"

    @rpc(expected_exceptions=EXPECTED)
    def part2_notice(self):
        return "Disclosed from records protected by 42 CFR part 2."

    @rpc(expected_exceptions=EXPECTED)
    def portal_summary(self, client_id):
        return {"consents_outstanding": 0, "forms_outstanding": 0}

    @rpc(expected_exceptions=EXPECTED)
    def list_consents(self, client_id):
        return list(CONSENTS.values())

    @rpc(expected_exceptions=EXPECTED)
    def get_consent(self, consent_id, client_id=None):
        if consent_id not in CONSENTS:
            raise NotFound("We could not find that document.")
        return CONSENTS[consent_id]

    @rpc(expected_exceptions=EXPECTED)
    def revoke_consent(self, consent_id, client_id, by):
        CALLS.append(("revoke_consent", consent_id))
        return {**CONSENTS[consent_id], "status": "revoked"}


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    for service in (Clients, Invoicing, Payments, Scheduling, Documents, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    return f"http://127.0.0.1:{port}"


def get(url, who="patient"):
    return requests.get(url, cookies={"cairn_portal_session": who}, timeout=20,
                        allow_redirects=False)


def post(url, who="patient", **data):
    return requests.post(url, cookies={"cairn_portal_session": who}, data={"csrf": "c", **data},
                         timeout=20, allow_redirects=False)


def denials():
    return [call for call in CALLS if call[0] == "record_access" and call[1].startswith("denied:")]


def writes():
    return [call for call in CALLS if call[0] in WRITES]


# ---- 1. a contact cannot write in Billing (nor come back from 3-D Secure) ------------------

@pytest.mark.parametrize("who", CONTACTS)
@pytest.mark.parametrize("method, path, form", [
    ("POST", "/portal/billing/pay", {"invoice": "inv_1", "amount_inv_1": "150.00",
                                     "method": "saved", "saved_method_id": "pm_2"}),
    ("POST", "/portal/billing/methods", {"payment_method": "pm_card_visa"}),
    ("POST", "/portal/billing/methods/pm_1/default", {}),
    ("POST", "/portal/billing/methods/pm_1/remove", {}),
    ("POST", "/portal/billing/plans/plan_2/sign", {"agree": "yes", "typed_name": "Morgan Lee"}),
    ("GET", "/portal/billing/pay", {}),
    ("GET", "/portal/billing/methods/setup/seti_1", {}),
])
def test_a_contact_is_refused_every_billing_write_before_anything_is_asked(gateway, who, method,
                                                                           path, form):
    page = (post(gateway + path, who, **form) if method == "POST" else get(gateway + path, who))
    assert page.status_code == 403 and WRITE_REFUSED in page.text and PART2 in page.text
    assert denials() == [("record_access", "denied:portal.write", "cl_1", "denied")]
    assert writes() == []


def test_a_billing_and_clinical_contact_cannot_approve_or_decline_an_estimate(gateway):
    for decision in ("approve", "decline"):
        CALLS.clear()
        page = post(f"{gateway}/portal/estimates/est_1/decision", "contact-billing_and_clinical",
                    decision=decision, typed_name="Morgan Lee")
        assert page.status_code == 403 and WRITE_REFUSED in page.text
        assert denials() == [("record_access", "denied:portal.write", "cl_1", "denied")]
        assert writes() == []


def test_the_patient_still_changes_their_cards_and_a_contact_may_still_sign_out(gateway):
    done = post(f"{gateway}/portal/billing/methods/pm_1/default")
    assert done.status_code in (302, 303) and ("set_default_method",) in CALLS and denials() == []
    out = post(f"{gateway}/portal/logout", "contact-billing")
    assert out.status_code != 403 and denials() == []


def test_back_from_3d_secure_a_contact_reads_the_receipt_without_settling_it(gateway):
    page = get(f"{gateway}/portal/billing/payments/pay_3ds?redirect_status=succeeded",
               "contact-billing")
    assert page.status_code in (200, 402) and ("complete_payment_action",) not in CALLS
    assert denials() == []


@pytest.mark.parametrize("path, control", [
    ("/portal/billing", "Make a Payment"), ("/portal/billing/invoices", "Make a Payment"),
    ("/portal/billing/invoices/inv_1", "Pay this invoice"),
    ("/portal/billing/methods", 'action="/portal/billing/methods/pm_1/remove"'),
    ("/portal/billing/methods", 'action="/portal/billing/methods/pm_1/default"'),
    ("/portal/billing/methods", "Add a card or bank account"),
    ("/portal/billing/plans", "Review and sign"),
    ("/portal/billing/plans/plan_2", 'action="/portal/billing/plans/plan_2/sign"'),
])
def test_the_write_controls_are_shown_to_the_patient_and_not_to_a_contact(gateway, path, control):
    assert control in get(gateway + path).text
    for who in CONTACTS:
        page = get(gateway + path, who)
        assert page.status_code == 200 and control not in page.text and PART2 in page.text


def test_an_estimate_shows_approve_and_decline_to_the_patient_only(gateway):
    assert "Approve this estimate" in get(f"{gateway}/portal/estimates/est_1").text
    page = get(f"{gateway}/portal/estimates/est_1", "contact-billing_and_clinical")
    assert page.status_code == 200 and "Approve this estimate" not in page.text
    assert 'action="/portal/estimates/est_1/decision"' not in page.text


# ---- 2. Join ------------------------------------------------------------------------------

def test_a_contact_cannot_join_the_session_nor_is_shown_join(gateway):
    assert "/portal/appointments/ap_soon/join" in get(f"{gateway}/portal/appointments").text
    listing = get(f"{gateway}/portal/appointments", "contact-billing_and_clinical")
    assert listing.status_code == 200 and "ap_soon" in listing.text and "/join" not in listing.text
    CALLS.clear()
    joined = get(f"{gateway}/portal/appointments/ap_soon/join", "contact-billing_and_clinical")
    assert joined.status_code == 403 and "Location" not in joined.headers
    assert WRITE_REFUSED in joined.text
    assert denials() == [("record_access", "denied:portal.write", "cl_1", "denied")]
    assert writes() == []


# ---- 3. what names diagnoses is not for a billing-only contact -------------------------------

@pytest.mark.parametrize("path", ["/portal/estimates", "/portal/estimates/est_1",
                                  "/portal/estimates/est_1/pdf",
                                  "/portal/billing/superbill?start=2026-01-01&end=2026-12-31"])
def test_a_billing_only_contact_is_refused_estimates_and_superbills(gateway, path):
    page = get(gateway + path, "contact-billing")
    assert page.status_code == 403 and "not shared with you" in page.text
    assert "F41.1" not in page.text and "pdf" not in page.headers.get("Content-Type", "")
    assert denials() == [("record_access", "denied:portal.billing_clinical", "cl_1", "denied")]
    assert not any(call[0] in ("list_estimates", "get_estimate", "estimate_pdf", "superbill")
                   for call in CALLS)
    allowed = get(gateway + path, "contact-billing_and_clinical")
    assert allowed.status_code == 200


def test_a_billing_only_contact_is_not_shown_estimates_nor_the_superbill_form(gateway):
    for who, shown in (("patient", True), ("contact-billing_and_clinical", True),
                       ("contact-billing", False)):
        page = get(f"{gateway}/portal/billing/statements", who).text
        menu = re.search(r'<nav class="billing-menu".*?</nav>', page, re.S).group(0)
        assert ('href="/portal/estimates"' in menu) is shown
        assert ('action="/portal/billing/superbill"' in page) is shown
        assert "Statements and Super Bills" in menu


# ---- 4. fail closed -------------------------------------------------------------------------

@pytest.mark.parametrize("who", ["stray", "nobody"])
@pytest.mark.parametrize("path", ["/portal", "/portal/billing", "/portal/documents/consents"])
def test_a_session_acting_for_no_client_of_its_own_is_refused(gateway, who, path):
    page = get(gateway + path, who)
    assert page.status_code == 403 and "Avery" not in page.text.split("</header>")[-1]
    assert [call[1] for call in denials()] == ["denied:portal.no_client"]
    assert not any(call[0] in ("list_consents", "financial_summary") for call in CALLS)


# ---- 5. revoke only a release ----------------------------------------------------------------

@pytest.mark.parametrize("consent_id", ["co_1", "co_old", "co_none"])
def test_only_a_signed_or_waiting_release_can_be_revoked(gateway, consent_id):
    page = post(f"{gateway}/portal/documents/consents/{consent_id}/revoke")
    assert page.status_code == 404 and writes() == []


def test_a_signed_release_is_revoked(gateway):
    page = post(f"{gateway}/portal/documents/consents/co_rel/revoke")
    assert page.headers["Location"] == "/portal/documents/consents?notice=revoked"
    assert writes() == [("revoke_consent", "co_rel")]


# ---- 6. a contact does not see releases nor where the client signed ----------------------------

def test_a_contact_does_not_see_the_clients_releases(gateway):
    assert "Jordan Pike" in get(f"{gateway}/portal/documents/consents").text
    page = get(f"{gateway}/portal/documents/consents", "contact-billing_and_clinical")
    assert page.status_code == 200 and "Title co_1" in page.text
    assert "Jordan Pike" not in page.text and "co_rel" not in page.text
    for path in ("/portal/documents/consents/co_rel", "/portal/documents/consents/co_rel/signed.pdf"):
        CALLS.clear()
        refused = get(gateway + path, "contact-billing_and_clinical")
        assert refused.status_code == 404 and "Jordan Pike" not in refused.text
        assert denials() == [("record_access", "denied:document.read", "cl_1", "denied")]


def test_a_contact_is_not_given_the_signers_address_or_browser():
    seen = as_seen_by({"scope": "billing_and_clinical"}, CONSENTS["co_1"])
    assert "ip" not in seen["signature"] and "user_agent" not in seen["signature"]
    assert seen["signature"]["typed_name"] == "Avery Reyes"
    assert as_seen_by({}, CONSENTS["co_1"])["signature"]["ip"] == "198.51.100.23"


# ---- 7. the 42 CFR Part 2 notice where a contact downloads ------------------------------------

def test_a_contact_is_told_the_part2_notice_applies_to_its_downloads(gateway):
    for path in ("/portal/billing/invoices/inv_1", "/portal/billing/payments/pay_1",
                 "/portal/estimates/est_1", "/portal/documents/consents"):
        assert 'data-testid="part2-download"' not in get(gateway + path).text
        page = get(gateway + path, "contact-billing_and_clinical")
        assert page.status_code == 200 and 'data-testid="part2-download"' in page.text, path
        assert PART2 in page.text


def test_a_contacts_receipt_pdf_carries_the_part2_notice(gateway, monkeypatch):
    from servicekit import pdf as pdf_engine
    rendered = []
    monkeypatch.setattr(pdf_engine, "render", lambda html: rendered.append(html) or b"%PDF-1.7")
    for who in ("patient", "contact-billing"):
        page = get(f"{gateway}/portal/billing/payments/pay_1/receipt.pdf", who)
        assert page.status_code == 200 and page.content.startswith(b"%PDF")
    assert PART2 not in rendered[0] and PART2 in rendered[1]


def test_an_estimate_pdf_a_contact_downloads_is_audited(gateway):
    page = get(f"{gateway}/portal/estimates/est_1/pdf", "contact-billing_and_clinical")
    assert page.status_code == 200 and page.headers["Content-Type"] == "application/pdf"
    assert ("record_access", "estimate.read", "cl_1", "ok") in CALLS
