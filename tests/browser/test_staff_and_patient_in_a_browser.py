"""The foundation flow clicked through in Chromium, on the embedded defaults
that `make run` uses: a front-desk worker creates and emails an invoice, the
patient opens the one-time link from the email file and pays."""
import email
import email.policy
import re

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
    page.get_by_label("Payment type").select_option(label="Private pay")
    page.get_by_label("Service on line 1").select_option("90834")
    page.get_by_label("Service on line 2").select_option("90853")
    page.get_by_label("Units on line 2").fill("2")
    page.get_by_label("Kind").select_option(label="Percentage (%)")
    page.get_by_label("Amount").fill("10")
    page.get_by_role("button", name="Save").click()
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

    patient = page.context.browser.new_context().new_page()
    patient.goto(pay_link)
    assert patient.get_by_test_id("balance").inner_text() == "$243.00"
    patient.get_by_label("Card ending 0002 (test card that is declined)").check()
    patient.get_by_role("button", name="Pay $243.00").click()
    assert "declined" in patient.get_by_test_id("payment-error").inner_text()
    patient.get_by_label("Visa ending 4242 (test card that succeeds)").check()
    patient.get_by_role("button", name="Pay $243.00").click()
    assert "We received $243.00" in patient.get_by_role("status").inner_text()

    page.reload()
    for _ in range(50):
        if page.get_by_test_id("invoice-status").inner_text() == "Paid":
            break
        page.wait_for_timeout(200)   # a short poll for the event to land, not a timing assumption
        page.reload()
    assert page.get_by_test_id("invoice-status").inner_text() == "Paid"
    assert page.get_by_test_id("invoice-balance").inner_text() == "$0.00"
