"""The portal's Contacts and Insurance pages and the staff contact invite,
through the gateway with stand-ins behind it: a contact added with a release
of information asks documents for the consent (naming the contact) and
lands on its signature page; refused fields come back next to the field;
another client's contact is "not found" and audited; Add Insurance is a
dialog with a no-JavaScript page behind the same button."""
import re
from datetime import date

import pytest
import requests
from nameko.rpc import rpc

from portal_gateway import contact_forms
from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, Conflict, InvalidInput
from tests.support.processes import free_port

CALLS: list = []
LATER = "2099-01-01T00:00:00.000000Z"


def contact(contact_id, name, **changes):
    return {"id": contact_id, "client_id": "cl_1", "name": name, "relationship": "Sister",
            "phone": "555-222-3333", "email": "dana@home.test", "address": "",
            "may_receive": "billing", "roi_start": None, "roi_end": None, "active": True,
            "release_status": "none", "release_consent_id": None, **changes}


CONTACTS = [contact("ct_dana", "Dana Vale", release_status="active", release_consent_id="cns_0"),
            contact("ct_old", "Old Friend", active=False)]
POLICIES = [{"id": "ins_1", "client_id": "cl_1", "payer": "Blue Shield", "plan": "PPO",
             "member_id": "XZ123", "group_number": "G9", "subscriber_name": "Avery Lindqvist",
             "subscriber_relationship": "self", "effective_on": "2026-01-01", "end_on": None,
             "priority": "primary", "added_via": "portal"}]


def session_of(token):
    common = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER, "name": "Avery Lindqvist",
              "totp_enabled": False}
    if token == "staff":
        return {**common, "kind": "staff", "subject_id": "st_1", "role": "front_desk",
                "permissions": ["clients.read", "contacts.write", "insurance.write",
                                "portal.invite"], "acting_for": None, "clients": []}
    scope = "billing" if token == "contact" else "full"
    return {**common, "kind": "portal", "subject_id": "pa_1", "acting_for": "cl_1", "role": "patient",
            "permissions": [], "clients": [{"id": "cl_1", "name": "Avery Lindqvist",
                                            "first_name": "Avery", "relationship": "self",
                                            "scope": scope}]}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return session_of(token)

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "phone": "555-0100", "email": "o@x.test", "address": "",
                "logo_url": "", "welcome_message": "", "has_handbook": False, "locations": []}

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", actor["kind"], action, client_id, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def list_contacts(self, client_id, actor, include_inactive=True):
        CALLS.append(("list_contacts", client_id, actor["kind"]))
        return CONTACTS

    @rpc(expected_exceptions=EXPECTED)
    def add_contact(self, client_id, payload, actor):
        CALLS.append(("add_contact", client_id, payload, actor["client_id"]))
        if payload["phone"] == "call me":
            raise InvalidInput("phone is not a valid phone number")
        if payload["roi_end"] and payload["roi_end"] < payload["roi_start"]:
            raise InvalidInput("roi_end must be on or after roi_start")
        return contact("ct_new", payload["name"], may_receive=payload["may_receive"],
                       roi_start=payload["roi_start"], roi_end=payload["roi_end"])

    @rpc(expected_exceptions=EXPECTED)
    def update_contact(self, contact_id, changes, actor):
        CALLS.append(("update_contact", contact_id, changes))
        return {**CONTACTS[0], **changes}

    @rpc(expected_exceptions=EXPECTED)
    def inactivate_contact(self, contact_id, actor):
        CALLS.append(("inactivate_contact", contact_id))
        return {**CONTACTS[0], "active": False}

    @rpc(expected_exceptions=EXPECTED)
    def mark_release_requested(self, contact_id, consent_id, actor):
        CALLS.append(("mark_release_requested", contact_id, consent_id, actor["kind"]))
        return contact(contact_id, "x", release_status="pending", release_consent_id=consent_id)

    @rpc(expected_exceptions=EXPECTED)
    def list_insurance(self, client_id, actor):
        return POLICIES

    @rpc(expected_exceptions=EXPECTED)
    def add_insurance(self, client_id, payload, actor):
        CALLS.append(("add_insurance", client_id, payload))
        if payload["end_on"] and payload["end_on"] < payload["effective_on"]:
            raise InvalidInput("end_on must be on or after effective_on")
        return {**POLICIES[0], **payload}

    @rpc(expected_exceptions=EXPECTED)
    def client_record(self, client_id, actor):
        return {"client": {"id": client_id, "kind": "client", "name": "Avery Lindqvist",
                           "email": "", "phone": "", "date_of_birth": None},
                "contacts": CONTACTS + [contact("ct_wait", "Wait Person", release_status="pending")],
                "insurance": POLICIES}

    @rpc(expected_exceptions=EXPECTED)
    def invite_contact_to_portal(self, contact_id, actor):
        CALLS.append(("invite_contact_to_portal", contact_id, actor["kind"]))
        if contact_id == "ct_wait":
            raise Conflict("This contact has no signed release of information.")
        return {"account_id": "pa_9", "client_id": "cl_1", "username": "dana@home.test",
                "relationship": "contact", "created": True}


class Documents:
    name = "documents"

    @rpc(expected_exceptions=EXPECTED)
    def part2_notice(self):
        return "This record which has been disclosed to you is protected by Federal confidentiality rules (42 CFR part 2)."

    @rpc(expected_exceptions=EXPECTED)
    def request_consent(self, client_id, template_key, by, request_key, contact=None):
        CALLS.append(("request_consent", client_id, template_key, by, request_key, contact))
        return {"id": "cns_1", "client_id": client_id, "template_key": template_key,
                "status": "outstanding", "contact_id": contact["id"]}


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    for service in (Clients, Documents, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    return f"http://127.0.0.1:{port}"


def get(gateway, path, who="portal"):
    cookie = "cairn_staff_session" if who == "staff" else "cairn_portal_session"
    return requests.get(gateway + path, cookies={cookie: who}, allow_redirects=False, timeout=10)


def post(gateway, path, form, who="portal"):
    cookie = "cairn_staff_session" if who == "staff" else "cairn_portal_session"
    return requests.post(gateway + path, data={"csrf": "c", **form}, cookies={cookie: who},
                         allow_redirects=False, timeout=10)


def calls(name):
    return [call for call in CALLS if call[0] == name]


NEW = {"name": "Jamie Vale", "relationship": "Brother", "phone": "555-123-4567",
       "email": "jamie@home.test", "address": "", "may_receive": "billing", "roi_end": ""}


def test_the_contacts_page_lists_current_and_inactive_contacts_with_add_edit_inactivate(gateway):
    page = get(gateway, "/portal/contacts")
    assert page.status_code == 200
    html = page.text
    assert 'href="/portal/contacts/new"' in html and "Add New Contact" in html
    current = html.split('data-testid="current-contacts"')[1].split("Inactive contacts")[0]
    assert "Dana Vale" in current and "Release signed" in current
    assert 'href="/portal/contacts/ct_dana/edit"' in html
    assert 'href="/portal/contacts/ct_dana/inactivate"' in html
    inactive = html.split('data-testid="inactive-contacts"')[1]
    assert "Old Friend" in inactive and "/portal/contacts/ct_old/edit" not in html


def test_a_contact_added_with_a_release_asks_for_the_consent_and_opens_its_sign_page(gateway):
    form = get(gateway, "/portal/contacts/new").text
    assert "Ask for a release of information for this contact" in form
    key = re.search(r'name="request_key" value="([^"]+)"', form).group(1)
    answer = post(gateway, "/portal/contacts", {**NEW, "release": "yes", "request_key": key,
                                                "may_receive": "billing_and_clinical",
                                                "roi_end": "2027-01-31"})
    assert answer.status_code == 303
    assert answer.headers["Location"] == "/portal/documents/consents/cns_1"
    [(_, client_id, payload, acting_for)] = calls("add_contact")
    assert (client_id, acting_for) == ("cl_1", "cl_1")
    assert payload["roi_start"] == date.today().isoformat() and payload["roi_end"] == "2027-01-31"
    [(_, client_id, template, by, request_key, named)] = calls("request_consent")
    assert (client_id, template) == ("cl_1", "release")
    assert by == {"kind": "portal", "id": "pa_1", "name": "Avery Lindqvist"}
    assert key in request_key
    assert named == {"id": "ct_new", "name": "Jamie Vale", "may_receive": "billing_and_clinical",
                     "until": "2027-01-31"}
    assert calls("mark_release_requested") == [("mark_release_requested", "ct_new", "cns_1", "portal")]


def test_a_contact_without_a_release_goes_back_to_the_list(gateway):
    answer = post(gateway, "/portal/contacts", NEW)
    assert (answer.status_code, answer.headers["Location"]) == (303, "/portal/contacts?notice=added")
    assert calls("request_consent") == [] and calls("add_contact")[0][2]["roi_start"] is None
    assert "Contact added." in get(gateway, "/portal/contacts?notice=added").text


def test_refused_fields_come_back_next_to_the_field_and_no_release_is_asked(gateway):
    page = post(gateway, "/portal/contacts", {**NEW, "phone": "call me", "release": "yes"})
    assert page.status_code == 400
    assert 'id="phone-error">Enter a phone number with at least 7 digits' in page.text
    assert 'aria-invalid="true" aria-describedby="phone-error"' in page.text
    assert 'value="call me"' in page.text and 'name="release" value="yes" checked' in page.text
    past = post(gateway, "/portal/contacts", {**NEW, "roi_end": "2001-01-01"})
    assert past.status_code == 400
    assert 'id="roi_end-error">Choose the last day this contact may receive clinical' in past.text
    # every empty required field at once, before asking the service
    empty = post(gateway, "/portal/contacts", {**NEW, "name": "", "relationship": "",
                                               "may_receive": "billing_and_clinical"})
    assert empty.status_code == 400 and "There are 3 problems" in empty.text
    for field in ("name", "relationship", "roi_end"):
        assert f'id="{field}-error"' in empty.text
    assert len(calls("add_contact")) == 2
    assert calls("request_consent") == [] and calls("mark_release_requested") == []


def test_editing_with_a_release_asks_for_a_new_consent(gateway):
    form = get(gateway, "/portal/contacts/ct_dana/edit")
    assert form.status_code == 200 and 'value="Dana Vale"' in form.text
    assert "You signed a release for Dana Vale" in form.text
    answer = post(gateway, "/portal/contacts/ct_dana/edit", {**NEW, "name": "Dana Vale",
                                                            "release": "yes"})
    assert answer.headers["Location"] == "/portal/documents/consents/cns_1"
    [(_, contact_id, changes)] = calls("update_contact")
    assert contact_id == "ct_dana" and changes["phone"] == "555-123-4567"
    assert calls("request_consent")[0][5]["id"] == "ct_dana"


def test_inactivating_asks_first_then_inactivates(gateway):
    confirm = get(gateway, "/portal/contacts/ct_dana/inactivate")
    assert confirm.status_code == 200 and "Inactivate Dana Vale?" in confirm.text
    assert calls("inactivate_contact") == []
    done = post(gateway, "/portal/contacts/ct_dana/inactivate", {})
    assert done.headers["Location"] == "/portal/contacts?notice=inactivated"
    assert calls("inactivate_contact") == [("inactivate_contact", "ct_dana")]


def test_another_clients_contact_is_not_found_and_audited(gateway):
    for answer in (get(gateway, "/portal/contacts/ct_someone_else/edit"),
                   post(gateway, "/portal/contacts/ct_someone_else/edit", NEW),
                   get(gateway, "/portal/contacts/ct_someone_else/inactivate"),
                   post(gateway, "/portal/contacts/ct_someone_else/inactivate", {})):
        assert answer.status_code == 404 and "We could not find that contact." in answer.text
    assert calls("record_access") == [("record_access", "portal", "denied:contact", "cl_1",
                                       "denied")] * 4
    assert calls("update_contact") == [] and calls("inactivate_contact") == []


def test_a_third_party_contact_signed_in_sees_neither_contacts_nor_insurance(gateway):
    for path in ("/portal/contacts", "/portal/contacts/new", "/portal/insurance",
                 "/portal/insurance/new"):
        assert get(gateway, path, who="contact").status_code == 403
    assert post(gateway, "/portal/contacts", NEW, who="contact").status_code == 403
    assert calls("add_contact") == [] and calls("list_contacts") == []


POLICY = {"payer": "Aetna", "plan": "HMO", "member_id": "M-1", "group_number": "",
          "subscriber_name": "Avery Lindqvist", "subscriber_relationship": "self",
          "priority": "primary", "effective_on": "2026-02-01", "end_on": ""}


def test_the_insurance_page_has_an_add_insurance_dialog_and_a_page_without_javascript(gateway):
    html = get(gateway, "/portal/insurance").text
    assert "Blue Shield" in html and "XZ123" in html
    assert re.search(r'<a class="button pay big" id="add-insurance" href="/portal/insurance/new"', html)
    assert re.search(r'<dialog class="form-dialog" id="insurance-dialog" '
                     r'aria-labelledby="insurance-dialog-title">', html)
    assert '<h2 id="insurance-dialog-title">Add insurance</h2>' in html
    assert 'name="via" value="dialog"' in html and "data-close-dialog" in html
    assert '<script src="/static/insurance_dialog.js" defer></script>' in html
    script = requests.get(gateway + "/static/insurance_dialog.js", timeout=10)
    assert "showModal" in script.text and "opener.focus()" in script.text
    alone = get(gateway, "/portal/insurance/new").text
    assert 'name="via" value="page"' in alone and "<dialog" not in alone


def test_insurance_is_saved_or_refused_next_to_the_field_where_it_was_typed(gateway):
    saved = post(gateway, "/portal/insurance", {**POLICY, "via": "dialog"})
    assert saved.headers["Location"] == "/portal/insurance?notice=insurance-added"
    [(_, client_id, payload)] = calls("add_insurance")
    assert client_id == "cl_1" and payload["end_on"] is None and "via" not in payload
    in_dialog = post(gateway, "/portal/insurance", {**POLICY, "member_id": "", "payer": "",
                                                    "via": "dialog"})
    assert in_dialog.status_code == 400
    assert "aria-labelledby=\"insurance-dialog-title\" data-open>" in in_dialog.text
    assert 'id="member_id-error">Enter the member ID printed on the insurance card.' in in_dialog.text
    assert 'id="payer-error">Enter the name of the insurance company.' in in_dialog.text
    on_page = post(gateway, "/portal/insurance", {**POLICY, "end_on": "2025-01-01", "via": "page"})
    assert on_page.status_code == 400 and "<dialog" not in on_page.text
    assert 'id="end_on-error">The end date must be on or after the start date.' in on_page.text
    assert 'value="Aetna"' in on_page.text
    assert len(calls("add_insurance")) == 2          # the empty fields never reached the service


def test_staff_see_release_status_and_invite_a_contact_with_an_active_release(gateway):
    tab = get(gateway, "/staff/clients/cl_1/contacts", who="staff").text
    assert tab.count("Invite to portal</button>") == 1                 # Dana's release is signed
    assert 'action="/staff/clients/cl_1/contacts/ct_dana/invite"' in tab
    assert "Waiting for signature" in tab
    sent = post(gateway, "/staff/clients/cl_1/contacts/ct_dana/invite", {}, who="staff")
    assert sent.headers["Location"] == "/staff/clients/cl_1/contacts?notice=contact-invited"
    refused = post(gateway, "/staff/clients/cl_1/contacts/ct_wait/invite", {}, who="staff")
    assert refused.status_code == 409 and "no signed release of information" in refused.text
    elsewhere = post(gateway, "/staff/clients/cl_1/contacts/ct_other/invite", {}, who="staff")
    assert elsewhere.status_code == 404
    assert calls("invite_contact_to_portal") == [("invite_contact_to_portal", "ct_dana", "staff"),
                                                 ("invite_contact_to_portal", "ct_wait", "staff")]
    insurance = get(gateway, "/staff/clients/cl_1/insurance", who="staff").text
    assert "The patient, in the portal" in insurance


def test_a_contact_sent_back_unchanged_keeps_its_release_dates():
    on_file = contact("ct_1", "Dana Vale", roi_start="2026-01-05", roi_end=None)
    form = {key: on_file[key] or "" for key in contact_forms.CONTACT_FIELDS}
    payload = contact_forms.contact_payload(form, date(2026, 6, 1), existing=on_file)
    assert (payload["roi_start"], payload["roi_end"]) == ("2026-01-05", None)
    fresh = contact_forms.contact_payload({**form, "may_receive": "billing_and_clinical",
                                           "roi_end": "2026-09-30"}, date(2026, 6, 1))
    assert (fresh["roi_start"], fresh["roi_end"]) == ("2026-06-01", "2026-09-30")
    plain = contact_forms.contact_payload(form, date(2026, 6, 1))
    assert (plain["roi_start"], plain["roi_end"]) == (None, None)
