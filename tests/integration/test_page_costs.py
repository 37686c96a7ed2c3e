"""What a page costs is mostly how many RPCs it makes (about 3 ms of CPU
each): every page keeps to its budget once the session check and the
organization are cached, and a page that only reads writes nothing."""
import re

import pytest

from tests.fixtures.stack import Browser
from tests.support.processes import wait_until

FORM = {"location_id": "loc_main", "payment_type": "private_pay", "line1_service": "90834",
        "line1_units": "1"}
JORDAN = ("jordan@demo.cairn.test", "demo-portal-2026")
ADMIN = ("admin@demo.cairn.test", "demo-staff-2026!")
# pages that need three owners' data (clients, invoicing, payments) ask them
# at once; every other page makes at most two calls
THREE_OWNERS = 3


def rpc_count(response) -> int:
    assert response.status_code == 200, (response.url, response.status_code)
    return int(re.search(r'rpc;desc="(\d+)"', response.headers["Server-Timing"]).group(1))


@pytest.fixture(scope="module")
def billed(cairn):
    """An invoice for Jordan, sent by email and to the portal, partly paid in cash."""
    staff = cairn.staff()
    csrf = staff.csrf("/staff/clients/cl_demo_jordan/invoices/new")
    created = staff.post("/staff/clients/cl_demo_jordan/invoices", data={**FORM, "csrf": csrf})
    invoice_id = created.url.rsplit("/", 1)[1]
    for channel in ("email", "portal"):
        staff.post(f"/staff/invoices/{invoice_id}/send", data={"channel": channel, "csrf": csrf})
    paid = staff.post("/staff/clients/cl_demo_jordan/collect", data={
        "csrf": csrf, "invoice": invoice_id, f"amount_{invoice_id}": "10.00", "method": "cash",
        "request_key": "page-costs-cash-1"})
    assert "/staff/payments/" in paid.url, (paid.status_code, re.findall(r"role=\"alert\"[^>]*>([^<]+)", paid.text))
    payment_id = re.search(r"/staff/payments/(\w+)", paid.url).group(1)
    def pay_link():
        for message in cairn.mail.messages():
            found = re.search(r"/pay/[A-Za-z0-9_\-]+\.[A-Za-z0-9_\-]+",
                              message.get_body(("plain",)).get_content())
            if "jordan@" in str(message["To"]) and found:
                return found.group(0)
    link = wait_until(pay_link, timeout=20, what="the invoice email")
    return {"invoice": invoice_id, "payment": payment_id, "pay_link": link, "staff": staff}


@pytest.fixture(scope="module")
def estimated(cairn, billed):
    """A Good Faith Estimate for Jordan, posted to the portal."""
    staff = billed["staff"]
    csrf = staff.csrf("/staff/clients/cl_demo_jordan/estimates/new")
    created = staff.post("/staff/clients/cl_demo_jordan/estimates", data={
        "csrf": csrf, "kind": "gfe", "provider_id": "prv_demo_rivera", "location_id": "loc_main",
        "scheduled_on": "2026-12-01", "line1_service": "90834", "line1_units": "1",
        "line1_date": "2026-12-31"})
    estimate_id = created.url.rsplit("/", 1)[1].split("?")[0]
    staff.post(f"/staff/estimates/{estimate_id}/send", data={"channel": "portal", "csrf": csrf})
    return estimate_id


def cost(browser, path) -> int:
    browser.get(path)                       # the first visit fills this copy's caches
    return rpc_count(browser.get(path))


def test_staff_pages_keep_to_their_rpc_budget(cairn, billed, estimated):
    staff = billed["staff"]
    assert cost(staff, "/staff") == 1
    assert cost(staff, "/staff/clients/cl_demo_jordan") == 1
    assert cost(staff, "/staff/clients/cl_demo_jordan/financial") == THREE_OWNERS
    assert cost(staff, "/staff/clients/cl_demo_jordan/collect") == THREE_OWNERS
    assert cost(staff, f"/staff/invoices/{billed['invoice']}") == THREE_OWNERS
    assert cost(staff, f"/staff/payments/{billed['payment']}") == THREE_OWNERS
    assert cost(staff, "/staff/clients/cl_demo_jordan/invoices/new") == 1
    assert cost(staff, f"/staff/invoices/{billed['invoice']}/void") == 2
    # ledger: the profile's tabs read one record; the adjustment and credit
    # forms ask clients and invoicing at once
    for tab in ("contacts", "insurance", "portal"):
        assert cost(staff, f"/staff/clients/cl_demo_jordan/{tab}") == 1
    assert cost(staff, "/staff/clients/cl_demo_jordan/adjustments/new") == 2
    assert cost(staff, "/staff/clients/cl_demo_jordan/credit") == 2
    assert cost(staff, "/staff/account") == 0
    # estimates: the form (client ∥ providers), an estimate (estimate, then client)
    assert cost(staff, "/staff/clients/cl_demo_jordan/estimates/new") == 2
    assert cost(staff, f"/staff/estimates/{estimated}") == 2
    # the invoice form's Good Faith Estimate warning is a request of its own (its
    # script's), one RPC; a saved invoice over the estimate shows the warning, its
    # adjustments and what is owed after them with no RPC more
    warning = "/staff/clients/cl_demo_jordan/estimate-variance?provider_id=prv_demo_rivera"
    assert cost(staff, warning + "&proposed=900.00") == 1
    assert 'data-testid="gfe-warning"' in staff.get(warning + "&proposed=900.00").text
    csrf = staff.csrf("/staff/clients/cl_demo_jordan/invoices/new")
    over = staff.post("/staff/clients/cl_demo_jordan/invoices", data={
        **FORM, "provider_id": "prv_demo_rivera", "line1_units": "8", "csrf": csrf,
        "action": "finalize"}).url.rsplit("/", 1)[1].split("?")[0]
    adjusted = staff.post("/staff/clients/cl_demo_jordan/adjustments", data={
        "csrf": csrf, "invoice": over, "choice": "decrease", "amount": "1.00",
        "reason": "Rounding", "request_key": "page-costs-adjust-1"})
    assert "notice=adjusted" in adjusted.url
    assert cost(staff, f"/staff/invoices/{over}") == THREE_OWNERS
    page = staff.get(f"/staff/invoices/{over}").text
    assert 'data-testid="gfe-warning"' in page and 'data-testid="invoice-owed"' in page
    assert 'data-testid="invoice-status">Open<' in page                 # still final, not a draft
    assert "Finalized, not sent to the patient yet." in page
    assert f"/staff/clients/cl_demo_jordan/adjustments/new?invoice={over}" in page
    # issue 9: the Documents tab asks clients and documents once each, at once
    assert cost(staff, "/staff/clients/cl_demo_jordan/documents") == 2
    assert cost(staff, "/staff/clients/cl_demo_jordan/appointments") <= 2
    admin = cairn.staff(*ADMIN)
    assert cost(admin, "/staff/clients/cl_demo_avery/documents") == 2    # scores, notes: still 2
    assert cost(admin, "/staff/settings") == 0
    assert cost(admin, "/staff/audit") == 1
    assert cost(admin, "/staff/settings/catalog") == 2          # services and providers, at once
    assert cost(admin, "/staff/settings/catalog/90834") == 1
    assert cost(admin, "/staff/settings/providers/new") == 0


def test_portal_and_pay_pages_keep_to_their_rpc_budget(cairn, billed, estimated):
    patient = cairn.sign_in("portal", *JORDAN)
    assert cost(patient, "/portal") == 2       # documents summary ∥ appointments (b9-shell)
    assert cost(patient, "/portal/billing") == 2
    assert cost(patient, "/portal/billing/pay") == 2
    assert cost(patient, "/portal/billing/methods") == 1
    assert cost(patient, "/portal/billing/statements") == 1          # b8-statements
    assert cost(patient, "/portal/estimates") == 1
    assert cost(patient, f"/portal/estimates/{estimated}") == 1
    # issue 9, the Billing area: one owner a page, or two asked at once
    assert cost(patient, "/portal/billing/invoices") == 1
    assert cost(patient, f"/portal/billing/invoices/{billed['invoice']}") == 2
    assert cost(patient, "/portal/billing/payments") == 1
    assert cost(patient, f"/portal/billing/payments/{billed['payment']}") == 1   # its receipt
    assert cost(patient, "/portal/billing/plans") == 1
    # issue 9, the rest of the portal
    for path in ("/portal/appointments", "/portal/documents", "/portal/documents/forms",
                 "/portal/documents/consents", "/portal/documents/resources",
                 "/portal/documents/upload", "/portal/messages", "/portal/contacts",
                 "/portal/insurance"):
        assert cost(patient, path) <= 2, path
    payer = Browser(cairn.url)
    assert cost(payer, billed["pay_link"]) == 2


# pdf_cache aside too: the documents service keeps each sent invoice's PDF,
# and asking invoicing to render it fills invoicing's cache, whatever a page does
WRITES = ("select coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) as n from pg_stat_user_tables "
          "where relname not in ('audit_log', 'auth_sessions', 'pdf_cache')")


def quiet_totals(cairn) -> dict:
    """Rows written so far per database (audit and session rows aside), once
    nothing is still arriving: PostgreSQL publishes a backend's counts up to
    a second after its commit, so two readings that far apart must agree."""
    def read():
        return {service: cairn.sql(service, WRITES)[0].n
                for service in ("clients", "invoicing", "payments")}
    readings = []

    def steady():
        readings.append(read())
        return readings[-1] if readings[-2:-1] == readings[-1:] else None
    # polled at the statistics' own publishing interval
    return wait_until(steady, timeout=20, interval=1.1, what="the databases to be quiet")


def test_a_signed_in_page_that_only_reads_writes_nothing(cairn, billed):
    staff = billed["staff"]
    audited = lambda: cairn.sql("clients", "select count(*) as n from audit_log "  # noqa: E731
                                "where action = 'financial.read'")[0].n
    staff.get("/staff/clients/cl_demo_jordan/financial")
    before, entries = quiet_totals(cairn), audited()
    for _ in range(5):
        staff.get("/staff/clients/cl_demo_jordan/financial")
    # every read is in the audit log, written in batches behind the requests
    wait_until(lambda: audited() == entries + 5, timeout=5, what="the five audit entries")
    assert quiet_totals(cairn) == before


# ---- payment plans (plans) ----------------------------------------------------------------
def test_payment_plan_pages_keep_to_their_rpc_budget(cairn, billed):
    from datetime import datetime, timedelta, timezone
    staff = billed["staff"]
    assert cost(staff, "/staff/clients/cl_demo_jordan/plans/new") == 2   # client ∥ invoices
    first = datetime.now(timezone.utc).date() + timedelta(days=30)
    created = staff.post("/staff/clients/cl_demo_jordan/plans", data={
        "csrf": staff.csrf("/staff/clients/cl_demo_jordan/plans/new"), "invoice": billed["invoice"],
        "installments": "2", "frequency": "monthly", "first_due_on": str(first),
        "action": "create"})
    plan_id = re.search(r"/staff/plans/(plan_[0-9a-f]+)", created.url).group(1)
    assert cost(staff, f"/staff/plans/{plan_id}") == 2                   # plan, then client
    patient = cairn.sign_in("portal", *JORDAN)
    assert cost(patient, f"/portal/billing/plans/{plan_id}") == 2        # plan ∥ methods
