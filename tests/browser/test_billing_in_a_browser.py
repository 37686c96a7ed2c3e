"""Billing in depth clicked through in Chromium on the `make run` defaults: a
front-desk worker creates an invoice with three lines and a discount (the
totals follow the typing), collects part of it with a new card kept as the
default, emails it, sets up a three-installment plan for the rest; the patient
signs the plan in the portal; the business date moves on and autopay charges
the first installment; the statement and superbill PDFs say what the screens
say. Every key page is checked with axe-core and for sideways scrolling at
1280 and 390 px, each leaving a screenshot in var/browser-screenshots/."""
import email
import email.policy
import re
import time
from datetime import date, datetime, timedelta, timezone

from playwright.sync_api import expect

from browser_kit import portal_menu, check_page_at_both_widths as check, stripe_form, tab_to
from servicekit.pdf import text_of

FRONT_DESK = ("frontdesk@demo.cairn.test", "demo-frontdesk-2026")
# Jordan Okafor: an email address and a portal sign-in, and no other browser
# test bills them (the plan left active would change other tests' totals)
CLIENT, CLIENT_NAME = "cl_demo_jordan", "Okafor, Jordan"
PATIENT = ("jordan@demo.cairn.test", "demo-portal-2026")
DAYS_TO_FIRST_INSTALLMENT = 7


def sign_in(page, base, area, login, password):
    page.goto(f"{base}/{area}/login")
    page.get_by_label("Email").fill(login)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()


def new_page(browser, width=1280, height=900):
    page = browser.new_context(viewport={"width": width, "height": height}).new_page()
    page.set_default_timeout(20_000)
    return page


def totals(page) -> dict:
    return {part: page.locator(f'[data-total="{part}"]').inner_text()
            for part in ("subtotal", "lines", "invoice", "total")}


def reload_until(page, seen, timeout=60):
    """Reload until `seen()` (an event or the autopay timer landing), polled
    against a deadline."""
    deadline = time.monotonic() + timeout
    while not seen():
        if time.monotonic() > deadline:
            raise AssertionError(f"not seen on {page.url} within {timeout}s")
        page.wait_for_timeout(250)
        page.reload()


def download(page, click) -> bytes:
    with page.expect_download() as info:
        click()
    dl = info.value
    assert dl.suggested_filename.endswith(".pdf"), dl.suggested_filename
    data = open(dl.path(), "rb").read()
    assert data.startswith(b"%PDF-"), data[:20]
    return data


def test_invoice_partial_payment_email_plan_autopay_and_pdfs(cairn, browser):
    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *FRONT_DESK)
    staff.get_by_role("link", name=CLIENT_NAME).click()
    staff.get_by_role("link", name="Financial").click()
    staff.get_by_role("link", name="Create invoice").click()

    # ---- the invoice form: three lines, a line discount and the invoice's;
    # the running totals change as staff type, before anything is saved
    staff.get_by_label("Location").select_option(label="Main Campus")
    staff.get_by_label("Payment type").select_option(label="Self-pay")
    staff.get_by_label("Provider").select_option(index=1)
    staff.get_by_label("Diagnosis codes (ICD-10)").fill("F41.1")
    staff.get_by_label("Service on line 1", exact=True).select_option("90834")           # $150.00
    expect(staff.locator('[data-total="total"]')).to_have_text("$150.00")
    staff.get_by_role("button", name="Add a service line").click()
    staff.get_by_label("Service on line 2", exact=True).select_option("90853")           # $60.00
    staff.get_by_label("Units on line 2").fill("2")
    expect(staff.locator('[data-total="total"]')).to_have_text("$270.00")
    staff.get_by_label("Discount (10% or 5.00) on line 2").fill("5.00")
    expect(staff.locator('[data-total="total"]')).to_have_text("$265.00")
    # the third line by keyboard: Enter on "Add a service line" moves focus into the new line
    staff.get_by_role("button", name="Add a service line").focus()
    staff.keyboard.press("Enter")
    expect(staff.get_by_label("Service on line 3", exact=True)).to_be_focused()
    staff.get_by_label("Service on line 3", exact=True).select_option("90837")
    staff.get_by_label("Price each on line 3").fill("180.00")                # typed over the fee
    expect(staff.locator('[data-total="total"]')).to_have_text("$445.00")
    staff.get_by_label("Kind").select_option(label="Percentage (%)")
    staff.get_by_label("Amount", exact=True).fill("10")
    expect(staff.locator('[data-total="total"]')).to_have_text("$400.50")
    typed = totals(staff)
    assert typed == {"subtotal": "$450.00", "lines": "−$5.00", "invoice": "−$44.50",
                     "total": "$400.50"}, typed
    check(staff, "staff invoice form")
    staff.get_by_role("button", name="Save and finalize").click()

    # ---- the saved invoice: the same totals to the cent
    expect(staff.get_by_test_id("invoice-status")).to_have_text("Open")
    number = re.search(r"INV-\d{6}", staff.locator("h1").inner_text()).group(0)
    invoice_url = staff.url
    footer = staff.locator("tfoot").inner_text()
    assert "$450.00" in footer and "−$5.00" in footer and "−$44.50" in footer, footer
    assert staff.get_by_test_id("invoice-balance").inner_text() == "$400.50"
    assert typed["total"] in footer
    check(staff, "staff invoice")

    # ---- a partial payment with a new card, kept on file as the default
    staff.get_by_role("link", name="Collect payment").click()
    staff.locator(".share").filter(has_text=number).get_by_label("Amount to pay").fill("100.00")
    staff.get_by_label("A new card or bank account").check()
    stripe_form(staff).get_by_label("Test card").select_option(label="Visa 4242 — succeeds")
    staff.get_by_label("Keep this card or account on file for future payments").check()
    staff.get_by_label("Make it the default").check()
    check(staff, "staff collect payment")
    # by keyboard from inside Stripe's form (an iframe) out to the button: no trap
    stripe_form(staff).get_by_label("Test card").focus()
    tab_to(staff, staff.get_by_role("button", name="Collect $100.00"))
    staff.keyboard.press("Enter")
    expect(staff.get_by_role("status")).to_contain_text("Payment collected")
    staff.goto(invoice_url)
    expect(staff.get_by_test_id("invoice-status")).to_have_text("Partially paid")
    assert staff.get_by_test_id("invoice-balance").inner_text() == "$300.50"

    # ---- sent by email: the message is in var/mail, its subject names no amount
    before = len(cairn.mail_files())
    staff.get_by_role("button", name="Send by email").click()
    expect(staff.get_by_role("status")).to_contain_text("being emailed")
    message = invoice_email(cairn, before, number)
    assert message["To"] == PATIENT[0]
    assert "$" not in message["Subject"] and "300" not in message["Subject"] \
        and number not in message["Subject"], message["Subject"]

    # ---- the Financial tab: the card is the default
    staff.get_by_role("link", name=re.compile("Financial")).click()
    methods = staff.get_by_test_id("methods")
    expect(methods.locator("li").filter(has_text="Visa ending 4242")).to_contain_text("Default")
    check(staff, "staff financial tab")

    # ---- a plan of three monthly installments for the rest
    staff.get_by_role("link", name="Set up a payment plan").click()
    first_day = (datetime.now(timezone.utc).date() + timedelta(days=DAYS_TO_FIRST_INSTALLMENT))
    staff.get_by_label(re.compile(number)).check()
    staff.get_by_label("Number of installments").fill("3")
    staff.get_by_label("How often").select_option(label="Monthly")
    staff.get_by_label("First payment date").fill(first_day.isoformat())
    staff.get_by_role("button", name="Preview the schedule").click()
    expect(staff.get_by_test_id("plan-total")).to_have_text("$300.50")
    preview = amounts_in(staff.get_by_test_id("plan-preview"))
    assert preview == [10017, 10017, 10016] and sum(preview) == 30050, preview
    check(staff, "staff plan setup")
    staff.get_by_role("button", name="Set up the plan").click()
    expect(staff.get_by_role("status")).to_contain_text("Plan set up")
    plan_url = staff.url.split("?")[0]
    assert amounts_in(staff.get_by_test_id("plan-schedule")) == [10017, 10017, 10016]
    expect(staff.get_by_test_id("plan-status")).to_have_text("Waiting for the patient's signature")
    check(staff, "staff plan")

    # ---- the patient signs the plan in the portal, authorizing autopay
    patient = new_page(browser, 390, 844)
    sign_in(patient, cairn.url, "portal", *PATIENT)
    portal_menu(patient, "Billing")
    patient.get_by_test_id("portal-plans").get_by_role("link", name=re.compile("3 installments")).click()
    expect(patient.get_by_test_id("plan-status")).to_have_text("Waiting for your signature")
    expect(patient.get_by_test_id("plan-agreement")).to_be_visible()
    expect(patient.get_by_text("Visa ending 4242")).to_be_visible()       # the default, charged
    check(patient, "portal plan to sign")
    # signed by keyboard alone: Tab to the box, Space, Tab to the name, Enter
    agree = patient.get_by_label("I agree to this plan and authorize these automatic payments")
    tab_to(patient, agree)
    patient.keyboard.press("Space")
    expect(agree).to_be_checked()
    patient.keyboard.press("Tab")
    expect(patient.get_by_label("Type your full name to sign")).to_be_focused()
    patient.keyboard.type("Jordan Okafor")
    patient.keyboard.press("Enter")
    expect(patient.get_by_role("status")).to_contain_text("Your plan is active")
    expect(patient.get_by_test_id("plan-next-charge")).to_have_text(
        f"$100.17 on {first_day.isoformat()}")
    check(patient, "portal plan")

    # ---- nothing is charged before its day; then the business date moves on
    staff.goto(plan_url)
    expect(staff.get_by_test_id("plan-status")).to_have_text("Active")
    try:
        cairn.advance_clock(DAYS_TO_FIRST_INSTALLMENT)
        reload_until(staff, lambda: "Paid" in schedule_row(staff, 1))
        expect(staff.get_by_test_id("plan-next-charge")).to_have_text(
            f"$100.17 on {add_month(first_day).isoformat()}")
        assert "Paid" not in schedule_row(staff, 2)
        check(staff, "staff plan after autopay")
        staff.goto(invoice_url)
        reload_until(staff, lambda: staff.get_by_test_id("invoice-balance").inner_text() == "$200.33")
        patient.reload()
        expect(patient.get_by_test_id("plan-next-charge")).to_have_text(
            f"$100.17 on {add_month(first_day).isoformat()}")

        # ---- a statement and a superbill, both PDFs saying what the screens say
        business_today = first_day
        staff.goto(f"{cairn.url}/staff/clients/{CLIENT}/financial")
        staff.get_by_label("First day", exact=True).fill((business_today - timedelta(days=30)).isoformat())
        staff.get_by_label("Last day", exact=True).fill(business_today.isoformat())
        staff.get_by_role("button", name="Issue a statement").click()
        expect(staff.get_by_role("status")).to_contain_text("Statement issued")
        row = staff.get_by_test_id("statements").locator("tbody tr").first
        closing = row.locator("td.num").inner_text()
        # a statement up to today closes at the balance the tab shows (no credit here)
        assert closing == staff.get_by_test_id("client-balance").inner_text(), closing
        assert staff.get_by_test_id("client-credit").inner_text() == "$0.00"
        check(staff, "staff statements")
        statement = text_of(download(staff, lambda: row.get_by_role("link").click()))
        for amount in (closing, "$400.50", "$100.00", "$100.17"):
            assert amount in statement, (amount, statement)

        staff.get_by_label("First day of service").fill((business_today - timedelta(days=30)).isoformat())
        staff.get_by_label("Last day of service").fill(business_today.isoformat())
        superbill = text_of(download(
            staff, lambda: staff.get_by_role("button", name="Download superbill (PDF)").click()))
        # this invoice's lines at their net fees (after both discounts), what was paid
        # spread over them; the fees and paid amounts of its three lines add up to the screen's
        for words in ("90834 Psychotherapy, 45 minutes 1 $135.00 $67.47",
                      "90853 Group psychotherapy 2 $103.50 $51.73",
                      "90837 Psychotherapy, 60 minutes 1 $162.00 $80.97",
                      "Total paid $200.17", "F41.1"):
            assert words in superbill, (words, superbill)
        assert 13500 + 10350 + 16200 == 40050 and 6747 + 5173 + 8097 == 40050 - 20033

        patient.goto(f"{cairn.url}/portal/billing/statements")
        expect(patient.get_by_test_id("statements")).to_contain_text(closing)
        check(patient, "portal statements")
    finally:
        cairn.advance_clock(0)       # the next tests run on today's date


def invoice_email(cairn, before: int, number: str):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        for path in cairn.mail_files()[before:]:
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            if number in message.get_body(("plain",)).get_content():
                return message
        time.sleep(0.1)
    raise AssertionError(f"no email about {number} in var/mail")


def amounts_in(table) -> list[int]:
    """The Amount column of a schedule, in cents."""
    cells = table.locator('tbody td[data-label="Amount"]').all_inner_texts()
    return [int(text.replace("$", "").replace(",", "").replace(".", "")) for text in cells]


def schedule_row(page, number: int) -> str:
    return page.get_by_test_id("plan-schedule").locator("tbody tr").nth(number - 1).inner_text()


def add_month(day: date) -> date:
    import calendar
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return day.replace(year=year, month=month,
                       day=min(day.day, calendar.monthrange(year, month)[1]))


ADMIN = ("admin@demo.cairn.test", "demo-staff-2026!")


def test_every_staff_page_passes_axe_and_fits_a_phone(cairn, browser):
    """Every staff page (and the billing forms showing their errors) at 1280
    and 390 px: no serious or critical axe-core violation, no sideways scroll."""
    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *ADMIN)
    client = f"{cairn.url}/staff/clients/{CLIENT}"
    staff.goto(f"{client}/invoices/new")
    staff.get_by_role("button", name="Save as draft").click()           # nothing chosen
    expect(staff.locator('[aria-invalid="true"]').first).to_be_visible()
    check(staff, "staff invoice form with errors")
    staff.get_by_label("Location").select_option(label="Main Campus")
    staff.get_by_label("Payment type").select_option(label="Self-pay")
    staff.get_by_label("Service on line 1", exact=True).select_option("90834")
    staff.get_by_role("button", name="Save as draft").click()
    draft = staff.url.split("?")[0]

    pages = {
        "staff clients": f"{cairn.url}/staff",
        "staff client details": client,
        "staff client contacts": f"{client}/contacts",
        "staff client insurance": f"{client}/insurance",
        "staff client portal access": f"{client}/portal",
        "staff client edit": f"{client}/edit",
        "staff new client": f"{cairn.url}/staff/clients/new",
        "staff draft invoice": draft,
        "staff invoice edit": f"{draft}/edit",
        "staff invoice void": f"{draft}/void",
        "staff adjustment": f"{client}/adjustments/new",
        "staff apply credit": f"{client}/credit",
        "staff collect all": f"{client}/collect",
        "staff add a card": f"{client}/methods/new",
        "staff new estimate": f"{client}/estimates/new",
        "staff account": f"{cairn.url}/staff/account",
        "staff settings": f"{cairn.url}/staff/settings",
        "staff services": f"{cairn.url}/staff/settings/catalog",
        "staff service": f"{cairn.url}/staff/settings/catalog/90834",
        "staff new service": f"{cairn.url}/staff/settings/catalog/new",
        "staff new provider": f"{cairn.url}/staff/settings/providers/new",
        "staff team": f"{cairn.url}/staff/team",
        "staff audit log": f"{cairn.url}/staff/audit",
    }
    for name, url in pages.items():
        staff.goto(url)
        check(staff, name)

    staff.goto(f"{client}/financial")
    staff.get_by_test_id("payments").locator('a[href^="/staff/payments/"]').first.click()
    check(staff, "staff payment")

    staff.goto(draft)                       # sent, so that a plan may take it
    staff.get_by_role("button", name="Post to portal").click()
    expect(staff.get_by_role("status")).to_contain_text("posted")

    for name, url, button in [
            ("staff adjustment with errors", f"{client}/adjustments/new", "Save"),
            ("staff plan setup with errors", f"{client}/plans/new", "Set up the plan"),
            ("staff new estimate with errors", f"{client}/estimates/new", "Save estimate"),
            ("staff new service with errors", f"{cairn.url}/staff/settings/catalog/new", "Save")]:
        staff.goto(url)
        if name == "staff plan setup with errors":
            staff.get_by_label("Number of installments").fill("1")
        staff.get_by_role("button", name=button, exact=True).click()
        expect(staff.locator('[aria-invalid="true"]').first).to_be_visible()
        check(staff, name)


def test_estimate_pages_and_every_portal_page(cairn, browser):
    """A Good Faith Estimate from the staff form to the patient's portal, and
    every portal page, at 1280 and 390 px."""
    staff = new_page(browser)
    sign_in(staff, cairn.url, "staff", *FRONT_DESK)
    staff.goto(f"{cairn.url}/staff/clients/{CLIENT}/estimates/new")
    staff.get_by_label("Good Faith Estimate (self-pay or uninsured)").check()
    staff.get_by_label("Provider").select_option(index=1)
    staff.get_by_label("Location (facility)").select_option(label="Main Campus")
    today = datetime.now(timezone.utc).date()
    staff.get_by_label("Scheduled or requested on").fill(today.isoformat())   # booked today
    staff.get_by_label("Service on line 1", exact=True).select_option("90834")
    staff.get_by_label("Expected date on line 1", exact=True).fill((today + timedelta(days=8)).isoformat())
    staff.get_by_role("button", name="Save estimate").click()
    expect(staff.get_by_test_id("estimate-deadline")).to_contain_text("Due: send this Good Faith Estimate by")
    expect(staff.get_by_text("Billed versus this estimate")).to_have_count(0)   # a draft counts for nothing
    check(staff, "staff estimate")
    staff.get_by_role("button", name="Send to portal", exact=True).click()
    expect(staff.get_by_role("status")).to_contain_text("posted")
    expect(staff.get_by_test_id("estimate-deadline")).to_contain_text("Delivered on time")
    expect(staff.get_by_text("Billed versus this estimate")).to_be_visible()
    expect(staff.get_by_test_id("estimate-billed")).to_have_text("$0.00")

    patient = new_page(browser, 390, 844)
    sign_in(patient, cairn.url, "portal", *PATIENT)
    for name, path in [("portal home", "/portal"), ("portal billing", "/portal/billing"),
                       ("portal make a payment", "/portal/billing/pay"),
                       ("portal payment methods", "/portal/billing/methods"),
                       ("portal statements page", "/portal/billing/statements"),
                       ("portal estimates", "/portal/estimates"),
                       ("portal account", "/portal/account")]:
        patient.goto(cairn.url + path)
        check(patient, name)
    patient.goto(f"{cairn.url}/portal/estimates")
    patient.get_by_role("link", name=re.compile("Good Faith Estimate")).first.click()
    check(patient, "portal estimate")
