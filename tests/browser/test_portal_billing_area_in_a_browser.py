"""The portal's Billing area as the walkthrough shows it (seed step 7, issue 9)
clicked through in Chromium on the `make run` defaults: the summary under the
large yellow Make a Payment button, every item of the Billing sub-menu, an
invoice opened to its lines and its PDF, two invoices paid at once with a new
card kept as the default (reached by keyboard), then the payment in the
history, its receipt on screen and as a PDF, and the card on file as the
default. Every page is checked with axe-core and for sideways scrolling at
1280 and 390 px (screenshots in var/browser-screenshots/)."""
import re

from playwright.sync_api import expect

from browser_kit import check_page_at_both_widths as check, stripe_form, tab_to
from servicekit.pdf import text_of

FRONT_DESK = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")
AVERY = ("avery@demo.cairn.test", "demo-portal-2026")


def sign_in(page, base, area, login, password):
    page.goto(f"{base}/{area}/login")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def new_page(browser, width=390, height=844):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    return page


def posted_invoice(page, base, service):
    page.goto(f"{base}/staff/clients/cl_demo_avery/invoices/new")
    page.get_by_label("Location").select_option(label="Main Campus")
    page.get_by_label("Payment type").select_option(label="Self-pay")
    page.get_by_label("Service on line 1", exact=True).select_option(service)
    page.get_by_role("button", name="Save as draft").click()
    number = re.search(r"INV-\d{6}", page.locator("h1").inner_text()).group(0)
    page.get_by_role("button", name="Post to portal").click()
    return number


def download(page, click) -> bytes:
    with page.expect_download() as info:
        click()
    data = open(info.value.path(), "rb").read()
    assert info.value.suggested_filename.endswith(".pdf") and data.startswith(b"%PDF-")
    return data


def menu(page, item: str):
    page.get_by_role("navigation", name="Billing").get_by_role("link", name=item, exact=True).click()
    current = page.get_by_role("navigation", name="Billing").locator('[aria-current="page"]')
    expect(current).to_have_text(item)


def test_the_billing_area_pay_two_invoices_with_a_new_default_card_and_get_the_receipt(
        cairn, browser):
    staff = new_page(browser, 1280, 900)
    sign_in(staff, cairn.url, "staff", *FRONT_DESK)
    first = posted_invoice(staff, cairn.url, "90853")                    # $60.00
    second = posted_invoice(staff, cairn.url, "90834")                   # $150.00

    patient = new_page(browser)
    sign_in(patient, cairn.url, "portal", *AVERY)
    patient.goto(f"{cairn.url}/portal/billing")
    expect(patient.get_by_role("heading", name="Billing", exact=True)).to_be_visible()
    expect(patient.get_by_test_id("outstanding")).to_contain_text(first)
    expect(patient.get_by_test_id("outstanding")).to_contain_text(second)
    expect(patient.get_by_test_id("balance-due")).not_to_have_text("$0.00")
    check(patient, "portal billing summary")

    # Outstanding Invoices → one opened: its lines, its PDF
    menu(patient, "Outstanding Invoices")
    expect(patient.get_by_test_id("invoices")).to_contain_text(second)
    check(patient, "portal outstanding invoices")
    patient.get_by_role("link", name=second).click()
    expect(patient.get_by_test_id("invoice-lines")).to_contain_text("90834")
    expect(patient.get_by_test_id("invoice-balance")).to_have_text("$150.00")
    check(patient, "portal invoice")
    download(patient, lambda: patient.get_by_role("link", name="Download this invoice (PDF)").click())

    # Make a Payment, by keyboard, for both invoices, with a new card kept as the default
    menu(patient, "Overview")
    tab_to(patient, patient.get_by_role("button", name="Make a Payment"))
    patient.keyboard.press("Enter")
    expect(patient.get_by_role("heading", name="Make a Payment")).to_be_visible()
    for box in patient.locator("input[name=invoice]").all():        # only this test's two
        label = box.locator("xpath=..").inner_text()
        if first not in label and second not in label:
            box.uncheck()
    expect(patient.get_by_label(re.compile(first))).to_be_checked()
    expect(patient.get_by_label(re.compile(second))).to_be_checked()
    patient.get_by_label("A new card or bank account").check()
    stripe_form(patient).get_by_label("Test card").select_option(label="Visa 4242 — succeeds")
    patient.get_by_label("Make it the default").check()              # kept on file with it
    expect(patient.get_by_test_id("total")).to_have_text("$210.00")
    check(patient, "portal make a payment for two")
    patient.get_by_role("button", name="Pay $210.00").click()
    expect(patient.get_by_role("status")).to_contain_text("We received $210.00")

    # the receipt: on screen, printable, as a PDF
    patient.get_by_role("link", name="View, print or download the receipt").click()
    expect(patient.get_by_test_id("receipt-amount")).to_have_text("$210.00")
    expect(patient.get_by_test_id("receipt")).to_contain_text(first)
    expect(patient.get_by_test_id("receipt")).to_contain_text(second)
    expect(patient.get_by_role("button", name="Print this receipt")).to_be_visible()
    check(patient, "portal receipt")
    receipt = text_of(download(patient, lambda: patient.get_by_role(
        "link", name="Download the receipt (PDF)").click()))
    for words in ("Receipt", "$210.00", "Visa ending 4242", first, second):
        assert words in receipt, (words, receipt)

    # the history, the card on file as the default, and the rest of the sub-menu
    menu(patient, "Payments")
    row = patient.get_by_test_id("payments").locator("tbody tr").filter(has_text=first)
    expect(row).to_contain_text("$210.00")
    expect(row).to_contain_text("Visa ending 4242")
    check(patient, "portal payments")
    menu(patient, "Payment methods")
    expect(patient.locator("ul.methods li").filter(has_text="Visa ending 4242").first) \
        .to_contain_text("Default")
    check(patient, "portal payment methods")
    for item, name in (("Payment Plans", "portal payment plans"), ("Estimates", "portal estimates"),
                       ("Statements and Super Bills", "portal statements and superbills")):
        menu(patient, item)
        check(patient, name)
    menu(patient, "Outstanding Invoices")          # paid once invoicing hears of it
    for _ in range(100):
        if patient.get_by_test_id("paid-invoices").filter(has_text=second).count():
            break
        patient.wait_for_timeout(200)
        patient.reload()
    expect(patient.get_by_test_id("paid-invoices")).to_contain_text(second)
