"""Payment plans on the real stack: staff set up a plan over an invoice's
balance (bad input refused field by field, nothing saved), the patient signs
it in the portal with their default card; with TWO copies of invoicing and
of payments running, the installment due after the business clock moves is
charged exactly once. A failing card is retried on the schedule, the patient
is emailed each time with a link into the portal, and after the last retry
the plan needs attention."""
import re
from datetime import datetime, timedelta, timezone

import pytest
from kombu import Connection
from nameko.standalone.rpc import ClusterRpcProxy

from tests.integration.test_invoice_flow import create_invoice, send_by_email
from tests.integration.test_payments_in_depth import one_line
from tests.support.processes import wait_until

pytestmark = pytest.mark.integration
STACK_ENV = {"CAIRN_AUTOPAY_INTERVAL_SECONDS": "1", "CAIRN_INSTALLMENT_RETRY_DAYS": "1,3,7"}
JORDAN = ("jordan@demo.cairn.test", "demo-portal-2026")
SUBJECT = "Action required: a scheduled payment did not go through"


def utc_today():
    return datetime.now(timezone.utc).date()


def consumers(cairn, queue):
    with Connection(cairn.stack.process_env()["CAIRN_AMQP_URI"]) as connection:
        return connection.default_channel.queue_declare(queue, passive=True).consumer_count


@pytest.fixture(scope="module")
def two_copies(cairn):
    cairn.stack.start_copy("invoicing", "invoicing-2")
    cairn.stack.start_copy("payments", "payments-2")
    for name in ("invoicing", "payments"):
        wait_until(lambda: consumers(cairn, f"rpc-{name}") >= 2, timeout=60,
                   what=f"a second copy of {name}")
    return cairn


def plan_form(staff, client_id, **fields):
    csrf = staff.csrf(f"/staff/clients/{client_id}/plans/new")
    return staff.post(f"/staff/clients/{client_id}/plans", data={"csrf": csrf, **fields})


def plan_id_of(response) -> str:
    match = re.search(r"/staff/plans/(plan_[0-9a-f]+)", response.url)
    assert match, f"plan not created: {response.status_code} {response.text[:400]}"
    return match.group(1)


def installment(cairn, plan_id, number=1):
    return cairn.sql("invoicing", "select id, status, charge_on from plan_installments where "
                     "plan_id = :p and number = :n", p=plan_id, n=number)[0]


def test_two_copies_charge_a_signed_plans_installment_exactly_once(two_copies):
    cairn = two_copies
    staff = cairn.staff()
    invoice_id = create_invoice(staff, client_id="cl_demo_jordan", **one_line("90834"))  # $150.00
    send_by_email(staff, invoice_id)
    cairn.advance_clock(0)
    today = utc_today()
    # bad input: every field named, nothing saved
    bad = plan_form(staff, "cl_demo_jordan", installments="40", frequency="monthly",
                    first_due_on="2000-01-01")
    assert bad.status_code == 400 and "nothing was saved" in bad.text
    assert "Choose at least one invoice with a balance." in bad.text
    assert "Choose between 2 and 36 installments." in bad.text
    assert "The first payment date cannot be in the past." in bad.text
    uneven = plan_form(staff, "cl_demo_jordan", invoice=invoice_id, installments="3",
                       frequency="monthly", first_due_on=str(today), amounts="50.00, 50.00, 49.99")
    assert uneven.status_code == 400
    assert re.search(r'id="amounts-error">The installments must add up to the balance being '
                     r'paid.<', uneven.text)
    unreadable = plan_form(staff, "cl_demo_jordan", invoice=invoice_id, installments="3",
                           frequency="monthly", first_due_on=str(today), amounts="fifty")
    assert unreadable.status_code == 400 and 'id="amounts-error">Enter the amounts like' in unreadable.text
    assert cairn.sql("invoicing", "select id from payment_plans") == []
    preview = plan_form(staff, "cl_demo_jordan", invoice=invoice_id, installments="3",
                        frequency="monthly", first_due_on=str(today), action="preview")
    assert preview.status_code == 200 and "$50.00" in preview.text and 'data-testid="plan-preview"' in preview.text
    created = plan_form(staff, "cl_demo_jordan", invoice=invoice_id, installments="3",
                        frequency="weekly",
                        first_due_on=str(today + timedelta(days=7)), action="create")
    plan_id = plan_id_of(created)
    assert "Waiting for the patient&#39;s signature" in created.text
    # the patient: no card yet → told how to add one; then a default card, then signs
    portal = cairn.sign_in("portal", *JORDAN)
    assert "please review and sign" in portal.get("/portal/billing").text
    assert 'data-testid="plan-no-method"' in portal.get(f"/portal/billing/plans/{plan_id}").text
    methods = portal.get("/portal/billing/methods")
    key = re.search(r'name="request_key" value="([^"]+)"', methods.text).group(1)
    portal.post("/portal/billing/methods", data={
        "csrf": portal.csrf("/portal/billing/methods"), "request_key": key,
        "payment_method": "pm_card_visa", "make_default": "1"})
    page = portal.get(f"/portal/billing/plans/{plan_id}")
    assert "I authorize the clinic to charge" in page.text and "Visa ending 4242" in page.text
    unsigned = portal.post(f"/portal/billing/plans/{plan_id}/sign",
                           data={"csrf": portal.csrf(f"/portal/billing/plans/{plan_id}"),
                                 "typed_name": ""})
    assert unsigned.status_code == 400 and "Tick the box to agree" in unsigned.text
    signed = portal.post(f"/portal/billing/plans/{plan_id}/sign",
                         data={"csrf": portal.csrf(f"/portal/billing/plans/{plan_id}"),
                               "typed_name": "Jordan Okafor", "agree": "yes"})
    assert signed.status_code == 200 and "Your plan is active" in signed.text
    again = portal.post(f"/portal/billing/plans/{plan_id}/sign",
                        data={"csrf": portal.csrf(f"/portal/billing/plans/{plan_id}"),
                              "typed_name": "Jordan Okafor", "agree": "yes"})
    assert "This payment plan has already been signed." in again.text
    intents_before = len(cairn.stripe_events("payment_intent.succeeded"))
    cairn.advance_clock(7)            # the first installment is due: both copies look for it
    wait_until(lambda: installment(cairn, plan_id).status == "paid", timeout=30,
               what="the first installment to be paid")
    inst = installment(cairn, plan_id)
    attempts = cairn.sql("invoicing", "select key, status from installment_attempts "
                         "where installment_id = :i", i=inst.id)
    assert [tuple(a) for a in attempts] == [(f"inst_{inst.id}_1", "succeeded")]
    charged = cairn.sql("payments", "select amount, status, off_session from payments "
                        "where request_key like 'inst_%'")
    assert [tuple(c) for c in charged] == [(5000, "succeeded", True)]
    assert len(cairn.stripe_events("payment_intent.succeeded")) == intents_before + 1
    wait_until(lambda: cairn.sql("invoicing", "select amount_paid from invoices where id = :i",
                                 i=invoice_id)[0].amount_paid == 5000, timeout=20,
               what="the installment applied to the invoice")
    assert installment(cairn, plan_id, 2).status == "scheduled"   # not due yet: not charged
    view = staff.get(f"/staff/plans/{plan_id}").text
    assert "Active" in view and "$50.00 on" in view
    assert "next charge $50.00" in portal.get("/portal/billing").text


def test_a_failing_card_is_retried_emailed_and_then_needs_attention(two_copies):
    cairn = two_copies
    cairn.advance_clock(0)
    staff = cairn.staff()
    invoice_id = create_invoice(staff, client_id="cl_demo_sam", **one_line())   # $60.00
    send_by_email(staff, invoice_id)
    amqp = cairn.stack.process_env()["CAIRN_AMQP_URI"]
    with ClusterRpcProxy({"AMQP_URI": amqp}, timeout=30) as rpc:
        rpc.payments.save_method({"kind": "staff", "id": "st_demo_frontdesk", "ip": "127.0.0.1"},
                                 "cl_demo_sam", {"payment_method": "pm_card_chargeCustomerFail",
                                                 "request_key": f"setup-{invoice_id}",
                                                 "make_default": "1"})
        method = rpc.payments.list_saved_methods("cl_demo_sam")[0]
        created = plan_form(staff, "cl_demo_sam", invoice=invoice_id, installments="2",
                            frequency="monthly", first_due_on=str(utc_today()), action="create")
        plan_id = plan_id_of(created)
        rpc.invoicing.sign_plan(plan_id, {"typed_name": "Morgan Reyes", "ip": "127.0.0.1",
                                          "user_agent": "front desk"}, method["id"])

    def told(n):
        found = [m for m in cairn.mail.messages() if m["Subject"] == SUBJECT]
        return found if len(found) >= n else None

    for n, day in enumerate((0, 1, 4, 11), start=1):    # the first try, then 1, 3 and 7 days on
        cairn.advance_clock(day)
        wait_until(lambda: told(n), timeout=30, what=f"failure email {n}")
    mails = told(4)
    assert len(mails) == 4 and all("sam@demo.cairn.test" in m["To"] for m in mails)
    text = mails[0].get_body(("plain",)).get_content()
    assert "Installment 1 of your payment plan" in text and "/portal/billing" in text
    assert "We will try again on" in text and "$" not in mails[0]["Subject"]
    assert "will not try again automatically" in mails[3].get_body(("plain",)).get_content()
    wait_until(lambda: cairn.sql("invoicing", "select status from payment_plans where id = :p",
                                 p=plan_id)[0].status == "needs_attention", timeout=20,
               what="the plan to need attention")
    charges = cairn.sql("payments", "select request_key, status from payments "
                        "where client_id = 'cl_demo_sam' and request_key like 'inst_%' "
                        "order by created_at")
    assert [c.status for c in charges] == ["failed"] * 4
    assert len({c.request_key for c in charges}) == 4
    page = staff.get(f"/staff/plans/{plan_id}").text
    assert "Needs attention" in page and "Try the failed installment again" in page
    assert not [m for m in cairn.mail.messages()
                if "card on file did not go through" in m["Subject"]]   # one email per failure
