"""Payments clicked through in Chromium on the `make run` defaults: staff
Collect Payment with a new card kept on file as the default, then the patient
pays two invoices in the portal with that card; 3-D Secure and a bank account
in the portal. Every payment page is checked with axe-core and at phone width."""
import re

from playwright.sync_api import expect

from browser_kit import portal_menu, check_page, stripe_form

FRONT_DESK = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")
SAM = ("sam@demo.cairn.test", "demo-portal-2026")


def sign_in(page, area, login, password):
    page.goto(f"{page.base}/{area}/login")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def new_invoice(page, client_id, service="90834", send=None):
    page.goto(f"{page.base}/staff/clients/{client_id}/invoices/new")
    page.get_by_label("Location").select_option(label="Main Campus")
    page.get_by_label("Payment type").select_option(label="Self-pay")
    page.get_by_label("Service on line 1", exact=True).select_option(service)
    page.get_by_role("button", name="Save as draft").click()
    number = re.search(r"INV-\d{6}", page.locator("h1").inner_text()).group(0)
    if send:
        page.get_by_role("button", name=send).click()
    return number


def reload_until(page, seen, tries=100):
    """Reload until `seen()` (the event reaching invoicing), a short poll."""
    for _ in range(tries):
        if seen():
            return
        page.wait_for_timeout(200)
        page.reload()
    raise AssertionError(f"never seen on {page.url}")


def phone(browser, base):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.set_default_timeout(20_000)
    page.base = base
    return page


def test_staff_keep_a_new_card_as_default_then_the_patient_pays_two_invoices_with_it(cairn, browser):
    staff = phone(browser, cairn.url)
    sign_in(staff, "staff", *FRONT_DESK)
    new_invoice(staff, "cl_demo_sam")                                     # $150.00, a draft
    staff.get_by_role("link", name="Collect payment").click()
    check_page(staff, "staff collect payment")
    staff.get_by_label("A new card or bank account").check()
    stripe_form(staff).get_by_label("Test card").select_option(label="Visa 4242 — succeeds")
    staff.get_by_label("Keep this card or account on file for future payments").check()
    staff.get_by_label("Make it the default").check()
    staff.get_by_role("button", name="Collect $150.00").click()
    expect(staff.get_by_role("status")).to_contain_text("Payment collected")
    expect(staff.get_by_test_id("payment-status")).to_contain_text("Paid")
    check_page(staff, "staff payment")
    staff.get_by_role("link", name=re.compile("Financial")).click()
    expect(staff.get_by_test_id("methods")).to_contain_text("Visa ending 4242")
    expect(staff.get_by_test_id("methods")).to_contain_text("Default")
    check_page(staff, "staff financial tab")

    first = new_invoice(staff, "cl_demo_sam", "90853", send="Post to portal")      # $60.00
    second = new_invoice(staff, "cl_demo_sam", "90834", send="Post to portal")     # $150.00

    patient = phone(browser, cairn.url)
    sign_in(patient, "portal", *SAM)
    portal_menu(patient, "Billing")
    check_page(patient, "portal billing")
    patient.get_by_role("button", name="Make a Payment").click()
    check_page(patient, "portal make a payment")
    expect(patient.get_by_label(re.compile(first))).to_be_checked()
    expect(patient.get_by_label(re.compile(second))).to_be_checked()
    expect(patient.get_by_label(re.compile("Visa ending 4242"))).to_be_checked()   # the default
    expect(patient.get_by_test_id("total")).to_have_text("$210.00")
    patient.get_by_role("button", name="Pay $210.00").click()
    expect(patient.get_by_role("status")).to_contain_text("We received $210.00")
    patient.get_by_role("link", name="Back to Billing").click()
    expect(patient.get_by_test_id("payment-history")).to_contain_text("Visa ending 4242")
    reload_until(patient, lambda: patient.get_by_text("Nothing is due. Thank you!").count())


def test_a_card_needing_3d_secure_and_a_bank_account_in_the_portal(cairn, browser):
    staff = phone(browser, cairn.url)
    sign_in(staff, "staff", *FRONT_DESK)
    new_invoice(staff, "cl_demo_sam", "90853", send="Post to portal")      # $60.00
    new_invoice(staff, "cl_demo_sam", "90853", send="Post to portal")      # $60.00

    patient = phone(browser, cairn.url)
    sign_in(patient, "portal", *SAM)
    patient.goto(f"{cairn.url}/portal/billing/pay")
    patient.locator("input[name=invoice]").nth(1).uncheck()               # one at a time
    patient.get_by_label("A new card or bank account").check()
    stripe_form(patient).get_by_label("Test card").select_option(label="Visa 3184 — needs 3-D Secure")
    patient.get_by_role("button", name="Pay $60.00").click()
    patient.get_by_role("button", name="Complete authentication").click()  # the bank's page
    expect(patient.get_by_role("status")).to_contain_text("We received $60.00")

    patient.goto(f"{cairn.url}/portal/billing/pay")
    patient.get_by_label("A new card or bank account").check()
    form = stripe_form(patient)
    form.get_by_label("US bank account").check()
    expect(patient.get_by_test_id("ach-mandate")).to_be_visible()         # before confirming
    expect(patient.get_by_test_id("ach-mandate")).to_contain_text("authorize Cedar Ridge Recovery")
    form.get_by_label("Test bank account").select_option(label="…6789 — succeeds after 3 days")
    form.get_by_label("Account holder name").fill("Sam Reyes")
    check_page(patient, "portal bank account")
    patient.get_by_role("button", name="Pay $60.00").click()
    expect(patient.get_by_role("status")).to_contain_text("bank payment of $60.00")
    patient.get_by_role("link", name="Back to Billing").click()
    expect(patient.get_by_test_id("payment-history")).to_contain_text("Pending")
