"""The portal walkthrough (seed 004), every step, clicked through in Chromium
on the `make run` defaults.

A front-desk worker registers a new patient, invites them, books a telehealth
visit that starts in a few minutes, assigns a PHQ-9, asks for a consent,
posts two invoices and a Good Faith Estimate. The patient then follows the
walkthrough: welcome email → set a password → homepage (welcome, contacts,
handbook) → Appointments (join, calendar file parsed back) → Documents (the
PHQ-9, the consent with its red badge, an upload the staff then find) →
Billing (approve the estimate, pay both invoices with a new default card,
the payment in the history and its receipt) → Add Insurance in the pop-up
(staff see it) → Contacts (add, inactivate) → change password → log out.
A guardian then does the same rounds for two children, switching between
them. Every screen is checked with axe-core and for sideways scrolling at
1280 and 390 px (screenshots in var/browser-screenshots/)."""
from __future__ import annotations

import email
import email.policy
import re
import struct
import zlib
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import icalendar
from playwright.sync_api import expect

from browser_kit import check_page_at_both_widths as check, stripe_form

FRONT_DESK = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")
GUARDIAN = ("morgan@demo.cairn.test", "demo-portal-2026")
CLINIC_ZONE = ZoneInfo("America/New_York")       # scheduling's default clinic time zone
NEW_PASSWORD = "Granite-Path-2026!"
LATER_PASSWORD = "Quiet-River-2027!"


def new_page(browser, width=1280, height=900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    return page


def sign_in(page, base, area, login, password):
    page.goto(f"{base}/{area}/login")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def tiny_png() -> bytes:
    """A real 1×1 PNG (the upload is checked by its magic bytes)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff")) + chunk(b"IEND", b""))


def poll(page, condition, what: str, tries: int = 100):
    """Reload until `condition()` holds: an event has to land first."""
    for _ in range(tries):
        if condition():
            return
        page.wait_for_timeout(200)
        page.reload()
    raise AssertionError(f"never happened: {what}")


# ---- the front desk prepares a new patient ------------------------------------------
def register_and_invite(staff, base) -> tuple[str, str]:
    staff.goto(f"{base}/staff/clients/new")
    staff.get_by_label("First name").fill("Robin")
    staff.get_by_label("Last name").fill("Vale")
    staff.get_by_label("Email").fill("robin.vale@example.org")
    staff.get_by_label("Date of birth").fill("1990-06-15")
    staff.get_by_role("button", name="Save").click()
    client_id = re.search(r"/staff/clients/([^/?#]+)", staff.url).group(1)
    staff.get_by_role("link", name="Portal access").click()
    staff.get_by_role("button", name="Invite to the portal").click()
    expect(staff.get_by_role("status")).to_contain_text("Portal invitation sent")
    return client_id, "Robin Vale"


def book_telehealth_in_a_few_minutes(staff, base, client_id):
    starts = (datetime.now(CLINIC_ZONE) + timedelta(minutes=4)).replace(second=0, microsecond=0)
    staff.goto(f"{base}/staff/clients/{client_id}/appointments")
    staff.get_by_label("Date").fill(starts.date().isoformat())
    staff.get_by_label("Start time").fill(starts.strftime("%H:%M"))
    staff.get_by_label("Length (minutes)").fill("50")
    staff.get_by_label("Telehealth (video; the client joins from the portal)").check()
    staff.get_by_label("Clinician").fill("Dana Rivers")
    staff.get_by_role("button", name="Schedule").click()
    expect(staff.get_by_role("status")).to_be_visible()


def assign_phq9_and_ask_consent(staff, base, client_id):
    staff.goto(f"{base}/staff/clients/{client_id}/documents")
    staff.get_by_label("Form or screening").select_option(label="PHQ-9")
    staff.get_by_role("button", name="Assign").click()
    expect(staff.get_by_role("status")).to_be_visible()
    staff.get_by_label("Consent", exact=True).select_option(label="Consent to treatment")
    staff.get_by_role("button", name="Request signature").click()
    expect(staff.get_by_role("status")).to_be_visible()


def post_invoice(staff, base, client_id, service) -> str:
    staff.goto(f"{base}/staff/clients/{client_id}/invoices/new")
    staff.get_by_label("Location").select_option(label="Main Campus")
    staff.get_by_label("Payment type").select_option(label="Self-pay")
    staff.get_by_label("Service on line 1", exact=True).select_option(service)
    staff.get_by_role("button", name="Save as draft").click()
    number = re.search(r"INV-\d{6}", staff.locator("h1").inner_text()).group(0)
    staff.get_by_role("button", name="Post to portal").click()
    return number


def send_estimate(staff, base, client_id):
    staff.goto(f"{base}/staff/clients/{client_id}/estimates/new")
    staff.get_by_label("Good Faith Estimate (self-pay or uninsured)").check()
    staff.get_by_label("Provider").select_option(index=1)
    staff.get_by_label("Location (facility)").select_option(label="Main Campus")
    today = datetime.now(CLINIC_ZONE).date()
    staff.get_by_label("Scheduled or requested on").fill(today.isoformat())
    staff.get_by_label("Service on line 1", exact=True).select_option("90834")
    staff.get_by_label("Expected date on line 1", exact=True).fill((today + timedelta(days=8)).isoformat())
    staff.get_by_role("button", name="Save estimate").click()
    staff.get_by_role("button", name="Send to portal", exact=True).click()
    expect(staff.get_by_role("status")).to_contain_text("posted")


def welcome_link(cairn, before: int) -> str:
    for path in cairn.wait_for_mail(before + 1)[before:]:
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        text = message.get_body(("plain",)).get_content()
        found = re.search(r"(http://127\.0\.0\.1:\d+/portal/set-password/\S+)", text)
        if found:
            assert "Robin" not in message["Subject"] and "Vale" not in message["Subject"]
            assert "Riley Front Desk" in text          # who invited them
            return found.group(1)
    raise AssertionError("no welcome email with a set-password link")


def drawn_signature(page):
    pad = page.locator("canvas")
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(1, 12):
        page.mouse.move(box["x"] + 20 + step * 18, box["y"] + box["height"] / 2 + (-1) ** step * 15)
    page.mouse.up()


def main_menu(page, item: str):
    """The left main menu (behind the Menu button on a phone); Documents may
    carry its red badge in its name."""
    button = page.get_by_role("button", name="Menu")
    if button.is_visible() and button.get_attribute("aria-expanded") == "false":
        button.click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name=re.compile(f"^{item}")).click()


def documents_menu(page, item: str):
    page.get_by_role("navigation", name="Documents").get_by_role("link", name=re.compile(f"^{item}")).click()


def billing_menu(page, item: str):
    page.get_by_role("navigation", name="Billing").get_by_role("link", name=item, exact=True).click()


def test_the_patient_walkthrough_from_the_welcome_email_to_log_out(cairn, browser, tmp_path):
    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *FRONT_DESK)
    mails_before = len(cairn.mail_files())
    client_id, name = register_and_invite(staff, cairn.url)
    book_telehealth_in_a_few_minutes(staff, cairn.url, client_id)
    assign_phq9_and_ask_consent(staff, cairn.url, client_id)
    first = post_invoice(staff, cairn.url, client_id, "90853")            # $60.00
    second = post_invoice(staff, cairn.url, client_id, "90834")           # $150.00
    send_estimate(staff, cairn.url, client_id)

    # Steps 1–2: the welcome email, a password of one's own, sign in
    patient = new_page(browser, 390, 844)
    patient.goto(welcome_link(cairn, mails_before))
    check(patient, "walkthrough set password")
    patient.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    patient.get_by_label("New password again").fill(NEW_PASSWORD)
    patient.get_by_role("button", name="Set password").click()
    sign_in(patient, cairn.url, "portal", "robin.vale@example.org", NEW_PASSWORD)

    # Steps 3–4: the homepage, the main menu on the left (a Menu button on a phone)
    expect(patient.get_by_role("heading", name=f"Welcome, {name}")).to_be_visible()
    expect(patient.get_by_text("Contact us")).to_be_visible()
    with patient.expect_download() as handbook:
        patient.get_by_role("link", name="Download the client handbook").click()
    assert open(handbook.value.path(), "rb").read().startswith(b"%PDF-")
    check(patient, "walkthrough home")
    patient.get_by_role("button", name="Menu").click()
    expect(patient.get_by_role("navigation", name="Main").get_by_role("link", name="Appointments")).to_be_visible()
    patient.set_viewport_size({"width": 1280, "height": 900})

    # Step 5: appointments — join the telehealth visit, download it to a calendar
    main_menu(patient, "Appointments")
    join = patient.get_by_role("link", name=re.compile("^Join"))
    expect(join).to_be_visible()
    answer = patient.request.get(cairn.url + join.get_attribute("href"), max_redirects=0)
    assert answer.status == 302 and answer.headers["location"].startswith("https://")
    with patient.expect_download() as ics:
        patient.get_by_role("link", name=re.compile("^Add to calendar")).first.click()
    event = icalendar.Calendar.from_ical(open(ics.value.path(), "rb").read()).walk("VEVENT")[0]
    assert str(event["SUMMARY"]).startswith("Appointment at ")
    assert "Rivers" not in event.to_ical().decode()                   # no clinician on a phone's calendar
    check(patient, "walkthrough appointments")

    # Step 6: documents — the PHQ-9
    main_menu(patient, "Documents")
    check(patient, "walkthrough documents")
    documents_menu(patient, "Forms and Surveys")
    check(patient, "walkthrough forms and surveys")
    patient.get_by_role("link", name=re.compile("PHQ-9")).first.click()
    patient.get_by_role("button", name="Submit answers").click()                    # nothing answered
    expect(patient.get_by_text("Choose an answer for question 1").first).to_be_visible()
    check(patient, "walkthrough phq-9 with errors")
    for group in patient.locator("fieldset").all():
        radios = group.locator("input[type=radio]")
        if radios.count():
            radios.nth(1).check()                                                     # "Several days"
    patient.get_by_role("button", name="Submit answers").click()
    expect(patient.get_by_test_id("form-result")).to_contain_text("mild")
    check(patient, "walkthrough phq-9 result")
    documents_menu(patient, "Additional Surveys")
    check(patient, "walkthrough additional surveys")
    documents_menu(patient, "Notes")
    check(patient, "walkthrough notes and treatment plans")
    documents_menu(patient, "Resources")
    check(patient, "walkthrough resources")

    # the consent: red badge, pencil, sign (typed and drawn), Save, the badge drops
    documents_menu(patient, "Consents")
    expect(patient.get_by_test_id("consents-badge")).to_contain_text("1")
    check(patient, "walkthrough consents")
    patient.get_by_role("link", name=re.compile("^Sign Consent to treatment")).click()
    check(patient, "walkthrough consent to sign")
    patient.get_by_label("Type your full name to sign").fill(name)
    drawn_signature(patient)
    patient.get_by_role("button", name="Save").click()
    expect(patient.get_by_test_id("consents-badge")).to_have_count(0)
    expect(patient.get_by_test_id("consents-signed")).to_contain_text("Consent to treatment")

    # the upload tool, then the staff find the file on the client's record
    documents_menu(patient, "Upload")
    picture = tmp_path / "insurance-card.png"
    picture.write_bytes(tiny_png())
    patient.get_by_label("File").set_input_files(str(picture))
    patient.get_by_role("button", name="Upload").click()
    expect(patient.get_by_test_id("uploads")).to_contain_text("insurance-card.png")
    check(patient, "walkthrough upload")
    staff.goto(f"{cairn.url}/staff/clients/{client_id}/documents")
    expect(staff.get_by_role("link", name="insurance-card.png")).to_be_visible()

    # Step 7: billing — approve the estimate, pay both invoices with a new default card
    main_menu(patient, "Billing")
    check(patient, "walkthrough billing")
    billing_menu(patient, "Estimates")
    patient.get_by_role("link", name=re.compile("Good Faith Estimate")).first.click()
    patient.get_by_label("Type your full name to sign").fill(name)
    patient.get_by_role("button", name="Approve this estimate").click()
    expect(patient.get_by_role("status")).to_contain_text("approved")
    billing_menu(patient, "Overview")
    patient.get_by_role("button", name="Make a Payment").click()
    expect(patient.get_by_label(re.compile(first))).to_be_checked()
    expect(patient.get_by_label(re.compile(second))).to_be_checked()
    patient.get_by_label("A new card or bank account").check()
    stripe_form(patient).get_by_label("Test card").select_option(label="Visa 4242 — succeeds")
    patient.get_by_label("Make it the default").check()
    expect(patient.get_by_test_id("total")).to_have_text("$210.00")
    patient.get_by_role("button", name="Pay $210.00").click()
    expect(patient.get_by_role("status")).to_contain_text("We received $210.00")
    billing_menu(patient, "Payments")
    expect(patient.get_by_test_id("payments")).to_contain_text("$210.00")
    check(patient, "walkthrough payment history")
    patient.get_by_test_id("payments").get_by_role("link", name=re.compile("[Rr]eceipt")).first.click()
    with patient.expect_download() as receipt:
        patient.get_by_role("link", name="Download the receipt (PDF)").click()
    assert open(receipt.value.path(), "rb").read().startswith(b"%PDF-")
    for item, shot in (("Outstanding Invoices", "walkthrough outstanding invoices"),
                       ("Payment Plans", "walkthrough payment plans"),
                       ("Statements and Super Bills", "walkthrough statements and superbills"),
                       ("Payment methods", "walkthrough payment methods")):
        billing_menu(patient, item)
        check(patient, shot)

    # Step 8: Add Insurance in the pop-up; the staff see it
    main_menu(patient, "Insurance")
    patient.get_by_role("link", name="Add Insurance").click()
    dialog = patient.get_by_role("dialog", name="Add insurance")
    expect(dialog).to_be_visible()
    check(patient, "walkthrough add insurance dialog")
    dialog.get_by_label("Insurance company").fill("Blue Harbor Health")
    dialog.get_by_label("Member ID").fill("BHH-55821")
    dialog.get_by_label("Policy holder's name").fill(name)
    dialog.get_by_label("Coverage started").fill("2026-01-01")
    dialog.get_by_role("button", name="Save insurance").click()
    expect(patient.get_by_role("status")).to_contain_text("Insurance saved")
    expect(patient.get_by_test_id("portal-insurance")).to_contain_text("Blue Harbor Health")
    check(patient, "walkthrough insurance")
    staff.goto(f"{cairn.url}/staff/clients/{client_id}/insurance")
    expect(staff.get_by_role("row").filter(has_text="BHH-55821")).to_contain_text("The patient, in the portal")

    # Step 9: contacts — one added for a release of information (it asks for the
    # signature at once), one added and inactivated
    main_menu(patient, "Contacts")
    patient.get_by_role("link", name="Add New Contact").click()
    check(patient, "walkthrough add contact")
    patient.get_by_label("Full name").fill("Jamie Vale")
    patient.get_by_label("Who is this person to you?").fill("Sister")
    patient.get_by_label("Phone").fill("555-201-0142")
    patient.get_by_label("Email").fill("jamie.vale@example.org")
    patient.get_by_label("Ask for a release of information for this contact").check()
    patient.get_by_label("Until (last day)").fill(f"{datetime.now(CLINIC_ZONE).year + 1}-06-30")
    patient.get_by_role("button", name="Add contact").click()
    expect(patient.get_by_test_id("release-contact")).to_have_text("Jamie Vale")
    check(patient, "walkthrough release to sign")
    patient.get_by_label("Type your full name to sign").fill(name)
    patient.get_by_role("button", name="Save").click()
    main_menu(patient, "Contacts")
    poll(patient, lambda: "Release signed" in patient.get_by_test_id("current-contacts").inner_text(),
         "the release is active on the contact")
    check(patient, "walkthrough contacts")

    patient.get_by_role("link", name="Add New Contact").click()
    patient.get_by_label("Full name").fill("Drew Marsh")
    patient.get_by_label("Who is this person to you?").fill("Neighbour")
    patient.get_by_label("Phone").fill("555-201-0199")
    patient.get_by_role("button", name="Add contact").click()
    expect(patient.get_by_role("status")).to_have_text("Contact added.")
    patient.get_by_role("link", name="Inactivate Drew Marsh").click()
    patient.get_by_role("button", name="Yes, inactivate Drew Marsh").click()
    expect(patient.get_by_test_id("inactive-contacts")).to_contain_text("Drew Marsh")

    # Step 10: the name at the top right — change password, log out
    patient.get_by_role("button", name=name).click()
    patient.get_by_role("link", name="Change password").click()
    patient.get_by_label("Current password").fill(NEW_PASSWORD)
    patient.get_by_label("New password", exact=True).fill(LATER_PASSWORD)
    patient.get_by_label("New password again").fill(LATER_PASSWORD)
    patient.get_by_role("button", name="Change password").click()
    expect(patient.get_by_role("status")).to_be_visible()
    check(patient, "walkthrough account")
    patient.get_by_role("button", name=name).click()
    patient.get_by_role("button", name="Log out").click()
    expect(patient).to_have_url(re.compile(r"/portal/login"))
    patient.goto(f"{cairn.url}/portal")
    expect(patient).to_have_url(re.compile(r"/portal/login"))         # the session is gone


def test_a_guardian_does_the_rounds_for_two_children(cairn, browser):
    """Morgan Reyes, guardian of Ellis and Kai: greeted by their own name,
    always told whose portal they are looking at; Kai's GAD-7 and telehealth
    consent (the demo clinic's) done for Kai; and acting for Kai, Ellis's
    appointment is not found."""
    guardian = new_page(browser, 390, 844)
    sign_in(guardian, cairn.url, "portal", *GUARDIAN)
    expect(guardian.get_by_role("heading", name="Welcome, Morgan Reyes")).to_be_visible()
    check(guardian, "guardian home")
    calendars = {}
    for child in ("Ellis Reyes", "Kai Reyes"):
        guardian.goto(f"{cairn.url}/portal")
        guardian.get_by_label("Client you are viewing").select_option(label=child)
        guardian.get_by_role("button", name="View").click()
        expect(guardian.get_by_test_id("viewing")).to_contain_text(child)
        slug = child.split()[0].lower()
        for area in ("Appointments", "Documents", "Billing", "Insurance", "Contacts", "Messages"):
            main_menu(guardian, area)
            check(guardian, f"guardian {slug} {area.lower()}")
        main_menu(guardian, "Appointments")
        calendars[child] = [a.get_attribute("href") for a in
                            guardian.get_by_role("link", name=re.compile("^Add to calendar")).all()]
        assert calendars[child], f"{child} has an appointment in the demo clinic"

    # acting for Kai now: Kai's GAD-7 and telehealth consent
    main_menu(guardian, "Documents")
    documents_menu(guardian, "Forms and Surveys")
    guardian.get_by_role("link", name=re.compile("GAD-7")).first.click()
    for group in guardian.locator("fieldset").all():
        radios = group.locator("input[type=radio]")
        if radios.count():
            radios.first.check()                                                      # "Not at all"
    guardian.get_by_role("button", name="Submit answers").click()
    expect(guardian.get_by_test_id("form-result")).to_contain_text("minimal")
    documents_menu(guardian, "Consents")
    expect(guardian.get_by_test_id("consents-badge")).to_contain_text("1")
    guardian.get_by_role("link", name=re.compile("^Sign Telehealth consent")).click()
    guardian.get_by_label("Type your full name to sign").fill("Morgan Reyes")
    guardian.get_by_role("button", name="Save").click()
    expect(guardian.get_by_test_id("consents-badge")).to_have_count(0)

    # Ellis's appointment, asked for while acting for Kai: not found
    assert set(calendars["Ellis Reyes"]).isdisjoint(calendars["Kai Reyes"])
    answer = guardian.request.get(cairn.url + calendars["Ellis Reyes"][0])
    assert answer.status == 404
