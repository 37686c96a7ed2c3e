"""The portal shell through the gateway, with stand-ins behind it: the left
main menu and the account menu on every page, Home (welcome, contact
details, the handbook, what is waiting) in two parallel RPCs, Appointments
(clinic time, Join only while open, Add to calendar as a real .ics),
Messages (opening one marks it read and links to what it is about), and the
refusals: another client's appointment or message is a 404, audited; a
third-party contact sees only what its release allows, with the 42 CFR
Part 2 notice."""
import base64
import re
from datetime import datetime, timedelta, timezone

import eventlet
import icalendar
import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, NotFound
from tests.support.processes import free_port

CALLS: list = []
LATER = "2099-01-01T00:00:00.000000Z"
PART2 = ("This information has been disclosed to you from records protected by federal "
         "confidentiality rules (42 CFR part 2).")
HANDBOOK = {"answer": None}
JOIN_URL = "https://telehealth.example/join/r-7f3a9c"
PDF = b"%PDF-1.7 handbook"


def iso(moment):
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def session_of(token):
    common = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER, "kind": "portal",
              "permissions": [], "role": "patient"}
    if token == "guardian":
        return {**common, "subject_id": "pa_9", "name": "Dana Reyes", "acting_for": "cl_2",
                "clients": [{"id": "cl_1", "name": "Avery Reyes", "first_name": "Avery",
                             "relationship": "guardian"},
                            {"id": "cl_2", "name": "Kai Reyes", "first_name": "Kai",
                             "relationship": "guardian"}]}
    if token.startswith("contact-"):
        return {**common, "subject_id": "pa_5", "name": "Morgan Lee", "acting_for": "cl_1",
                "clients": [{"id": "cl_1", "name": "Avery Reyes", "first_name": "Avery",
                             "relationship": "contact", "scope": token[len("contact-"):]}]}
    return {**common, "subject_id": "pa_1", "name": "Avery Reyes", "acting_for": "cl_1",
            "clients": [{"id": "cl_1", "name": "Avery Reyes", "first_name": "Avery",
                         "relationship": "self"}]}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return session_of(token)

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", actor["kind"], action, client_id))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "phone": "555-0100", "email": "front@cedar.test",
                "welcome_message": "We are glad you are here.", "logo_url": None,
                "locations": [{"id": "loc_1", "name": "Main office", "address": "1 Elm St",
                               "phone": "", "email": ""}]}


class Documents:
    name = "documents"

    @rpc(expected_exceptions=EXPECTED)
    def portal_summary(self, client_id):
        CALLS.append(("portal_summary", client_id))
        return {"consents_outstanding": 1, "forms_outstanding": 2,
                "handbook": {"filename": "Client handbook.pdf"}}

    @rpc(expected_exceptions=EXPECTED)
    def open_handbook(self):
        if HANDBOOK["answer"] is None:
            raise NotFound("We could not find the handbook.")
        return HANDBOOK["answer"]

    @rpc(expected_exceptions=EXPECTED)
    def part2_notice(self):
        CALLS.append(("part2_notice",))
        return PART2


def appointments(now):
    soon = now + timedelta(minutes=5)
    return {
        "soon": {"id": "ap_soon", "client_id": "cl_1", "starts_at": iso(soon),
                 "ends_at": iso(soon + timedelta(minutes=50)), "mode": "telehealth",
                 "location_id": None, "location_name": None, "clinician_name": "Dr. Rowan Hale",
                 "status": "scheduled", "join_url": JOIN_URL, "cancelled_reason": None},
        "later": {"id": "ap_later", "client_id": "cl_1", "starts_at": "2099-01-05T15:00:00Z",
                  "ends_at": "2099-01-05T15:50:00Z", "mode": "telehealth", "location_id": None,
                  "location_name": None, "clinician_name": "Dr. Rowan Hale", "status": "scheduled",
                  "join_url": JOIN_URL, "cancelled_reason": None},
        "office": {"id": "ap_office", "client_id": "cl_1", "starts_at": "2099-01-06T14:30:00Z",
                   "ends_at": "2099-01-06T15:20:00Z", "mode": "in_person", "location_id": "loc_1",
                   "location_name": "Main office", "location_address": "1 Elm St",
                   "clinician_name": "Sam Ortiz, LCSW", "status": "scheduled", "join_url": None,
                   "cancelled_reason": None},
        "past": {"id": "ap_past", "client_id": "cl_1", "starts_at": "2020-03-02T15:00:00Z",
                 "ends_at": "2020-03-02T15:50:00Z", "mode": "in_person", "location_id": "loc_1",
                 "location_name": "Main office", "clinician_name": "Sam Ortiz, LCSW",
                 "status": "completed", "join_url": None, "cancelled_reason": None},
    }


def with_join(appointment, now):
    starts = datetime.fromisoformat(appointment["starts_at"].replace("Z", "+00:00"))
    ends = datetime.fromisoformat(appointment["ends_at"].replace("Z", "+00:00"))
    opens = starts - timedelta(minutes=10)
    is_open = appointment["mode"] == "telehealth" and opens <= now < ends
    return {**appointment, "join": {"open": is_open, "opens_at": iso(opens),
                                    "url": appointment["join_url"] if is_open else None}}


class Scheduling:
    name = "scheduling"

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, client_id):
        CALLS.append(("list_appointments", client_id))
        if client_id != "cl_1":
            return {"upcoming": [], "past": []}
        found = appointments(datetime.now(timezone.utc))
        return {"upcoming": [found["soon"], found["later"], found["office"]], "past": [found["past"]]}

    def _mine(self, appointment_id, client_id):
        found = {a["id"]: a for a in appointments(datetime.now(timezone.utc)).values()}
        if appointment_id not in found or found[appointment_id]["client_id"] != client_id:
            raise NotFound("We could not find that appointment.")
        return found[appointment_id]

    @rpc(expected_exceptions=EXPECTED)
    def get_appointment(self, appointment_id, client_id=None):
        CALLS.append(("get_appointment", appointment_id, client_id))
        return with_join(self._mine(appointment_id, client_id), datetime.now(timezone.utc))

    @rpc(expected_exceptions=EXPECTED)
    def appointment_ics(self, appointment_id, client_id=None, organization_name=None):
        CALLS.append(("appointment_ics", appointment_id, client_id, organization_name))
        appointment = self._mine(appointment_id, client_id)
        calendar = icalendar.Calendar()
        calendar.add("prodid", "-//Cairn//Scheduling//EN")
        calendar.add("version", "2.0")
        event = icalendar.Event()
        event.add("uid", f"{appointment_id}@cairn")
        event.add("summary", f"Appointment at {organization_name}")
        event.add("dtstart", datetime.fromisoformat(appointment["starts_at"].replace("Z", "+00:00")))
        event.add("dtend", datetime.fromisoformat(appointment["ends_at"].replace("Z", "+00:00")))
        event.add("dtstamp", datetime(2026, 12, 1, tzinfo=timezone.utc))
        event.add("location", appointment["location_name"] or "Online (link in the portal)")
        calendar.add_component(event)
        return {"filename": "appointment.ics", "content": calendar.to_ical().decode("utf-8")}


INBOX = [
    {"id": "msg_3", "client_id": "cl_1", "kind": "consent_posted",
     "title": "A document is waiting for your signature", "body": "", "invoice_id": None,
     "created_at": "2026-12-01T09:00:00.000000Z", "read_at": "2026-12-01T09:30:00.000000Z"},
    {"id": "msg_2", "client_id": "cl_1", "kind": "invoice_posted",
     "title": "A new invoice has been posted to your portal", "body": "Invoice INV-000042 is ready.",
     "invoice_id": "inv_42", "created_at": "2026-11-30T15:00:00.000000Z", "read_at": None},
    {"id": "msg_1", "client_id": "cl_1", "kind": "statement_posted", "title": "Your statement is ready",
     "body": "Your statement for the period ending 2026-10-31 is ready.", "invoice_id": None,
     "created_at": "2026-11-01T12:00:00.000000Z", "read_at": "2026-11-02T09:00:00.000000Z"},
]


class Notifications:
    name = "notifications"

    @rpc(expected_exceptions=EXPECTED)
    def list_inbox(self, client_id):
        CALLS.append(("list_inbox", client_id))
        return [m for m in INBOX if m["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def mark_inbox_read(self, client_id, message_id):
        CALLS.append(("mark_inbox_read", client_id, message_id))
        for message in INBOX:
            if message["id"] == message_id and message["client_id"] == client_id:
                return {**message, "read_at": message["read_at"] or "2026-12-01T10:00:00.000000Z"}
        raise NotFound("message not found")


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "EXPOSE_RPC_COUNT": "1",
              "CLINIC_TIMEZONE": "America/New_York"}
    for service in (Clients, Documents, Scheduling, Notifications, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    HANDBOOK["answer"] = None
    return f"http://127.0.0.1:{port}"


def get(url, who="patient"):
    return requests.get(url, cookies={"cairn_portal_session": who}, timeout=10, allow_redirects=False)


def rpc_count(response) -> int:
    return int(re.search(r'rpc;desc="(\d+)"', response.headers["Server-Timing"]).group(1))


def main_menu(html):
    menu = re.search(r'<nav class="portal-nav" aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<li><a href="([^"]+)"( aria-current="page")?>([^<]+?)(?: <span class="badge".*?</span></span>)?</a></li>',
                      menu)


def denials():
    return [call for call in CALLS if call[0] == "record_access" and call[2].startswith("denied:")]


# ---- the shell -------------------------------------------------------------------

def test_every_page_has_the_left_main_menu_with_the_current_area_marked(gateway):
    for path, current in (("/portal", "/portal"), ("/portal/appointments", "/portal/appointments"),
                          ("/portal/messages", "/portal/messages")):
        html = get(gateway + path).text
        assert main_menu(html) == [
            (href, ' aria-current="page"' if href == current else "", label) for href, label in (
                ("/portal", "Home"), ("/portal/appointments", "Appointments"),
                ("/portal/documents", "Documents"), ("/portal/billing", "Billing"),
                ("/portal/contacts", "Contacts"), ("/portal/insurance", "Insurance"),
                ("/portal/messages", "Messages"))]
        assert '<main id="content"' in html and 'href="#content">Skip to content</a>' in html


def test_the_menu_button_and_the_account_menu_are_real_disclosure_buttons(gateway):
    html = get(f"{gateway}/portal").text
    assert re.search(r'<button type="button" class="menu-button secondary" id="menu-button" '
                     r'data-disclosure aria-expanded="false" aria-controls="portal-menu">Menu</button>\s*'
                     r'<ul id="portal-menu">', html)
    account = re.search(r'<div class="account-menu">(.*?)</div>', html, re.S).group(1)
    assert re.search(r'<button type="button" id="account-button" data-disclosure aria-expanded="false" '
                     r'aria-controls="account-menu">Avery Reyes</button>', account)
    assert re.findall(r'<a href="([^"]+)"[^>]*>([^<]+)</a>', account) == [
        ("/portal/account#password", "Change password"), ("/portal/account#totp", "Two-step sign-in")]
    assert re.search(r'<form method="post" action="/portal/logout"><input type="hidden" name="csrf" '
                     r'value="c"><button type="submit">Log out</button></form>', account)
    assert '<script src="/static/portal.js"></script>' in html
    script = requests.get(f"{gateway}/static/portal.js", timeout=10)
    assert script.status_code == 200 and script.headers["Content-Type"].startswith("text/javascript")
    assert "aria-expanded" in script.text and "Escape" in script.text


def test_the_account_page_sections_are_addressable(gateway):
    html = get(f"{gateway}/portal/account").text
    assert '<div class="card" id="password">' in html and '<div class="card" id="totp">' in html
    assert len(re.findall(r'id="password"', html)) == 1                   # ids stay unique
    assert '<label for="new_password">New password</label>' in html


# ---- home --------------------------------------------------------------------------

def test_home_welcomes_shows_the_clinic_the_handbook_and_what_is_waiting_in_two_rpcs(gateway):
    get(f"{gateway}/portal")                              # the session and organization, cached
    CALLS.clear()
    page = get(f"{gateway}/portal")
    html = page.text
    assert page.status_code == 200 and rpc_count(page) == 2
    assert sorted(CALLS) == [("list_appointments", "cl_1"), ("portal_summary", "cl_1")]
    assert "<h1>Welcome, Avery Reyes</h1>" in html and "We are glad you are here." in html
    assert "555-0100" in html and "front@cedar.test" in html and "1 Elm St" in html
    assert '<a class="button pay" href="/portal/documents/consents">You have 1 consent to sign</a>' in html
    assert '<a class="button pay" href="/portal/documents/forms">You have 2 forms to complete</a>' in html
    assert 'href="/portal/handbook" download>Download the client handbook</a>' in html
    assert "Your next appointment" in html and "/portal/appointments/ap_soon/join" in html
    assert "You are viewing" not in html
    assert re.search(r'<a href="/portal/documents">Documents <span class="badge" data-testid="menu-consents-badge">1'
                     r'<span class="visually-hidden"> consent to sign</span></span></a>', html)


def test_a_guardian_is_greeted_by_their_own_name_and_sees_whom_they_are_viewing(gateway):
    html = get(f"{gateway}/portal", "guardian").text
    assert "<h1>Welcome, Dana Reyes</h1>" in html
    assert "You are viewing <strong>Kai Reyes</strong>." in html
    switcher = re.search(r'<form class="viewing" method="post" action="/portal/switch">(.*?)</form>',
                         html, re.S).group(1)
    assert '<label for="viewing-client">Client you are viewing</label>' in switcher
    assert re.findall(r'<option value="(cl_\d)" ?(selected)?>', switcher) == [("cl_1", ""),
                                                                          ("cl_2", "selected")]
    assert ("portal_summary", "cl_2") in CALLS and ("list_appointments", "cl_2") in CALLS
    assert "You have no upcoming appointments." in html


def test_the_handbook_is_the_documents_services(gateway):
    assert get(f"{gateway}/portal/handbook").status_code == 404
    HANDBOOK["answer"] = {"filename": "Client handbook.pdf", "content_type": "application/pdf",
                          "url": None, "content_b64": base64.b64encode(PDF).decode()}
    local = get(f"{gateway}/portal/handbook")
    assert local.status_code == 200 and local.content == PDF
    assert local.headers["Content-Disposition"] == 'attachment; filename="Client handbook.pdf"'
    assert local.headers["Cache-Control"] == "no-store"
    HANDBOOK["answer"] = {"filename": "Client handbook.pdf", "content_type": "application/pdf",
                          "url": "https://s3.example/bucket/k?X-Amz-Signature=abc", "content_b64": None}
    presigned = get(f"{gateway}/portal/handbook")
    assert presigned.status_code == 302
    assert presigned.headers["Location"] == "https://s3.example/bucket/k?X-Amz-Signature=abc"


# ---- appointments --------------------------------------------------------------------

def test_appointments_lists_upcoming_and_past_in_clinic_time_with_join_and_calendar(gateway):
    page = get(f"{gateway}/portal/appointments")
    html = page.text
    assert page.status_code == 200 and CALLS == [("list_appointments", "cl_1")]
    upcoming, past = html.split('data-testid="upcoming">')[1].split("<h2>Past</h2>")
    # the open session: a Join button; the later one says when it opens (clinic time)
    assert 'href="/portal/appointments/ap_soon/join">Join' in upcoming
    assert "/portal/appointments/ap_later/join" not in upcoming
    assert "Monday, January 5, 2099" in upcoming and "10:00 AM – 10:50 AM EST" in upcoming
    assert "Join opens on January 5 at 9:50 AM" in upcoming
    assert "Main office, 1 Elm St · with Sam Ortiz, LCSW" in upcoming and "9:30 AM – 10:20 AM EST" in upcoming
    assert "Telehealth (online) · with Dr. Rowan Hale" in upcoming
    for appointment_id in ("ap_soon", "ap_later", "ap_office"):
        assert f'href="/portal/appointments/{appointment_id}/calendar.ics" download>' in upcoming
    assert "Monday, March 2, 2020" in past and "Completed" in past
    assert "calendar.ics" not in past and "/join" not in past


def test_join_while_open_redirects_to_the_session_link_and_is_audited(gateway):
    joined = get(f"{gateway}/portal/appointments/ap_soon/join")
    assert joined.status_code == 302 and joined.headers["Location"] == JOIN_URL
    assert ("get_appointment", "ap_soon", "cl_1") in CALLS
    assert ("record_access", "portal", "appointment.join", "cl_1") in CALLS


def test_join_before_the_window_does_not_redirect_and_says_when_it_opens(gateway):
    early = get(f"{gateway}/portal/appointments/ap_later/join")
    assert early.status_code == 200 and "Location" not in early.headers
    assert JOIN_URL not in early.text
    assert "The session is not open yet. Join opens on January 5 at 9:50 AM" in early.text
    assert not any(call[:3] == ("record_access", "portal", "appointment.join") for call in CALLS)
    in_person = get(f"{gateway}/portal/appointments/ap_office/join")
    assert in_person.status_code == 200 and "no telehealth session" in in_person.text


def test_add_to_calendar_downloads_an_ics_with_a_neutral_summary(gateway):
    download = get(f"{gateway}/portal/appointments/ap_office/calendar.ics")
    assert download.status_code == 200
    assert download.headers["Content-Type"].startswith("text/calendar")
    assert download.headers["Content-Disposition"] == 'attachment; filename="appointment.ics"'
    assert ("appointment_ics", "ap_office", "cl_1", "Cedar Ridge") in CALLS
    event = icalendar.Calendar.from_ical(download.content).walk("VEVENT")[0]
    assert str(event["SUMMARY"]) == "Appointment at Cedar Ridge"
    assert event.decoded("DTSTART") == datetime(2099, 1, 6, 14, 30, tzinfo=timezone.utc)
    assert str(event["LOCATION"]) == "Main office"
    assert "Ortiz" not in download.text


def test_another_clients_appointment_is_a_404_and_audited_everywhere(gateway):
    for path in ("/portal/appointments/ap_soon", "/portal/appointments/ap_soon/join",
                 "/portal/appointments/ap_soon/calendar.ics"):
        CALLS.clear()
        page = get(gateway + path, "guardian")               # acting for cl_2
        assert page.status_code == 404, path
        assert "We could not find that appointment." in page.text
        assert "Location" not in page.headers and "BEGIN:VCALENDAR" not in page.text
        assert denials() == [("record_access", "portal", "denied:appointment.read", "cl_2")]


def test_an_appointment_page_shows_its_details(gateway):
    html = get(f"{gateway}/portal/appointments/ap_office").text
    assert "<h1>Appointment on Tuesday, January 6, 2099</h1>" in html
    assert "Main office" in html and "Sam Ortiz, LCSW" in html and "Scheduled" in html
    assert 'href="/portal/appointments/ap_office/calendar.ics" download>Add to calendar</a>' in html


# ---- messages ----------------------------------------------------------------------

def test_messages_lists_the_inbox_and_opening_one_marks_it_read_and_links_to_it(gateway):
    html = get(f"{gateway}/portal/messages").text
    inbox = re.search(r'data-testid="inbox">(.*?)</ul>', html, re.S).group(1)
    assert re.findall(r'<li class="message( unread)?">\s*<a class="title" href="([^"]+)">([^<]+)</a>',
                      inbox) == [("", "/portal/messages/msg_3", "A document is waiting for your signature"),
                                 (" unread", "/portal/messages/msg_2",
                                  "A new invoice has been posted to your portal"),
                                 ("", "/portal/messages/msg_1", "Your statement is ready")]
    assert "1 unread." in html and "November 30, 2026" in html
    opened = get(f"{gateway}/portal/messages/msg_2").text
    assert ("mark_inbox_read", "cl_1", "msg_2") in CALLS
    assert "Invoice INV-000042 is ready." in opened
    assert '<a class="button" href="/portal/billing/invoices/inv_42">See the invoice</a>' in opened
    statement = get(f"{gateway}/portal/messages/msg_1").text
    assert '<a class="button" href="/portal/billing/statements">See your statements</a>' in statement
    consent = get(f"{gateway}/portal/messages/msg_3").text
    assert '<a class="button" href="/portal/documents/consents">Open your consents</a>' in consent


def test_another_clients_message_is_a_404_and_audited(gateway):
    page = get(f"{gateway}/portal/messages/msg_2", "guardian")
    assert page.status_code == 404 and "We could not find that message." in page.text
    assert "INV-000042" not in page.text
    assert denials() == [("record_access", "portal", "denied:message.read", "cl_2")]


# ---- a third-party contact -----------------------------------------------------------

def test_a_billing_contact_sees_home_billing_messages_and_the_part2_notice(gateway):
    html = get(f"{gateway}/portal", "contact-billing").text
    assert [label for _, _, label in main_menu(html)] == ["Home", "Billing", "Messages"]
    assert PART2 in html and 'data-testid="part2-notice"' in html
    assert "Contacts" not in html and "Documents" not in html and "consent to sign" not in html
    assert not any(call[0] == "list_appointments" for call in CALLS)   # not shared: not asked
    messages = get(f"{gateway}/portal/messages", "contact-billing").text
    assert PART2 in messages
    assert [call for call in CALLS if call[0] == "part2_notice"] == [("part2_notice",)]   # cached


def test_a_billing_contact_is_refused_the_areas_its_release_does_not_cover(gateway):
    for path in ("/portal/appointments", "/portal/appointments/ap_soon/join"):
        CALLS.clear()
        page = get(gateway + path, "contact-billing")
        assert page.status_code == 403 and "not shared with you" in page.text
        assert "Location" not in page.headers and PART2 in page.text
        assert denials() == [("record_access", "portal", "denied:portal.appointments", "cl_1")]
        assert not any(call[0] in ("list_appointments", "get_appointment") for call in CALLS)


def test_a_billing_and_clinical_contact_also_sees_appointments_and_documents(gateway):
    html = get(f"{gateway}/portal", "contact-billing_and_clinical").text
    assert [label for _, _, label in main_menu(html)] == [
        "Home", "Appointments", "Documents", "Billing", "Messages"]
    assert "Contacts" not in html and "Insurance" not in html and PART2 in html
    assert "You have 1 consent to sign" in html
    page = get(f"{gateway}/portal/appointments", "contact-billing_and_clinical")
    assert page.status_code == 200 and PART2 in page.text


class StalledDocuments:
    name = "documents"

    @rpc(expected_exceptions=EXPECTED)
    def portal_summary(self, client_id):
        eventlet.sleep(3)


class StalledScheduling:
    name = "scheduling"

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, client_id):
        eventlet.sleep(3)


@pytest.fixture
def gateway_alone(container_factory, rabbit_config):
    """Documents and scheduling are up but do not answer within the deadline.
    (Not absent: a request to a queue nobody declared comes back from the
    broker, and nameko hands that return to whichever call publishes next.)"""
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "RPC_TIMEOUT_SECONDS": 0.5}
    for service in (Clients, StalledDocuments, StalledScheduling, PortalGateway):
        container_factory(service, config).start()
    return f"http://127.0.0.1:{port}"


def test_home_still_welcomes_when_documents_and_scheduling_do_not_answer(gateway_alone):
    page = get(f"{gateway_alone}/portal")
    assert page.status_code == 200 and "<h1>Welcome, Avery Reyes</h1>" in page.text
    assert "555-0100" in page.text and "Your appointments cannot be shown right now." in page.text
    assert "/portal/handbook" not in page.text


def test_a_billing_contact_reads_only_billing_messages_and_leaves_them_unread(gateway):
    html = get(f"{gateway}/portal/messages", "contact-billing").text
    assert "/portal/messages/msg_2" in html and "/portal/messages/msg_1" in html
    assert "/portal/messages/msg_3" not in html and "waiting for your signature" not in html
    opened = get(f"{gateway}/portal/messages/msg_2", "contact-billing")
    assert opened.status_code == 200 and "Invoice INV-000042 is ready." in opened.text
    assert PART2 in opened.text
    assert not any(call[0] == "mark_inbox_read" for call in CALLS)
    refused = get(f"{gateway}/portal/messages/msg_3", "contact-billing")
    assert refused.status_code == 404
    assert denials() == [("record_access", "portal", "denied:message.read", "cl_1")]
