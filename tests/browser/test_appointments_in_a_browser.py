"""The staff Appointments tab clicked through in Chromium on `make run`'s
embedded defaults: the demo's appointments are listed, a problem in the
schedule form is shown next to its field, a telehealth appointment is
booked, then cancelled after the confirmation asks why. Every page at 1280
and 390 px, axe-core clean."""
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from browser_kit import check_page_at_both_widths

DEMO_STAFF = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")


def test_front_desk_books_and_cancels_an_appointment(cairn, page):
    page.goto(f"{cairn.url}/staff/login")
    page.get_by_label("Email").fill(DEMO_STAFF[0])
    page.get_by_label("Password").fill(DEMO_STAFF[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Lindqvist, Avery").click()
    page.get_by_role("link", name="Appointments").click()
    upcoming = page.get_by_test_id("upcoming-appointments")
    assert "Telehealth" in upcoming.inner_text()           # the demo's, starting soon
    assert "Completed" in page.get_by_test_id("past-appointments").inner_text()
    check_page_at_both_widths(page, "staff-appointments")

    day = (datetime.now(ZoneInfo("America/New_York")) + timedelta(days=4)).date()
    page.get_by_label("Date").fill(day.isoformat())
    page.get_by_label("Start time").fill("11:00")
    page.get_by_label("Telehealth (video; the client joins from the portal)").check()
    page.get_by_role("button", name="Schedule").click()
    assert page.locator("#clinician_name-error").inner_text() == "Enter the clinician's name."
    check_page_at_both_widths(page, "staff-appointments-error")

    page.get_by_label("Clinician").fill("Dana Doctor")
    page.get_by_role("button", name="Schedule").click()
    assert "Appointment scheduled." in page.get_by_role("status").inner_text()
    assert "Dana Doctor" in page.get_by_test_id("upcoming-appointments").inner_text()

    page.get_by_role("link", name=f"Cancel the appointment on {day:%A}, {day:%B} {day.day}").click()
    assert page.get_by_role("heading", name="Cancel this appointment?").is_visible()
    check_page_at_both_widths(page, "staff-appointment-cancel")
    page.get_by_role("button", name="Cancel the appointment").click()
    assert "Enter why the appointment is cancelled." in page.locator("#reason-error").inner_text()
    page.get_by_label("Why is it cancelled?").fill("Client asked to move it; will call back")
    page.get_by_role("button", name="Cancel the appointment").click()
    assert "Appointment cancelled." in page.get_by_role("status").inner_text()
    past = page.get_by_test_id("past-appointments").inner_text()
    assert "Cancelled" in past and "will call back" in past
