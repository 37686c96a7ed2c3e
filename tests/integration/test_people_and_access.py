"""People and access over HTTP and the real broker: portal invitation and
the welcome email, password set / change / reset, sign-out on the server,
lockout, a guardian switching between clients, roles, and the audit log."""
import re

import pytest
import requests

from tests.fixtures.stack import Browser
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration

NEW_PASSWORD = "correct horse battery staple"
ADMIN = ("admin@demo.cairn.test", "demo-staff-2026!")
CLINICIAN = ("clinician@demo.cairn.test", "demo-staff-2026!")
GENERIC = "That email and password do not match"


def email_to(cairn, address, subject_part, after=0):
    def find():
        found = [m for m in cairn.mail.messages()[after:]
                 if address in str(m["To"]) and subject_part.lower() in m["Subject"].lower()]
        return found[-1] if found else None
    return wait_until(find, timeout=20, what=f"'{subject_part}' email to {address}")


def link_in(message, kind):
    text = message.get_body(("plain",)).get_content()
    match = re.search(rf"(http://127\.0\.0\.1:\d+/{kind}/set-password/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+)", text)
    assert match, text
    return match.group(1)


def set_password(link, password):
    browser = Browser(link.split("/portal/")[0].split("/staff/")[0])
    form = browser.get(link)
    csrf = browser.cookies.get("cairn_form")   # the double-submit token the form carries too
    return browser.post(link, data={"password": password, "password_again": password, "csrf": csrf}), form


def test_invite_welcome_set_password_sign_in_change_password_sign_out(cairn):
    staff = cairn.staff()
    csrf = staff.csrf("/staff/clients/new?kind=client")
    created = staff.post("/staff/clients", data={"csrf": csrf, "kind": "client", "first_name": "Taylor",
                                                 "last_name": "Brooks", "email": "taylor@demo.cairn.test"})
    client_id = re.search(r"/staff/clients/(cl_[0-9a-f]+)", created.url).group(1)
    sent_before = len(cairn.mail.messages())
    invited = staff.post(f"/staff/clients/{client_id}/invite", data={
        "csrf": csrf, "email": "taylor@demo.cairn.test", "name": "Taylor Brooks", "relationship": "self"})
    assert "Portal invitation sent" in invited.text

    welcome = email_to(cairn, "taylor@demo.cairn.test", "", after=sent_before)
    text = welcome.get_body(("plain",)).get_content()
    html = welcome.get_body(("html",)).get_content()
    assert "Riley Front Desk" in text and "taylor@demo.cairn.test" in text
    assert f"{cairn.url}/portal/login" in text
    assert "password:" not in text.lower() and "demo-" not in text
    assert "Recovery" not in welcome["Subject"]
    link = link_in(welcome, "portal")
    assert link in html

    weak, form = set_password(link, "short")
    assert "taylor@demo.cairn.test" in form.text
    assert weak.status_code == 400 and "12" in weak.text
    done, _ = set_password(link, NEW_PASSWORD)
    assert "Your password is set" in done.text
    reused, _ = set_password(link, NEW_PASSWORD + "!")
    assert reused.status_code == 410

    patient = Browser(cairn.url)
    assert patient.sign_in("portal", "taylor@demo.cairn.test", NEW_PASSWORD).url.endswith("/portal")
    first_cookie = patient.cookies.get("cairn_portal_session")
    home = patient.get("/portal")
    assert "Welcome, Taylor" in home.text

    csrf = patient.csrf("/portal/account")
    wrong = patient.post("/portal/account/password", data={
        "csrf": csrf, "current_password": "not it at all", "password": NEW_PASSWORD + " 2",
        "password_again": NEW_PASSWORD + " 2"})
    assert wrong.status_code == 400 and "current password is not right" in wrong.text
    changed = patient.post("/portal/account/password", data={
        "csrf": csrf, "current_password": NEW_PASSWORD, "password": NEW_PASSWORD + " 2",
        "password_again": NEW_PASSWORD + " 2"})
    assert "Your password has been changed" in changed.text

    patient.post("/portal/logout", data={"csrf": csrf})
    replay = requests.get(f"{cairn.url}/portal", cookies={"cairn_portal_session": first_cookie},
                          allow_redirects=False, timeout=10)
    assert replay.status_code == 303 and replay.headers["Location"] == "/portal/login"

    old = Browser(cairn.url).sign_in("portal", "taylor@demo.cairn.test", NEW_PASSWORD)
    assert old.status_code == 401 and GENERIC in old.text
    again = Browser(cairn.url)
    again.sign_in("portal", "taylor@demo.cairn.test", NEW_PASSWORD + " 2")
    assert again.cookies.get("cairn_portal_session") not in (None, first_cookie)


def test_lockout_then_reset_by_email(cairn):
    login = "avery@demo.cairn.test"
    for _ in range(5):
        failed = Browser(cairn.url).sign_in("portal", login, "wrong password guess")
        assert failed.status_code == 401 and GENERIC in failed.text
    locked = Browser(cairn.url).sign_in("portal", login, "demo-portal-2026")
    assert locked.status_code == 401 and GENERIC in locked.text
    unknown = Browser(cairn.url).sign_in("portal", "nobody@demo.cairn.test", "demo-portal-2026")
    assert (unknown.status_code, GENERIC in unknown.text) == (401, True)

    before = len(cairn.mail.messages())
    browser = Browser(cairn.url)
    csrf = browser.csrf("/portal/forgot")
    for address in (login, "nobody@demo.cairn.test"):
        asked = browser.post("/portal/forgot", data={"csrf": csrf, "login": address})
        assert "If an account uses that address" in asked.text
    reset = email_to(cairn, login, "", after=before)
    assert not [m for m in cairn.mail.messages()[before:] if "nobody@" in str(m["To"])]
    done, _ = set_password(link_in(reset, "portal"), NEW_PASSWORD)
    assert "Your password is set" in done.text
    assert Browser(cairn.url).sign_in("portal", login, NEW_PASSWORD).url.endswith("/portal")


def test_guardian_switches_between_linked_clients_and_is_refused_a_third(cairn):
    guardian = cairn.sign_in("portal", "morgan@demo.cairn.test", "demo-portal-2026")
    home = guardian.get("/portal").text
    assert "Ellis Reyes" in home and "Kai Reyes" in home
    assert "Welcome, Morgan Reyes" in home                  # a guardian is greeted by their own name
    csrf = guardian.csrf("/portal")
    switched = guardian.post("/portal/switch", data={"csrf": csrf, "client_id": "cl_demo_kai"})
    assert "You are viewing <strong>Kai Reyes</strong>" in switched.text
    refused = guardian.post("/portal/switch", data={"csrf": csrf, "client_id": "cl_demo_avery"})
    assert refused.status_code == 403
    assert "You are viewing <strong>Kai Reyes</strong>" in guardian.get("/portal").text


def test_roles_are_checked_on_every_staff_page(cairn):
    clinician = cairn.staff(*CLINICIAN)
    assert clinician.get("/staff/clients/cl_demo_sam").status_code == 200
    assert clinician.get("/staff/clients/cl_demo_sam/financial").status_code == 403
    csrf = clinician.csrf("/staff/clients/cl_demo_sam")
    created = clinician.post("/staff/clients", data={"csrf": csrf, "kind": "client",
                                                     "first_name": "No", "last_name": "Access"})
    assert created.status_code == 403
    assert cairn.staff().get("/staff/audit").status_code == 403


def test_audit_log_shows_the_accesses(cairn):
    cairn.staff().get("/staff/clients/cl_demo_sam")
    cairn.staff(*CLINICIAN).get("/staff/clients/cl_demo_sam/financial")
    Browser(cairn.url).sign_in("portal", "jordan@demo.cairn.test", "not the password")
    admin = cairn.staff(*ADMIN)

    def entries():
        page = admin.get("/staff/audit").text
        return page if all(s in page for s in ("client.read", "portal.sign_in_failed")) else None
    page = wait_until(entries, what="audit entries")
    assert "cl_demo_sam" in page and "denied" in page
    assert "st_demo_frontdesk" in page
    sam_only = admin.get("/staff/audit", params={"client_id": "cl_demo_sam"}).text
    assert "cl_demo_sam" in sam_only and "portal.sign_in_failed" not in sam_only
    odd = admin.get("/staff/audit", params={"client_id": "x" * 41})
    assert odd.status_code == 400 and "Enter a client id as it is shown" in odd.text


def alerts(response):
    return re.findall(r'role="(?:status|alert)"[^>]*>([^<]+)', response.text)


def test_staff_keep_profiles_contacts_insurance_and_settings(cairn):
    staff = cairn.staff()
    csrf = staff.csrf("/staff/clients/cl_demo_jordan")
    base = "/staff/clients/cl_demo_jordan"
    contact = {"csrf": csrf, "name": "Pat Okafor", "relationship": "spouse", "phone": "(555) 010-4444",
               "email": "pat@demo.cairn.test", "address": "", "may_receive": "billing_and_clinical",
               "roi_start": "", "roi_end": ""}
    refused = staff.post(f"{base}/contacts", data=contact)
    assert refused.status_code == 400 and "roi" in " ".join(alerts(refused)).lower()
    added = staff.post(f"{base}/contacts", data={**contact, "roi_start": "2026-01-01", "roi_end": "2026-12-31"})
    assert alerts(added) == ["Contact added."] and "Pat Okafor" in added.text
    contact_id = re.search(r"/contacts/(ct_[0-9a-f]+)/inactivate", added.text).group(1)
    inactive = staff.post(f"{base}/contacts/{contact_id}/inactivate", data={"csrf": csrf})
    assert "Inactive" in inactive.text and "Pat Okafor" in inactive.text          # history stays

    policy = {"csrf": csrf, "payer": "Aetna", "plan": "PPO", "member_id": "W123456", "group_number": "G-9",
              "subscriber_name": "Jordan Okafor", "subscriber_relationship": "self",
              "effective_on": "2026-01-01", "end_on": "2025-01-01", "priority": "primary"}
    assert staff.post(f"{base}/insurance", data=policy).status_code == 400      # ends before it starts
    saved = staff.post(f"{base}/insurance", data={**policy, "end_on": ""})
    assert alerts(saved) == ["Insurance added."] and "W123456" in saved.text
    events = {r.event_type for r in cairn.sql("clients", "select event_type from outbox")}
    assert {"InsuranceAdded", "ContactChanged"} <= events

    inquiry = staff.post("/staff/clients", data={"csrf": csrf, "kind": "inquiry", "first_name": "Robin",
                                                 "last_name": "Vale", "email": "robin@demo.cairn.test"})
    inquiry_id = re.search(r"/staff/clients/(cl_[0-9a-f]+)", inquiry.url).group(1)
    converted = staff.post(f"/staff/clients/{inquiry_id}/convert", data={"csrf": csrf})
    assert "converted to a client" in converted.text and "Client profile" in converted.text

    admin = cairn.staff(*ADMIN)
    admin_csrf = admin.csrf("/staff/settings")
    upload = admin.post("/staff/settings/handbook", data={"csrf": admin_csrf},
                        files={"handbook": ("handbook.pdf", b"%PDF-1.4 handbook", "application/pdf")})
    assert upload.status_code == 200
    patient = cairn.sign_in("portal", "sam@demo.cairn.test", "demo-portal-2026")
    assert "client handbook" in patient.get("/portal").text
    download = patient.get("/portal/handbook")
    assert download.content == b"%PDF-1.4 handbook"
    assert "attachment" in download.headers["Content-Disposition"]
    assert staff.post("/staff/settings/handbook", data={"csrf": csrf},
                      files={"handbook": ("x.pdf", b"x", "application/pdf")}).status_code == 403


def test_client_search_is_posted_so_names_stay_out_of_urls(cairn):
    staff = cairn.staff()
    page = staff.get("/staff").text
    assert '<form method="post" action="/staff"' in page
    found = staff.post("/staff", data={"csrf": staff.csrf("/staff"), "q": "Okafor", "kind": ""})
    assert "Okafor, Jordan" in found.text and "Lindqvist" not in found.text
    assert found.url.endswith("/staff")
