"""PDF downloads through the gateway, with stand-ins behind it: an
attachment named by number or dates only, never cached, audited; the portal
asks only for the signed-in client's; a superbill for dates with no
services shows the reason next to the date, and no file."""
import base64

import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, InvalidFields, NotFound
from tests.support.processes import free_port

PDF = b"%PDF-1.7 a tiny stand-in"
CALLS: list = []
LATER = "2099-01-01T00:00:00.000000Z"


def session_of(token):
    common = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER, "name": "Someone"}
    if token == "staff":
        return {**common, "kind": "staff", "subject_id": "st_1", "role": "biller",
                "permissions": ["billing.read", "billing.write", "clients.read"]}
    return {**common, "kind": "portal", "subject_id": "pa_1", "acting_for": "cl_1",
            "clients": [{"id": "cl_1", "name": "Avery"}], "permissions": []}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return session_of(token)

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", actor["kind"], action, client_id))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "locations": []}


def reply(filename, client_id="cl_1"):
    return {"filename": filename, "content_type": "application/pdf", "client_id": client_id,
            "pdf_base64": base64.b64encode(PDF).decode()}


class Invoicing:
    name = "invoicing"

    @rpc(expected_exceptions=EXPECTED)
    def statement_pdf(self, statement_id, client_id=None):
        CALLS.append(("statement_pdf", statement_id, client_id))
        if client_id != "cl_1":
            raise NotFound("statement not found")
        return reply("statement-2026-11-01-to-2026-11-30.pdf")

    @rpc(expected_exceptions=EXPECTED)
    def invoice_pdf(self, invoice_id, client_id=None):
        CALLS.append(("invoice_pdf", invoice_id, client_id))
        return reply("invoice-INV-000001.pdf")

    @rpc(expected_exceptions=EXPECTED)
    def superbill(self, client_id, start, end):
        CALLS.append(("superbill", client_id, start, end))
        raise InvalidFields({"start": "There are no services between January 1, 2020 and "
                                      "January 31, 2020. Choose other dates."})

    @rpc(expected_exceptions=EXPECTED)
    def list_statements(self, client_id):
        return []

    @rpc(expected_exceptions=EXPECTED)
    def estimate_pdf(self, estimate_id, client_id=None):
        CALLS.append(("estimate_pdf", estimate_id, client_id))
        return reply("estimate-EST-000001.pdf")


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    for service in (Clients, Invoicing, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    return f"http://127.0.0.1:{port}"


def get(url, who):
    cookie = "cairn_staff_session" if who == "staff" else "cairn_portal_session"
    return requests.get(url, cookies={cookie: who}, timeout=10, allow_redirects=False)


def test_staff_download_a_statement_as_an_audited_uncached_attachment(gateway):
    page = get(f"{gateway}/staff/clients/cl_1/statements/stm_1/pdf", "staff")
    assert page.status_code == 200 and page.content == PDF
    assert page.headers["Content-Type"] == "application/pdf"
    assert page.headers["Content-Disposition"] == \
        'attachment; filename="statement-2026-11-01-to-2026-11-30.pdf"'
    assert page.headers["Cache-Control"] == "no-store"
    assert CALLS == [("statement_pdf", "stm_1", "cl_1"),
                     ("record_access", "staff", "financial.read", "cl_1")]


def test_staff_download_an_invoice_named_by_its_number(gateway):
    page = get(f"{gateway}/staff/invoices/inv_1/pdf", "staff")
    assert page.headers["Content-Disposition"] == 'attachment; filename="invoice-INV-000001.pdf"'
    assert CALLS == [("invoice_pdf", "inv_1", None),
                     ("record_access", "staff", "invoice.read", "cl_1")]


def test_the_portal_asks_only_for_the_signed_in_clients_documents(gateway):
    assert get(f"{gateway}/portal/billing/statements/stm_1/pdf", "portal").content == PDF
    assert get(f"{gateway}/portal/billing/invoices/inv_1/pdf", "portal").content == PDF
    assert [call for call in CALLS if call[0] != "record_access"] == [
        ("statement_pdf", "stm_1", "cl_1"), ("invoice_pdf", "inv_1", "cl_1")]
    assert get(f"{gateway}/staff/clients/cl_2/statements/stm_1/pdf", "staff").status_code == 404


def test_an_estimate_pdf_leaves_like_every_billing_pdf(gateway):
    """The shared reply (pdf_base64), no-store, named by its number; staff's audited."""
    for url, who in ((f"{gateway}/staff/estimates/est_1/pdf", "staff"),
                     (f"{gateway}/portal/estimates/est_1/pdf", "portal")):
        page = get(url, who)
        assert page.status_code == 200 and page.content == PDF
        assert page.headers["Cache-Control"] == "no-store"
        assert page.headers["Content-Disposition"] == \
            'attachment; filename="estimate-EST-000001.pdf"'
    assert CALLS[:2] == [("estimate_pdf", "est_1", None),
                         ("record_access", "staff", "estimate.pdf", "cl_1")]
    assert ("estimate_pdf", "est_1", "cl_1") in CALLS


def test_a_superbill_for_dates_without_services_says_so_next_to_the_date(gateway):
    page = get(f"{gateway}/portal/billing/superbill?start=2020-01-01&end=2020-01-31", "portal")
    assert page.status_code == 400 and page.headers["Content-Type"].startswith("text/html")
    assert 'id="start-error"' in page.text
    assert "There are no services between January 1, 2020 and January 31, 2020." in page.text
    assert not any(call[0] == "record_access" for call in CALLS)


def test_the_financial_tabs_statements_part_lists_them_and_shows_errors_by_their_fields():
    from portal_gateway.web import templates
    html = templates.get_template("staff/_financial_statements.html").render(
        session={"csrf": "c", "permissions": ["billing.read", "billing.write"]},
        client={"id": "cl_1"}, notice="",
        summary={"statements": [{"id": "stm_1", "period_start": "2026-11-01",
                                 "period_end": "2026-11-30", "issued_at": "2026-12-01T06:00:00Z",
                                 "closing_balance": 14299}]},
        statement_errors={"period_end": "The last day is before the first day. Choose a later date."},
        statement_form={"period_start": "2026-11-30", "period_end": "2026-11-01"},
        superbill_errors={"start": "There are no services between … Choose other dates."})
    assert "/staff/clients/cl_1/statements/stm_1/pdf" in html and "$142.99" in html
    assert 'aria-describedby="period_end-error"' in html and 'id="period_end-error"' in html
    assert 'value="2026-11-30"' in html and 'id="start-error"' in html
    assert "Issue a statement" in html


def test_the_portal_menu_is_a_list_that_wraps_whole_links_and_marks_the_page(gateway):
    """The left main menu: list items of whole links, no separators; a
    Billing page (Statements) marks Billing; the account menu apart."""
    import re
    page = get(f"{gateway}/portal/billing/statements", "portal").text
    menu = re.search(r'<nav class="portal-nav" aria-label="Main">(.*?)</nav>', page, re.S).group(1)
    assert re.findall(r'<li><a href="([^"]+)"( aria-current="page")?>([^<]+)</a></li>', menu) == [
        ("/portal", "", "Home"), ("/portal/appointments", "", "Appointments"),
        ("/portal/documents", "", "Documents"), ("/portal/billing", ' aria-current="page"', "Billing"),
        ("/portal/contacts", "", "Contacts"), ("/portal/insurance", "", "Insurance"),
        ("/portal/messages", "", "Messages")]
    assert "·" not in menu
    assert '<ul id="account-menu" aria-label="Your account">' in page


def test_the_portal_says_what_was_paid_on_an_invoice_a_credit_note_changed():
    """$243.00 billed, paid in full, then a $43.00 credit note moved to the
    credit: the invoice shows $200.00 paid, not its original total (the paid
    invoices are under Billing › Outstanding Invoices since issue 9)."""
    from portal_gateway.web import templates
    html = templates.get_template("portal/invoices.html").render(
        session={"csrf": "c", "name": "Avery", "clients": [{"id": "cl_1"}], "acting_for": "cl_1"},
        organization={"name": "Cedar Ridge", "phone": "", "email": ""}, outstanding=[],
        paid=[{"id": "inv_1", "number": "INV-000001", "total": 24300, "owed": 20000,
               "amount_paid": 20000, "balance": 0, "created_at": "2026-11-01T10:00:00",
               "state": "Paid"}])
    assert "INV-000001" in html and '<td data-label="Paid" class="num">$200.00</td>' in html
