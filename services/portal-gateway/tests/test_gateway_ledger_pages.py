"""The staff shell and the ledger's pages, with stand-ins behind the gateway:
the navigation shows only what a role may use and marks the current page,
the profile's tabs are pages of their own, the Financial tab leads with the
balance and aging then the ledger, and the adjustment and credit forms put
every problem next to its field (a write-off is confirmed first)."""
import re

import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, InvalidFields
from tests.support.processes import free_port

ROLES = {
    "front_desk": ["billing.read", "billing.write", "clients.read", "clients.write",
                   "contacts.write", "insurance.write", "portal.invite"],
    "biller": ["billing.read", "billing.write", "clients.read", "insurance.write",
               "payments.refund"],
    "administrator": ["audit.read", "billing.read", "billing.write", "clients.read",
                      "clients.write", "contacts.write", "insurance.write", "org.admin",
                      "payments.refund", "portal.invite", "staff.admin"],
}
CALLS: list = []
INVOICE = {"id": "inv_1", "number": "INV-000001", "status": "partially_paid", "total": 24300,
           "owed": 24300, "adjustments": 0, "balance": 14300, "available": 14300, "held": 0,
           "pending": 0, "created_at": "2026-09-01T10:00:00", "amount_paid": 10000}
ENTRIES = [
    {"date": "2026-09-01", "kind": "charge", "amount": 24300, "effect": 24300, "running": 24300,
     "invoice_id": "inv_1", "invoice_number": "INV-000001", "note": ""},
    {"date": "2026-09-02", "kind": "payment", "amount": 10000, "effect": -10000, "running": 14300,
     "invoice_id": "inv_1", "invoice_number": "INV-000001", "note": "Cash"},
    {"date": "2026-09-02", "kind": "credit", "amount": 500, "effect": -500, "running": 13800,
     "invoice_id": None, "invoice_number": "", "note": "Left over from a payment"},
    {"date": "2026-09-03", "kind": "pending", "amount": 3000, "effect": 0, "running": 13800,
     "invoice_id": "inv_1", "invoice_number": "INV-000001", "note": "Bank account"}]
ADJUSTED = {
    **INVOICE, "id": "inv_2", "number": "INV-000002", "client_id": "cl_1", "location_id": "loc_1",
    "payment_type": "private_pay", "payment_type_label": "Self-pay", "subtotal": 24300,
    "discount_amount": 0, "line_discounts": 0, "invoice_discount": 0, "discount": {"kind": "none"},
    "lines": [], "activity": [], "status": "partially_paid", "adjustments": -3300, "owed": 21000,
    "amount_paid": 10000, "balance": 11000, "available": 11000,
    "adjustment_list": [
        {"id": "adj_1", "kind": "write_off", "label": "Write-off", "amount": -5000, "credited": 0,
         "reason": "Hardship", "at": "2026-10-01T09:00:00"},
        {"id": "adj_2", "kind": "adjustment", "label": "Adjustment", "amount": 1700, "credited": 0,
         "reason": "Late fee", "at": "2026-10-02T09:00:00"}],
    "estimate_variance": {"estimate_id": "est_1", "estimate_number": "EST-000001",
                          "provider_name": "Sam Rivera", "estimated": 10000, "billed": 50000,
                          "proposed": 0, "variance": 40000, "over": 40000, "threshold": 40000,
                          "warning": "This would bill $400.00 more than the Good Faith Estimate "
                                     "for Sam Rivera — at $400 over, the patient may dispute it."}}
CLOSED_PARTS = {"status": "closed", "adjustments": -24300, "owed": 0, "amount_paid": 0,
                "balance": 0, "available": 0, "estimate_variance": None,
                "adjustment_list": [{"id": "adj_3", "kind": "write_off", "label": "Write-off",
                                     "amount": -24300, "credited": 0, "reason": "Uncollectible",
                                     "at": "2026-10-03T09:00:00"}]}
# what invoicing's financial_summary answers for the other areas (plans.summary_for,
# estimates.summary_for, statements.summary_for), as the merged tab renders them
PLANS = [{"id": "plan_1", "status": "active", "status_words": "Active", "total": 14300,
          "installment_count": 3, "frequency": "monthly", "frequency_words": "Monthly",
          "next_charge": {"on": "2026-12-15", "amount": 4767, "installment_number": 1},
          "paid": 0, "remaining": 14300}]
ESTIMATES = {"items": [{"id": "est_1", "number": "EST-000001", "kind": "gfe",
                        "kind_label": "Good Faith Estimate", "provider_name": "Sam Rivera",
                        "status": "issued", "deadline": "2026-12-03", "total": 70000,
                        "delivery": {"state": "on_time", "label": "Sent on time"}}],
             "due": 0, "late": 0}
STATEMENTS = [{"id": "stm_1", "period_start": "2026-11-01", "period_end": "2026-11-30",
               "issued_at": "2026-12-01T06:00:00Z", "closing_balance": 13800}]
AGING = [{"bucket": "current", "label": "Current", "amount": 0},
         {"bucket": "31_60", "label": "31–60 days", "amount": 0},
         {"bucket": "61_90", "label": "61–90 days", "amount": 14300},
         {"bucket": "over_90", "label": "Over 90 days", "amount": 0}]


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return {"kind": "staff", "subject_id": "st_1", "name": "Riley", "role": token,
                "permissions": ROLES[token], "csrf": "csrf-token", "acting_for": None,
                "clients": [], "idle_expires_at": "2999-01-01T00:00:00.000000Z",
                "expires_at": "2999-01-01T00:00:00.000000Z"}

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, client_id, actor=None, purpose=None):
        return {"id": client_id, "name": "Jordan Okafor", "kind": "client", "email": "j@x.test"}

    @rpc(expected_exceptions=EXPECTED)
    def client_record(self, client_id, actor=None):
        return {"client": self.get_client(client_id), "contacts": [
            {"id": "ct_1", "name": "Pat Okafor", "relationship": "spouse", "phone": "", "email": "",
             "may_receive": "billing", "active": True}], "insurance": []}

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id):
        CALLS.append(("record_access", action))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "locations": [{"id": "loc_1", "name": "Main office"}]}


class Invoicing:
    name = "invoicing"

    @rpc(expected_exceptions=EXPECTED)
    def financial_summary(self, client_id):
        return {"invoices": [INVOICE], "balance": 14300, "pending": 3000, "credit": 500,
                "aging": AGING, "ledger": {"entries": ENTRIES, "aging": AGING},
                "plans": PLANS, "estimates": ESTIMATES, "statements": STATEMENTS}

    statement_keys: list = []

    @rpc(expected_exceptions=EXPECTED)
    def issue_statement(self, client_id, period_start, period_end, actor, request_key=None):
        type(self).statement_keys.append(request_key)
        raise InvalidFields({"period_end": "The last day is before the first day. "
                                           "Choose a later date."})

    @rpc(expected_exceptions=EXPECTED)
    def superbill(self, client_id, start, end):
        raise InvalidFields({"start": "There are no services between January 1, 2020 and "
                                      "January 31, 2020. Choose other dates."})

    @rpc(expected_exceptions=EXPECTED)
    def list_invoices(self, client_id):
        return [INVOICE]

    @rpc(expected_exceptions=EXPECTED)
    def list_services(self, include_inactive=False):
        return []

    @rpc(expected_exceptions=EXPECTED)
    def list_providers(self, include_inactive=False):
        return [{"id": "bp_rivera", "name": "Sam Rivera", "credentials": "LCSW"}]

    @rpc(expected_exceptions=EXPECTED)
    def get_invoice(self, invoice_id):
        CALLS.append(("get_invoice", invoice_id))
        return ADJUSTED if invoice_id == "inv_2" else {**ADJUSTED, "id": invoice_id,
                                                       **CLOSED_PARTS}

    @rpc(expected_exceptions=EXPECTED)
    def adjust_invoice(self, invoice_id, payload, actor):
        CALLS.append(("adjust_invoice", invoice_id, payload))
        if payload["amount"] == 99999:
            raise InvalidFields({"amount": "INV-000001 has $143.00 open; write off at most that."})
        return INVOICE

    @rpc(expected_exceptions=EXPECTED)
    def apply_credit(self, client_id, invoice_id, amount, actor, request_key):
        CALLS.append(("apply_credit", invoice_id, amount, request_key))
        if amount and amount > 500:
            raise InvalidFields({"amount": "The account has $5.00 of credit; apply at most that."})
        return INVOICE


class Payments:
    name = "payments"

    @rpc(expected_exceptions=EXPECTED)
    def client_billing_overview(self, client_id):
        return {"payments": [], "methods": []}

    @rpc(expected_exceptions=EXPECTED)
    def invoice_billing_overview(self, invoice_id):
        return {"payments": [], "links": {}}


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    for service in (Clients, Invoicing, Payments, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    base = f"http://127.0.0.1:{port}"

    def as_role(role):
        browser = requests.Session()
        browser.cookies.set("cairn_staff_session", role)
        browser.base = base
        return browser
    return as_role


def get(browser, path):
    return browser.get(browser.base + path, timeout=10)


def post(browser, path, **data):
    return browser.post(browser.base + path, data={"csrf": "csrf-token", **data}, timeout=10,
                        allow_redirects=False)


def nav_links(html):
    nav = re.search(r'<nav class="main-nav" aria-label="Main">(.*?)</nav>', html, re.S).group(1)
    return re.findall(r'<a href="([^"]+)"( aria-current="page")?>([^<]+)</a>', nav)


def test_the_navigation_shows_only_what_the_role_may_use_and_marks_the_page(gateway):
    front = gateway("front_desk")
    assert [label for _, _, label in nav_links(get(front, "/staff/clients/cl_1").text)] == ["Clients"]
    admin = gateway("administrator")
    links = nav_links(get(admin, "/staff/clients/cl_1").text)
    assert [(href, label) for href, _, label in links] == [
        ("/staff", "Clients"), ("/staff/team", "Team"), ("/staff/settings", "Settings"),
        ("/staff/audit", "Audit log")]
    assert [label for _, current, label in links if current] == ["Clients"]


@pytest.mark.parametrize("path, tab, shows", [
    ("/staff/clients/cl_1", "Details", "j@x.test"),
    ("/staff/clients/cl_1/contacts", "Contacts", "Pat Okafor"),
    ("/staff/clients/cl_1/insurance", "Insurance", "No insurance on file."),
    ("/staff/clients/cl_1/portal", "Portal access", "Invite to the portal"),
    ("/staff/clients/cl_1/financial", "Financial", "Ledger"),
])
def test_each_profile_tab_is_a_page_of_its_own(gateway, path, tab, shows):
    page = get(gateway("front_desk"), path)
    assert page.status_code == 200 and shows in page.text
    tabs = re.search(r'<nav class="tabs" aria-label="Profile">(.*?)</nav>', page.text, re.S).group(1)
    assert re.findall(r'aria-current="page">([^<]+)<', tabs) == [tab]
    assert re.findall(r">([^<]+)</a>", tabs) == ["Details", "Financial", "Contacts", "Insurance",
                                                 "Portal access"]


def test_the_financial_tab_leads_with_balance_and_aging_then_the_ledger(gateway):
    page = get(gateway("biller"), "/staff/clients/cl_1/financial").text
    assert 'data-testid="client-balance">$143.00' in page
    assert 'data-testid="client-pending">$30.00' in page and 'data-testid="client-credit">$5.00' in page
    assert 'data-testid="aging-61_90">$143.00' in page
    ledger = re.search(r'data-testid="ledger">(.*?)</table>', page, re.S).group(1)
    rows = re.findall(r"<tr[^>]*>\s*(.*?)</tr>", ledger, re.S)[1:]
    assert len(rows) == 4
    assert "Bank payment pending" in rows[3] and "$138.00" in rows[3]      # not in the balance
    assert "−$100.00" in rows[1] and "Cash" in rows[1]
    for action in ("Create invoice", "Collect payment", "Record check or cash", "Refund",
                   "Add adjustment / write-off", "Apply credit"):
        assert f">{action}</a>" in page
    assert 'href="/staff/clients/cl_1/adjustments/new?invoice=inv_1" aria-label="Adjust INV-000001"' in page
    tabs = re.search(r'<nav class="tabs" aria-label="Profile">(.*?)</nav>', page, re.S).group(1)
    assert "Portal access" not in tabs                       # a biller may not invite


def test_the_adjustment_form_shows_every_problem_next_to_its_field(gateway):
    front = gateway("front_desk")
    form = get(front, "/staff/clients/cl_1/adjustments/new").text
    assert "Write-off" not in form and "Adjustment: decrease what is owed" in form
    refused = post(front, "/staff/clients/cl_1/adjustments", invoice="", choice="write_off",
                   amount="ten", reason=" ", request_key="k" * 24)
    assert refused.status_code == 400
    errors = dict(re.findall(r'<p class="field-error" id="(\w+)-error">([^<]+)</p>', refused.text))
    assert errors == {"invoice": "Choose the invoice.",
                      "choice": "Your role cannot write off or issue credit notes. Ask a biller.",
                      "amount": "Enter an amount like 25.00.",
                      "reason": "Enter the reason (the ledger keeps it)."}
    assert not [c for c in CALLS if c[0] == "adjust_invoice"]


def test_a_write_off_is_confirmed_first_and_invoicings_refusal_lands_on_the_field(gateway):
    biller = gateway("biller")
    fields = {"invoice": "inv_1", "choice": "write_off", "amount": "143.00",
              "reason": "Uncollectible", "request_key": "key-for-this-form"}
    confirm = post(biller, "/staff/clients/cl_1/adjustments", **fields)
    assert confirm.status_code == 200 and "Write off $143.00 on INV-000001?" in confirm.text
    assert 'name="confirmed" value="yes"' in confirm.text and not CALLS
    done = post(biller, "/staff/clients/cl_1/adjustments", confirmed="yes", **fields)
    assert done.status_code == 303
    assert done.headers["Location"] == "/staff/clients/cl_1/financial?notice=written-off"
    assert CALLS[0] == ("adjust_invoice", "inv_1", {
        "kind": "write_off", "amount": 14300, "reason": "Uncollectible",
        "request_key": "key-for-this-form", "client_id": "cl_1"})
    too_much = post(biller, "/staff/clients/cl_1/adjustments", confirmed="yes",
                    **{**fields, "amount": "999.99"})
    assert too_much.status_code == 400
    assert re.search(r'id="amount-error">INV-000001 has \$143.00 open; write off at most that.<',
                     too_much.text)
    assert 'value="999.99"' in too_much.text                 # what was typed stays


def test_credit_is_applied_and_too_much_is_refused_at_the_amount(gateway):
    front = gateway("front_desk")
    page = get(front, "/staff/clients/cl_1/credit").text
    assert 'data-testid="credit">$5.00' in page and "INV-000001 · $143.00 due" in page
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    refused = post(front, "/staff/clients/cl_1/credit", invoice="inv_1", amount="6", request_key=key)
    assert refused.status_code == 400 and "apply at most that" in refused.text
    assert f'value="{key}"' in refused.text                  # the same key when tried again
    done = post(front, "/staff/clients/cl_1/credit", invoice="inv_1", amount="", request_key=key)
    assert done.headers["Location"] == "/staff/clients/cl_1/financial?notice=credit-applied"
    assert ("apply_credit", "inv_1", None, key) in CALLS


def test_the_invoice_page_shows_what_is_owed_after_adjustments_and_an_adjust_link(gateway):
    front_desk = gateway("front_desk")
    page = get(front_desk, "/staff/invoices/inv_2")
    assert page.status_code == 200
    text = re.sub(r"\s+", " ", page.text)
    assert "Write-off 2026-10-01: Hardship" in text and "−$50.00" in text
    assert "Adjustment 2026-10-02: Late fee" in text and "+$17.00" in text
    assert re.search(r'data-testid="invoice-owed">\$210\.00<', page.text)
    assert re.search(r'data-testid="invoice-balance">\$110\.00<', page.text)
    assert 'href="/staff/clients/cl_1/adjustments/new?invoice=inv_2">Adjust</a>' in page.text
    assert "/staff/invoices/inv_2/edit" not in page.text       # adjusted: no editing in place
    assert 'data-testid="gfe-warning"' in page.text and "may dispute it" in page.text
    assert [call for call in CALLS if call[0] == "get_invoice"] == [("get_invoice", "inv_2")]

    closed = get(front_desk, "/staff/invoices/inv_3").text
    assert 'data-testid="invoice-status">Closed<' in closed
    assert "Nothing left to pay: written off or moved to the account" in closed
    assert "gfe-warning" not in closed


def test_the_invoice_form_asks_for_the_gfe_warning_as_provider_and_total_change(gateway):
    """The form has the place for the warning and the small script that fills
    it from /staff/clients/<id>/estimate-variance; an edit shows the saved
    invoice's warning at once and counts only what the new total adds."""
    front_desk = gateway("front_desk")
    new = get(front_desk, "/staff/clients/cl_1/invoices/new").text
    assert 'data-gfe-variance data-url="/staff/clients/cl_1/estimate-variance" ' \
           'data-already-billed="0"' in new
    assert '<script src="/static/estimate_variance.js" defer></script>' in new
    script = get(front_desk, "/static/estimate_variance.js")
    assert script.status_code == 200 and "data-url" in script.text   # the URL comes from the page
    assert "provider_id=" in script.text and "proposed=" in script.text


def test_the_financial_tab_shows_plans_estimates_and_statements_and_their_forms_errors(gateway):
    """The three areas' parts render inside the merged tab with what
    financial_summary answers; a statement or superbill refused comes back
    as the whole tab (400) with the words next to the date."""
    biller = gateway("biller")
    page = get(biller, "/staff/clients/cl_1/financial").text
    assert 'href="/staff/plans/plan_1"' in page and "$143.00 in 3 · monthly" in page
    assert "$47.67 on 2026-12-15" in page
    assert 'href="/staff/estimates/est_1">EST-000001</a>' in page and "$700.00" in page
    assert "/staff/clients/cl_1/statements/stm_1/pdf" in page and "$138.00" in page
    assert page.index('data-testid="plans"') < page.index('data-testid="financial-estimates"') \
        < page.index('id="statements"') < page.index("Cards and bank accounts on file")

    form = page.split('action="/staff/clients/cl_1/statements"')[1]
    key = re.search(r'name="request_key" value="([^"]*)"', form).group(1)
    refused = post(biller, "/staff/clients/cl_1/statements", period_start="2026-11-30",
                   period_end="2026-11-01", request_key=key)
    assert refused.status_code == 400
    assert Invoicing.statement_keys[-1] == key and len(key) >= 16   # a retry: same statement
    assert f'name="request_key" value="{key}"' in refused.text         # kept for the next try
    assert 'id="period_end-error"' in refused.text and "Choose a later date." in refused.text
    assert 'value="2026-11-30"' in refused.text and 'data-testid="ledger"' in refused.text
    assert 'data-testid="plans"' in refused.text and "EST-000001" in refused.text

    superbill = get(biller, "/staff/clients/cl_1/superbill?start=2020-01-01&end=2020-01-31")
    assert superbill.status_code == 400 and 'id="start-error"' in superbill.text
    assert "There are no services between January 1, 2020" in superbill.text
    assert 'data-testid="client-balance">$143.00<' in superbill.text
    # the statement form on that page still works: it carries a key of its own
    again = superbill.text.split('action="/staff/clients/cl_1/statements"')[1]
    fresh = re.search(r'name="request_key" value="([^"]*)"', again).group(1)
    assert len(fresh) >= 16 and fresh != key
