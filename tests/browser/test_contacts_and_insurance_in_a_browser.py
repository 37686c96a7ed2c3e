"""Walkthrough steps 8 and 9 in Chromium on the embedded defaults: the
patient adds insurance in the Add Insurance dialog (by keyboard: focus moves
in, Escape closes and gives the focus back; a refused field comes back in
the open dialog) and staff find it on the Insurance tab; the patient adds,
edits and inactivates a contact. Every page at 1280 and 390 px, axe-clean."""
from playwright.sync_api import expect

from browser_kit import check_page, check_page_at_both_widths, tab_to

FRONT_DESK = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")
PATIENT = ("jordan@demo.cairn.test", "demo-portal-2026")


def sign_in(page, base, area, login, password):
    page.goto(f"{base}/{area}/login")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def new_page(browser, width=1280, height=900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    return page


def focused(page, locator) -> bool:
    return locator.evaluate("el => el === document.activeElement")


def test_add_insurance_in_the_dialog_and_staff_see_it(cairn, browser):
    patient = new_page(browser)
    sign_in(patient, cairn.url, "portal", *PATIENT)
    patient.goto(f"{cairn.url}/portal/insurance")
    check_page_at_both_widths(patient, "portal insurance")
    button = patient.get_by_role("link", name="Add Insurance")
    dialog = patient.get_by_role("dialog", name="Add insurance")
    tab_to(patient, button)
    patient.keyboard.press("Enter")
    expect(dialog).to_be_visible()
    assert focused(patient, patient.get_by_label("Insurance company"))
    check_page(patient, "portal insurance dialog")
    patient.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert focused(patient, button)

    button.click()
    patient.get_by_label("Insurance company").fill("Aetna")
    patient.get_by_label("Plan name").fill("Open Access")
    patient.get_by_label("Policy holder's name").fill("Jordan Okafor")
    patient.get_by_label("Coverage started").fill("2026-01-01")
    patient.get_by_role("button", name="Save insurance").click()
    expect(dialog).to_be_visible()                                   # refused: back, open
    expect(patient.locator("#member_id-error")).to_have_text(
        "Enter the member ID printed on the insurance card.")
    assert patient.get_by_label("Insurance company").input_value() == "Aetna"
    check_page(patient, "portal insurance dialog refused")
    patient.set_viewport_size({"width": 390, "height": 844})
    check_page(patient, "portal insurance dialog refused-390")
    patient.get_by_label("Member ID").fill("W123456789")
    patient.get_by_role("button", name="Save insurance").click()
    expect(patient.get_by_role("status")).to_contain_text("Insurance saved")
    expect(patient.get_by_test_id("portal-insurance")).to_contain_text("W123456789")

    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *FRONT_DESK)
    staff.get_by_role("link", name="Okafor, Jordan").click()
    staff.get_by_role("link", name="Insurance", exact=True).click()
    row = staff.get_by_role("row").filter(has_text="W123456789")
    expect(row).to_contain_text("Aetna")
    expect(row).to_contain_text("The patient, in the portal")


def test_without_javascript_add_insurance_is_a_page(cairn, browser):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(20_000)
    sign_in(page, cairn.url, "portal", *PATIENT)
    page.goto(f"{cairn.url}/portal/insurance")
    page.get_by_role("link", name="Add Insurance").click()
    assert page.url.endswith("/portal/insurance/new")
    page.get_by_label("Insurance company").fill("Cigna")
    page.get_by_role("button", name="Save insurance").click()      # no member id, no date
    expect(page.locator("#member_id-error")).to_be_visible()
    expect(page.locator("#subscriber_name-error")).to_be_visible()   # every empty field at once
    assert page.get_by_label("Insurance company").input_value() == "Cigna"
    context.close()
    # the same page, with scripts on, for axe and the screenshots
    checked = new_page(browser)
    sign_in(checked, cairn.url, "portal", *PATIENT)
    checked.goto(f"{cairn.url}/portal/insurance/new")
    check_page_at_both_widths(checked, "portal insurance new")


def test_add_edit_and_inactivate_a_contact(cairn, browser):
    patient = new_page(browser)
    sign_in(patient, cairn.url, "portal", *PATIENT)
    patient.goto(f"{cairn.url}/portal/contacts")
    check_page_at_both_widths(patient, "portal contacts")
    patient.get_by_role("link", name="Add New Contact").click()
    check_page_at_both_widths(patient, "portal contact form")
    patient.get_by_label("Full name").fill("Riley Okafor")
    patient.get_by_label("Who is this person to you?").fill("Sister")
    patient.get_by_label("Phone").fill("call me")
    patient.get_by_role("button", name="Add contact").click()
    expect(patient.locator("#phone-error")).to_contain_text("at least 7 digits")
    check_page(patient, "portal contact form refused")
    patient.get_by_label("Phone").fill("555-201-3344")
    patient.get_by_role("button", name="Add contact").click()
    expect(patient.get_by_role("status")).to_have_text("Contact added.")
    current = patient.get_by_test_id("current-contacts")
    expect(current).to_contain_text("Riley Okafor")

    patient.get_by_role("link", name="Edit Riley Okafor").click()
    patient.get_by_label("Email").fill("riley@home.test")
    patient.get_by_role("button", name="Save contact").click()
    expect(current).to_contain_text("riley@home.test")

    patient.get_by_role("link", name="Inactivate Riley Okafor").click()
    check_page_at_both_widths(patient, "portal contact inactivate")
    patient.get_by_role("button", name="Yes, inactivate Riley Okafor").click()
    expect(patient.get_by_role("status")).to_contain_text("Contact inactivated")
    expect(patient.get_by_test_id("inactive-contacts")).to_contain_text("Riley Okafor")
    assert patient.get_by_test_id("current-contacts").count() == 0 or \
        "Riley Okafor" not in patient.get_by_test_id("current-contacts").inner_text()

    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *FRONT_DESK)
    staff.get_by_role("link", name="Okafor, Jordan").click()
    staff.get_by_role("link", name="Contacts", exact=True).click()
    row = staff.get_by_role("row").filter(has_text="Riley Okafor")
    expect(row).to_contain_text("Inactive")
    expect(row).to_contain_text("None")                  # no release of information asked
    check_page_at_both_widths(staff, "staff client contacts with release status")
