"""The foundation flow clicked through in Chromium, on the embedded defaults
that `make run` uses: a front-desk worker creates and emails an invoice, the
patient opens the one-time link from the email file, proves who they are to
see the services, and pays in Stripe's form (the sandbox's stand-in)."""
import email
import email.policy
import re

from playwright.sync_api import expect

from browser_kit import check_page, stripe_form

DEMO_STAFF = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")


def test_front_desk_invoice_to_patient_payment(cairn, page):
    page.goto(f"{cairn.url}/staff/login")
    page.get_by_label("Email").fill(DEMO_STAFF[0])
    page.get_by_label("Password").fill(DEMO_STAFF[1])
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="Lindqvist, Avery").click()
    page.get_by_role("link", name="Financial").click()
    page.get_by_role("link", name="Create invoice").click()

    page.get_by_label("Location").select_option(label="Main Campus")
    page.get_by_label("Payment type").select_option(label="Self-pay")
    page.get_by_label("Service on line 1", exact=True).select_option("90834")
    page.get_by_role("button", name="Add a service line").click()
    page.get_by_label("Service on line 2", exact=True).select_option("90853")
    page.get_by_label("Units on line 2").fill("2")
    page.get_by_label("Kind").select_option(label="Percentage (%)")
    page.get_by_label("Amount").fill("10")
    page.get_by_role("button", name="Save as draft").click()
    assert page.get_by_test_id("invoice-balance").inner_text() == "$243.00"
    number = re.search(r"INV-\d{6}", page.locator("h1").inner_text()).group(0)

    before = len(cairn.mail_files())
    page.get_by_role("button", name="Send by email").click()
    assert "being emailed" in page.get_by_role("status").inner_text()
    message = email.message_from_bytes(cairn.wait_for_mail(before + 1)[-1].read_bytes(),
                                       policy=email.policy.default)
    text = message.get_body(("plain",)).get_content()
    assert number in text and "243" not in message["Subject"]
    pay_link = re.search(r"(http://127\.0\.0\.1:\d+/pay/\S+)", text).group(1)

    patient = page.context.browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    patient.set_default_timeout(20_000)
    patient.goto(pay_link)
    assert patient.get_by_test_id("balance").inner_text() == "$243.00"
    assert patient.get_by_text("Psychotherapy, 45 minutes").count() == 0     # not before proof
    check_page(patient, "pay link")
    patient.get_by_label("Patient's date of birth").fill("1988-03-14")
    patient.get_by_role("button", name="Show services").click()
    assert patient.get_by_text("Psychotherapy, 45 minutes").is_visible()

    stripe_form(patient).get_by_label("Test card").select_option(label="Visa 0002 — declined")
    patient.get_by_role("button", name="Pay $243.00").click()
    expect(patient.get_by_test_id("payment-error")).to_contain_text("declined")
    stripe_form(patient).get_by_label("Test card").select_option(label="Visa 4242 — succeeds")
    patient.get_by_role("button", name="Pay $243.00").click()
    expect(patient.get_by_role("status")).to_contain_text("We received $243.00")

    page.reload()
    for _ in range(50):
        if page.get_by_test_id("invoice-status").inner_text() == "Paid":
            break
        page.wait_for_timeout(200)   # a short poll for the event to land, not a timing assumption
        page.reload()
    assert page.get_by_test_id("invoice-status").inner_text() == "Paid"
    assert page.get_by_test_id("invoice-balance").inner_text() == "$0.00"
