"""Walkthrough step 6 in Chromium on the embedded defaults (the demo clinic's
PHQ-9 and consent to treatment for Avery): Documents with its sub-menu and
the red badge; the PHQ-9 sent empty names every question at once, then
answered and scored in plain words; the consent signed with a typed name and
a signature drawn with the mouse, the badge gone; a file uploaded; staff find
the upload, the score with the item-9 flag (clinician) and the signed
consent; a front desk sees the form completed but not its score. Every page
at 1280 and 390 px, axe-clean."""
from pathlib import Path

import pytest
from playwright.sync_api import expect

from browser_kit import check_page, check_page_at_both_widths

if not (Path(__file__).resolve().parents[2] / "services" / "documents" / "documents").is_dir():
    pytest.skip("the documents service is not in this checkout", allow_module_level=True)

AVERY = ("avery@demo.cairn.test", "demo-portal-2026")
CLINICIAN = ("clinician@demo.cairn.test", "demo-staff-2026!")
FRONT_DESK = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


def sign_in(page, base, area, login, password):
    page.goto(f"{base}/{area}/login")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{base}/{area}**")


def new_page(browser, width=1280, height=900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    return page


def draw_signature(page):
    pad = page.locator("canvas.signature-pad")
    pad.scroll_into_view_if_needed()
    box = pad.bounding_box()
    page.mouse.move(box["x"] + 20, box["y"] + box["height"] / 2)
    page.mouse.down()
    for step in range(12):
        page.mouse.move(box["x"] + 30 + step * 18, box["y"] + box["height"] / 2 + (step % 3 - 1) * 20)
    page.mouse.up()


def test_documents_forms_consent_and_upload_reach_the_staff(cairn, browser):
    patient = new_page(browser)
    sign_in(patient, cairn.url, "portal", *AVERY)
    patient.goto(f"{cairn.url}/portal/documents")
    menu = patient.get_by_role("navigation", name="Documents")
    consents = menu.get_by_role("link", name="Consents 1 to sign")
    expect(consents.locator(".badge")).to_have_text("1 to sign")
    expect(consents.locator(".badge")).to_be_visible()
    check_page_at_both_widths(patient, "portal documents")

    # the PHQ-9: every missing answer at once, then scored in plain words
    patient.get_by_role("link", name="Fill in PHQ-9").click()
    check_page_at_both_widths(patient, "portal documents phq9")
    patient.get_by_role("button", name="Submit answers").click()
    expect(patient.locator("#error-summary")).to_contain_text("There are 9 problems")
    check_page(patient, "portal documents phq9 refused")
    for number in range(1, 10):
        group = patient.get_by_role("group", name=f"{number}.", exact=False).first
        group.get_by_label("Not at all" if number != 9 else "Several days").check()
    patient.get_by_role("button", name="Submit answers").click()
    expect(patient.get_by_test_id("form-result")).to_contain_text("Your total score is 1 out of 27.")
    expect(patient.get_by_test_id("help-line")).to_contain_text("988")
    check_page_at_both_widths(patient, "portal documents phq9 completed")

    # the consent: the pencil, a typed name and a drawing, Save at the bottom
    patient.goto(f"{cairn.url}/portal/documents/consents")
    check_page_at_both_widths(patient, "portal documents consents")
    patient.get_by_role("link", name="Sign Consent to treatment").click()
    patient.get_by_label("Type your full name to sign").fill("Avery Lindqvist")
    draw_signature(patient)
    assert patient.locator('input[name="drawing"]').input_value().startswith("data:image/png;base64,")
    check_page_at_both_widths(patient, "portal documents consent sign")
    patient.get_by_role("button", name="Save").click()
    expect(patient.get_by_role("status")).to_contain_text("Your consent is signed and saved.")
    expect(patient.locator(".doc-menu .badge")).to_have_count(0)
    expect(patient.get_by_role("link", name="Download signed copy").first).to_be_visible()

    # an upload
    patient.goto(f"{cairn.url}/portal/documents/upload")
    patient.get_by_label("File").set_input_files(
        files=[{"name": "insurance-card.pdf", "mimeType": "application/pdf", "buffer": PDF}])
    patient.get_by_role("button", name="Upload").click()
    expect(patient.get_by_test_id("uploads")).to_contain_text("insurance-card.pdf")
    check_page_at_both_widths(patient, "portal documents upload")

    # the clinician: the upload, the score and the item-9 flag, the signed consent
    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *CLINICIAN)
    staff.goto(f"{cairn.url}/staff/clients/cl_demo_avery/documents")
    expect(staff.get_by_test_id("uploads")).to_contain_text("insurance-card.pdf")
    forms = staff.get_by_test_id("forms")
    expect(forms).to_contain_text("Item 9 answered: Several days — follow up today")
    expect(forms.get_by_role("row").filter(has_text="Item 9")).to_contain_text("Minimal depression")
    check_page_at_both_widths(staff, "staff documents clinician")
    staff.get_by_role("link", name="Consent to treatment", exact=True).click()
    expect(staff.get_by_test_id("signature")).to_contain_text("Typed name and drawing")
    expect(staff.get_by_test_id("signature")).to_contain_text("Avery Lindqvist")
    check_page(staff, "staff documents consent")

    # a front desk: completed, no score
    desk = new_page(browser)
    sign_in(desk, cairn.url, "staff", *FRONT_DESK)
    desk.goto(f"{cairn.url}/staff/clients/cl_demo_avery/documents")
    expect(desk.get_by_test_id("forms")).to_contain_text("Completed")
    expect(desk.get_by_test_id("forms")).not_to_contain_text("Item 9")
    expect(desk.get_by_test_id("forms")).not_to_contain_text("Minimal")
