"""Payment plans in invoicing: a plan over open balances (every bad field
named at once, nothing saved), signed once with autopay, installments claimed
on their date exactly once (FOR UPDATE SKIP LOCKED, a unique attempt key),
failures retried on the schedule and, after the last retry, the plan needs
attention; paid installments complete the plan."""
from datetime import date, timedelta

import pytest
from nameko.standalone.events import event_dispatcher
from nameko.testing.services import entrypoint_hook
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from servicekit import clock
from servicekit.errors import InvalidFields
from tests.support.processes import wait_until

from invoicing import plans
from invoicing.service import InvoicingService

from invoicing_testkit import PAYLOAD, FakeClients, captured, failed, outbox

TOTAL = 24300
SIGNER = {"typed_name": "Jordan Avery", "ip": "10.0.0.9", "user_agent": "Mozilla/5.0"}


@pytest.fixture
def clock_file(tmp_path, monkeypatch):
    path = tmp_path / "clock-offset"
    monkeypatch.setenv("CAIRN_CLOCK_OFFSET_FILE", str(path))
    monkeypatch.setenv("CAIRN_INSTALLMENT_RETRY_DAYS", "1,3,7")
    clock.advance(str(path), 0)
    return path


@pytest.fixture
def stack(container_factory, rabbit_config, database_url, clock_file):
    from nameko.standalone.rpc import ServiceRpcProxy
    url = database_url("invoicing")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("insert into service_catalog (code, description, fee, active) "
                                "values ('90834', 'Psychotherapy, 45 minutes', 15000, true), "
                                "('90853', 'Group psychotherapy', 6000, true)"))
    config = {**rabbit_config, "DATABASE_URL": url, "EVENT_RETRY_DELAYS_MS": [50]}
    FakeClients.reset()
    container_factory(FakeClients, config).start()
    container = container_factory(InvoicingService, config)
    container.start()
    with ServiceRpcProxy("invoicing", config) as proxy:
        yield proxy, engine, config, container, clock_file
    engine.dispose()


def sent(proxy, client_id="cl_1"):
    invoice = proxy.create_invoice({**PAYLOAD, "client_id": client_id}, "st_1")
    proxy.send_invoice(invoice["id"], "email", "st_1")
    return invoice


def plan_payload(invoice_ids, **extra):
    return {"client_id": "cl_1", "invoice_ids": invoice_ids, "installments": 3,
            "frequency": "monthly", "first_due_on": clock.today().isoformat(), **extra}


def run_autopay(container):
    with entrypoint_hook(container, "charge_due_installments") as charge:
        charge()


def count(engine, sql):
    with engine.connect() as connection:
        return connection.execute(text(sql)).scalar()


def test_a_plan_with_bad_fields_names_each_and_saves_nothing(stack):
    proxy, engine, *_ = stack
    mine, other = sent(proxy), sent(proxy, "cl_2")
    draft = proxy.create_invoice(PAYLOAD, "st_1")
    with pytest.raises(InvalidFields) as error:
        proxy.create_plan(plan_payload([mine["id"]], installments=3,
                                       amounts=[10000, 10000, 4299]), "st_1")
    assert error.value.errors == {"amounts": "The installments must add up to the balance "
                                             "being paid."}
    with pytest.raises(InvalidFields) as error:
        proxy.create_plan(plan_payload([other["id"], draft["id"]], installments=40,
                                       frequency="daily",
                                       first_due_on=(clock.today() - timedelta(days=1)).isoformat()),
                          "st_1")
    assert set(error.value.errors) == {"invoice_ids", "installments", "frequency", "first_due_on"}
    assert "not on this account" in error.value.errors["invoice_ids"]
    assert f"Send invoice {draft['number']}" in error.value.errors["invoice_ids"]
    with pytest.raises(InvalidFields) as error:
        proxy.create_plan(plan_payload([mine["id"]], first_due_on="2000-01-01"), "st_1")
    assert error.value.errors == {"first_due_on": "The first payment date cannot be in the past."}
    with pytest.raises(InvalidFields) as error:
        proxy.create_plan(plan_payload([mine["id"]], first_due_on="9999-12-31",
                                       frequency=["monthly"], installments="two"), "st_1")
    assert error.value.errors == {
        "first_due_on": "The first payment date must be within a year from today.",
        "frequency": "Choose how often to charge.",
        "installments": "Enter the number of installments (2 to 36)."}
    assert count(engine, "select count(*) from payment_plans") == 0


def test_a_signed_plan_charges_each_installment_once_on_its_date(stack):
    proxy, engine, _, container, clock_path = stack
    older, newer = sent(proxy), sent(proxy)
    plan = proxy.create_plan(plan_payload([newer["id"], older["id"]]), "st_1")
    assert plan["status"] == "awaiting_signature" and plan["total"] == 2 * TOTAL
    assert [i["amount"] for i in plan["installments"]] == [16200, 16200, 16200]
    assert "I authorize the clinic to charge" in plan["agreement"]
    with pytest.raises(InvalidFields) as error:
        proxy.create_plan(plan_payload([older["id"]]), "st_1")
    assert "already in a payment plan" in error.value.errors["invoice_ids"]
    run_autopay(container)
    assert outbox(engine, "InstallmentDue") == []            # not signed: nothing charged
    with pytest.raises(InvalidFields) as error:
        proxy.sign_plan(plan["id"], {**SIGNER, "typed_name": " "}, None)
    assert set(error.value.errors) == {"typed_name", "saved_method_id"}
    signed = proxy.sign_plan(plan["id"], SIGNER, "spm_1", "cl_1")
    assert (signed["status"], signed["signed_name"]) == ("active", "Jordan Avery")
    assert signed["next_charge"] == {"on": clock.today().isoformat(), "amount": 16200,
                                     "installment_number": 1}
    run_autopay(container)
    run_autopay(container)                                   # a second run claims nothing more
    [due] = [e["data"] for e in outbox(engine, "InstallmentDue")]
    first = signed["installments"][0]
    assert due["attempt_key"] == f"inst_{first['id']}_1"
    assert due["allocations"] == [{"invoice_id": older["id"],
                                   "amount": {"amount": 16200, "currency": "usd"}}]
    assert (due["saved_method_id"], due["amount"]["amount"]) == ("spm_1", 16200)
    dispatch = event_dispatcher(stack[2])
    envelope = captured("pay_a", {older["id"]: 16200})
    envelope["data"]["installment_attempt"] = due["attempt_key"]
    dispatch("payments", "PaymentCaptured", envelope)
    wait_until(lambda: proxy.get_plan(plan["id"])["installments"][0]["status"] == "paid")
    view = proxy.get_plan(plan["id"])
    assert view["next_charge"]["installment_number"] == 2 and view["paid"] == 16200
    clock.advance(str(clock_path), 70)                        # past the other two dates
    for n in (2, 3):              # one charge in flight per plan: the next waits for it
        run_autopay(container)
        run_autopay(container)
        d = outbox(engine, "InstallmentDue")[-1]["data"]
        assert (len(outbox(engine, "InstallmentDue")), d["installment_number"]) == (n, n)
        if n == 2:
            assert d["allocations"] == [
                {"invoice_id": older["id"], "amount": {"amount": TOTAL - 16200, "currency": "usd"}},
                {"invoice_id": newer["id"], "amount": {"amount": 16200 - (TOTAL - 16200),
                                                       "currency": "usd"}}]
        paid = captured(f"pay_{n}", {a["invoice_id"]: a["amount"]["amount"]
                                      for a in d["allocations"]})
        paid["data"]["installment_attempt"] = d["attempt_key"]
        dispatch("payments", "PaymentCaptured", paid)
        wait_until(lambda: proxy.get_plan(plan["id"])["installments_paid"] == n)
    wait_until(lambda: proxy.get_plan(plan["id"])["status"] == "completed")
    assert proxy.financial_summary("cl_1")["plans"][0]["status"] == "completed"
    assert proxy.get_invoice(newer["id"])["status"] == "paid"


def test_a_failed_installment_is_retried_on_schedule_then_needs_attention(stack):
    proxy, engine, config, container, clock_path = stack
    invoice = sent(proxy)
    plan = proxy.create_plan(plan_payload([invoice["id"]], installments=2), "st_1")
    proxy.sign_plan(plan["id"], SIGNER, "spm_1")
    dispatch = event_dispatcher(config)
    offsets = [0, 1, 4, 11]                 # the first try, then 1, 3 and 7 days after each failure
    for n, offset in enumerate(offsets, start=1):
        clock.advance(str(clock_path), offset - 1)
        run_autopay(container)
        assert len(outbox(engine, "InstallmentDue")) == n - 1, "charged before its retry date"
        clock.advance(str(clock_path), offset)
        run_autopay(container)
        due = outbox(engine, "InstallmentDue")[-1]["data"]
        assert (due["attempt"], due["attempt_key"]) == (n, f"inst_{due['installment_id']}_{n}")
        refusal = failed(f"pay_f{n}", {invoice["id"]: due["amount"]["amount"]})
        refusal["data"]["installment_attempt"] = due["attempt_key"]
        dispatch("payments", "PaymentFailed", refusal)
        wait_until(lambda: len(outbox(engine, "InstallmentFailed")) == n)
    told = [e["data"] for e in outbox(engine, "InstallmentFailed")]
    today = date.fromisoformat(plan["first_due_on"])
    assert [t["next_attempt_on"] for t in told] == [
        (today + timedelta(days=d)).isoformat() for d in (1, 4, 11)] + [None]
    assert [t["needs_attention"] for t in told] == [False, False, False, True]
    view = proxy.get_plan(plan["id"])
    assert view["status"] == "needs_attention" and view["next_charge"] is None
    assert [a["failure_code"] for a in view["installments"][0]["attempts"]] == ["card_declined"] * 4
    clock.advance(str(clock_path), 30)
    run_autopay(container)
    assert len(outbox(engine, "InstallmentDue")) == 4          # nothing more until staff act
    assert proxy.retry_plan(plan["id"], "st_1")["status"] == "active"
    run_autopay(container)
    assert len(outbox(engine, "InstallmentDue")) == 5          # the failed one first
    assert proxy.cancel_plan(plan["id"], "st_1")["status"] == "cancelled"


def test_two_claimers_never_take_the_same_installment(stack):
    proxy, engine, *_ = stack
    for _ in range(3):
        invoice = sent(proxy)
        plan = proxy.create_plan(plan_payload([invoice["id"]]), "st_1")
        proxy.sign_plan(plan["id"], SIGNER, "spm_1")
    first, second = Session(engine), Session(engine)
    try:
        assert plans.claim_due(first, clock.today(), batch=2) == 2     # locked, not committed
        assert plans.claim_due(second, clock.today(), batch=20) == 1   # skips the locked two
        second.commit()
        first.commit()
    finally:
        first.close()
        second.close()
    keys = [e["data"]["attempt_key"] for e in outbox(engine, "InstallmentDue")]
    assert len(keys) == len(set(keys)) == 3


def test_the_preview_shows_the_schedule_a_form_would_make(stack):
    proxy, *_ = stack
    first = clock.today() + timedelta(days=10)
    preview = proxy.preview_plan({"total": 10001, "installments": "3", "frequency": "biweekly",
                                  "first_due_on": first.isoformat()})
    assert [r["amount"] for r in preview["installments"]] == [3334, 3334, 3333]
    assert [r["due_on"] for r in preview["installments"]] == [
        (first + timedelta(days=14 * n)).isoformat() for n in range(3)]
    typed = proxy.preview_plan({"total": 10001, "installments": 2, "frequency": "monthly",
                                "first_due_on": first.isoformat(), "amounts": [5001, 5000]})
    assert [r["amount"] for r in typed["installments"]] == [5001, 5000]
    with pytest.raises(InvalidFields) as error:
        proxy.preview_plan({"total": 10001, "installments": 2, "frequency": "monthly",
                            "first_due_on": first.isoformat(), "amounts": [5000, 5000]})
    assert set(error.value.errors) == {"amounts"}


# ---- second reading: late answers, cancels, small balances, locks, stuck charges ---------

def signed_plan(proxy, installments=3):
    invoice = sent(proxy)
    plan = proxy.create_plan(plan_payload([invoice["id"]], installments=installments), "st_1")
    return invoice, proxy.sign_plan(plan["id"], SIGNER, "spm_1")


def answer(config, kind, payment_id, due):
    shares = {a["invoice_id"]: a["amount"]["amount"] for a in due["allocations"]}
    envelope = (captured if kind == "PaymentCaptured" else failed)(payment_id, shares)
    envelope["data"]["installment_attempt"] = due["attempt_key"]
    event_dispatcher(config)("payments", kind, envelope)


def test_a_success_after_a_failure_pays_the_installment_and_calls_off_the_retry(stack):
    proxy, engine, config, container, clock_path = stack
    invoice, plan = signed_plan(proxy)
    run_autopay(container)
    [due] = [e["data"] for e in outbox(engine, "InstallmentDue")]
    answer(config, "PaymentFailed", "pay_late", due)
    wait_until(lambda: proxy.get_plan(plan["id"])["installments"][0]["status"] == "failed")
    with engine.begin() as connection:         # as if it were the last retry
        connection.execute(text("update payment_plans set status = 'needs_attention'"))
    answer(config, "PaymentCaptured", "pay_late", due)      # Stripe: it went through after all
    wait_until(lambda: proxy.get_plan(plan["id"])["installments"][0]["status"] == "paid")
    view = proxy.get_plan(plan["id"])
    first = view["installments"][0]
    assert (first["paid_amount"], first["charge_on"]) == (8100, None)
    assert first["attempts"][0]["status"] == "succeeded"
    assert view["status"] == "active" and view["paid"] == 8100
    assert view["next_charge"]["installment_number"] == 2
    clock.advance(str(clock_path), 1)                          # the retry date
    run_autopay(container)
    assert len(outbox(engine, "InstallmentDue")) == 1          # nothing charged early


def test_cancelling_stops_a_charge_payments_has_not_started(stack):
    from nameko.exceptions import RemoteError
    proxy, engine, config, container, _ = stack
    invoice, plan = signed_plan(proxy)
    run_autopay(container)
    [due] = [e["data"] for e in outbox(engine, "InstallmentDue")]
    view = proxy.cancel_plan(plan["id"], "st_1", "Patient asked")
    assert [i["status"] for i in view["installments"]] == ["cancelled"] * 3
    assert view["installments"][0]["attempts"][0]["status"] == "cancelled"
    with pytest.raises(RemoteError) as refusal:
        proxy.hold_for_payment("pay_x", "cl_1", [{"invoice_id": invoice["id"], "amount": 8100}],
                               "autopay", [], due["attempt_key"])
    assert refusal.value.exc_type == "Conflict" and "no longer to be charged" in refusal.value.value
    assert proxy.get_invoice(invoice["id"])["balance"] == TOTAL
    answer(config, "PaymentFailed", "pay_x", due)               # payments records the refusal
    wait_until(lambda: count(engine, "select count(*) from processed_events") >= 1)
    assert outbox(engine, "InstallmentFailed") == []


def test_cancelling_lets_a_charge_already_holding_its_invoices_finish(stack):
    proxy, engine, config, container, _ = stack
    invoice, plan = signed_plan(proxy)
    run_autopay(container)
    [due] = [e["data"] for e in outbox(engine, "InstallmentDue")]
    held = proxy.hold_for_payment("pay_h", "cl_1", [{"invoice_id": invoice["id"],
                                                     "amount": 8100}], "autopay", [],
                                  due["attempt_key"])
    assert held["allocations"][0]["amount"] == 8100
    again = proxy.hold_for_payment("pay_h", "cl_1", [{"invoice_id": invoice["id"],
                                                      "amount": 8100}], "autopay", [],
                                   due["attempt_key"])        # a replayed request: same answer
    assert again["allocations"] == held["allocations"]
    view = proxy.cancel_plan(plan["id"], "st_1")
    assert [i["status"] for i in view["installments"]] == ["due", "cancelled", "cancelled"]
    answer(config, "PaymentCaptured", "pay_h", due)
    wait_until(lambda: proxy.get_plan(plan["id"])["installments"][0]["status"] == "paid")
    assert proxy.get_plan(plan["id"])["status"] == "cancelled"


def test_a_balance_paid_another_way_settles_the_plan_without_charging(stack):
    proxy, engine, config, container, _ = stack
    invoice, plan = signed_plan(proxy)
    event_dispatcher(config)("payments", "PaymentCaptured",
                             captured("pay_desk", {invoice["id"]: TOTAL}, method="cash"))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["status"] == "paid")
    run_autopay(container)
    assert outbox(engine, "InstallmentDue") == []
    view = proxy.get_plan(plan["id"])
    assert [i["status"] for i in view["installments"]] == ["cancelled"] * 3
    assert view["status"] == "completed"


def test_a_few_cents_left_are_not_charged_over_and_over(stack):
    proxy, engine, config, container, clock_path = stack
    invoice, plan = signed_plan(proxy)
    event_dispatcher(config)("payments", "PaymentCaptured",
                             captured("pay_desk", {invoice["id"]: TOTAL - 20}, method="cash"))
    wait_until(lambda: proxy.get_invoice(invoice["id"])["balance"] == 20)
    run_autopay(container)
    assert outbox(engine, "InstallmentDue") == []              # Stripe would refuse $0.20
    view = proxy.get_plan(plan["id"])
    assert view["status"] == "completed"
    assert [i["status"] for i in view["installments"]] == ["cancelled"] * 3
    activity = " ".join(a["what"] for a in proxy.get_invoice(invoice["id"])["activity"])
    assert "$0.20 left is below the $0.50 a card can be charged" in activity


def test_an_installment_with_only_cents_left_is_settled_and_the_next_one_charged(stack):
    proxy, engine, config, container, clock_path = stack
    invoice, plan = signed_plan(proxy)
    with engine.begin() as connection:     # an earlier charge was capped 20 cents short
        connection.execute(text("update plan_installments set paid_amount = 8080 "
                                "where number = 1"))
    run_autopay(container)
    assert outbox(engine, "InstallmentDue") == []
    view = proxy.get_plan(plan["id"])
    assert [i["status"] for i in view["installments"]] == ["paid", "scheduled", "scheduled"]
    assert view["status"] == "active"
    clock.advance(str(clock_path), 40)
    run_autopay(container)
    [due] = [e["data"] for e in outbox(engine, "InstallmentDue")]
    assert (due["installment_number"], due["amount"]["amount"]) == (2, 8100)


def test_a_second_installment_waits_while_one_is_in_flight_even_if_the_claim_saw_none(stack):
    proxy, engine, _, container, clock_path = stack
    invoice, plan = signed_plan(proxy)
    clock.advance(str(clock_path), 40)                         # two installments due
    run_autopay(container)
    assert len(outbox(engine, "InstallmentDue")) == 1
    with Session(engine) as session:       # a claim whose snapshot missed the charge in flight
        second = session.scalars(select_installment(2)).one()
        plans._start_attempt(session, second, clock.today())
        session.commit()
    assert len(outbox(engine, "InstallmentDue")) == 1
    assert proxy.get_plan(plan["id"])["installments"][1]["status"] == "scheduled"


def select_installment(number):
    from sqlalchemy import select
    from invoicing.models import Installment
    return select(Installment).where(Installment.number == number)


def test_a_cancel_and_a_payment_answer_at_once_do_not_deadlock(stack):
    import threading
    proxy, engine, config, container, _ = stack
    invoice, plan = signed_plan(proxy)
    run_autopay(container)
    [due] = [e["data"] for e in outbox(engine, "InstallmentDue")]
    data = failed("pay_d", {invoice["id"]: 8100})["data"]
    data["installment_attempt"] = due["attempt_key"]
    errors = []

    def answer_failure():
        try:
            with Session(engine) as other:
                plans.payment_failed(other, data, clock.today(), (1, 3, 7))
                other.commit()
        except Exception as error:          # noqa: BLE001 - the deadlock, if any
            errors.append(error)

    with Session(engine) as cancelling:
        plans.load_plan(cancelling, plan["id"], lock=True)      # the cancel has the plan
        worker = threading.Thread(target=answer_failure)
        worker.start()
        wait_until(lambda: count(engine, "select count(*) from pg_stat_activity "
                                         "where wait_event_type = 'Lock'") >= 1)
        try:
            plans.cancel_plan(cancelling, plan["id"], "st_1")
            cancelling.commit()
        except Exception as error:          # noqa: BLE001
            errors.append(error)
        worker.join(timeout=30)
    assert errors == []
    assert proxy.get_plan(plan["id"])["status"] == "cancelled"


def test_a_charge_never_answered_asks_staff_to_look_without_charging(stack, monkeypatch):
    proxy, engine, config, container, _ = stack
    monkeypatch.setenv("CAIRN_AUTOPAY_STUCK_HOURS", "6")
    invoice, plan = signed_plan(proxy)
    run_autopay(container)
    with engine.begin() as connection:
        connection.execute(text("update installment_attempts "
                                "set created_at = created_at - interval '5 hours'"))
    run_autopay(container)
    assert proxy.get_plan(plan["id"])["status"] == "active"     # not yet
    with engine.begin() as connection:
        connection.execute(text("update installment_attempts "
                                "set created_at = created_at - interval '2 hours'"))
    run_autopay(container)
    view = proxy.get_plan(plan["id"])
    assert view["status"] == "needs_attention" and view["next_charge"] is None
    first = view["installments"][0]
    assert (first["status"], first["attempts"][0]["failure_code"]) == ("failed", "no_answer")
    assert len(outbox(engine, "InstallmentDue")) == 1 and outbox(engine, "InstallmentFailed") == []
    activity = " ".join(a["what"] for a in proxy.get_invoice(invoice["id"])["activity"])
    assert "no answer from payments after 6 hours" in activity
    assert proxy.retry_plan(plan["id"], "st_1")["status"] == "active"
    run_autopay(container)
    assert len(outbox(engine, "InstallmentDue")) == 2           # staff chose to try again


def test_a_retry_failing_after_the_first_try_turned_out_paid_schedules_nothing(stack):
    proxy, engine, config, container, clock_path = stack
    invoice, plan = signed_plan(proxy)
    run_autopay(container)
    first = outbox(engine, "InstallmentDue")[0]["data"]
    answer(config, "PaymentFailed", "pay_1", first)
    wait_until(lambda: len(outbox(engine, "InstallmentFailed")) == 1)
    clock.advance(str(clock_path), 1)
    run_autopay(container)
    retry = outbox(engine, "InstallmentDue")[1]["data"]
    proxy.hold_for_payment("pay_2", "cl_1", [{"invoice_id": invoice["id"], "amount": 8100}],
                           "autopay", [], retry["attempt_key"])     # the retry is under way
    answer(config, "PaymentCaptured", "pay_1", first)             # the first went through
    wait_until(lambda: proxy.get_plan(plan["id"])["installments"][0]["status"] == "paid")
    answer(config, "PaymentFailed", "pay_2", retry)                # the retry is declined
    wait_until(lambda: proxy.get_plan(plan["id"])["installments"][0]["attempts"][1]["status"]
               == "failed")
    view = proxy.get_plan(plan["id"])
    assert view["installments"][0]["status"] == "paid" and view["status"] == "active"
    assert len(outbox(engine, "InstallmentFailed")) == 1          # no retry, no email
    assert view["next_charge"]["installment_number"] == 2
