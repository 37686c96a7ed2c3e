"""`Sandbox(state_file=...)` / `--state-file`: the account survives a
restart (objects, idempotency records, mandates, scheduled settlements, the
clock offset); a damaged file is logged and ignored."""
import json
import logging
import os
import pathlib
import stat
import subprocess
import sys

import pytest
import stripe

LOCAL = pathlib.Path(__file__).resolve().parents[1]   # deploy/local


DAY = 86400


class Captured(logging.Handler):
    """Records of the stripe_sandbox logger (caplog is off with -p
    no:logging)."""

    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append(record)

    def at(self, level):
        return [r for r in self.records if r.levelno == level]


@pytest.fixture
def sandbox_log():
    logger = logging.getLogger("stripe_sandbox")
    handler, level = Captured(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    yield handler
    logger.removeHandler(handler)
    logger.setLevel(level)


@pytest.fixture
def state_file(tmp_path):
    return tmp_path / "var" / "stripe-sandbox.json"


def saved(path):
    return json.loads(path.read_text())["state"]


def test_account_survives_a_restart(make_sandbox, make_client, state_file,
                                    receiver, secret, mandate_data):
    first = make_sandbox(state_file=state_file)
    client = make_client(first.url)
    customer = client.v1.customers.create(
        params={"email": "pat@example.com", "name": "Pat Doe"},
        options={"idempotency_key": "customer-pat"})
    card = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4242424242424242",
                                 "exp_month": 12, "exp_year": 2034}})
    client.v1.payment_methods.attach(card.id,
                                     params={"customer": customer.id})
    paid = client.v1.payment_intents.create(params={
        "amount": 5000, "currency": "usd", "customer": customer.id,
        "payment_method": card.id, "confirm": True, "off_session": True})
    assert paid.status == "succeeded"
    refund = client.v1.refunds.create(
        params={"payment_intent": paid.id, "amount": 1200},
        options={"idempotency_key": "refund-1"})
    setup = client.v1.setup_intents.create(params={
        "customer": customer.id, "payment_method": "pm_card_visa",
        "confirm": True})
    assert setup.status == "succeeded"
    bank = client.v1.payment_intents.create(params={
        "amount": 12000, "currency": "usd", "customer": customer.id,
        "payment_method_types": ["us_bank_account"],
        "payment_method": "pm_usBankAccount_success", "confirm": True,
        "setup_future_usage": "off_session", "mandate_data": mandate_data})
    assert bank.status == "processing"
    mandate_id = client.v1.charges.retrieve(
        bank.latest_charge).payment_method_details.us_bank_account.mandate
    first.advance_clock(days=1)
    events = [e["id"] for e in first.events()]

    with first.state.lock:                      # no write under way
        assert stat.S_IMODE(os.stat(state_file).st_mode) == 0o600
        assert [p.name for p in state_file.parent.iterdir()] == \
            [state_file.name]                   # no temporary files left
    first.stop()

    hook = receiver()
    second = make_sandbox(state_file=state_file, webhook_url=hook.url,
                          webhook_secret=secret)
    client = make_client(second.url)
    assert client.v1.customers.retrieve(customer.id).email == \
        "pat@example.com"
    assert client.v1.payment_methods.retrieve(card.id).customer == \
        customer.id
    assert [pm.id for pm in client.v1.customers.payment_methods.list(
        customer.id, params={"type": "card"}).data] == \
        [setup.payment_method, card.id]
    assert client.v1.payment_intents.retrieve(paid.id).status == "succeeded"
    assert client.v1.charges.retrieve(paid.latest_charge).amount_refunded \
        == 1200
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert client.v1.setup_intents.retrieve(setup.id).status == "succeeded"
    assert client.v1.payment_intents.retrieve(bank.id).status == \
        "processing"
    assert client.v1.mandates.retrieve(mandate_id).status == "active"
    assert [e["id"] for e in second.events()] == events
    assert {e["pending_webhooks"] for e in second.events()} == {0}
    assert second.now() >= bank.created + DAY     # the clock offset too

    # an earlier request replays; its key with other params is refused
    again = client.v1.customers.create(
        params={"email": "pat@example.com", "name": "Pat Doe"},
        options={"idempotency_key": "customer-pat"})
    assert again.id == customer.id
    assert again.last_response.headers["Idempotent-Replayed"] == "true"
    with pytest.raises(stripe.IdempotencyError):
        client.v1.refunds.create(
            params={"payment_intent": paid.id, "amount": 1300},
            options={"idempotency_key": "refund-1"})

    # the saved card still pays, off-session (as Cairn's saved cards do)
    later = client.v1.payment_intents.create(params={
        "amount": 700, "currency": "usd", "customer": customer.id,
        "payment_method": card.id, "confirm": True, "off_session": True})
    assert later.status == "succeeded"
    # and the bank account's multi-use mandate still covers a debit
    client.v1.payment_intents.create(params={
        "amount": 100, "currency": "usd", "customer": customer.id,
        "payment_method_types": ["us_bank_account"],
        "payment_method": bank.payment_method, "confirm": True,
        "off_session": True})

    # the pending ACH debit still settles on the (restored) clock
    second.advance_clock(days=2)
    assert client.v1.payment_intents.retrieve(bank.id).status == "succeeded"
    assert second.wait_for_webhooks(timeout=5)
    settled = [e for e in hook.events()
               if e["type"] == "payment_intent.succeeded"
               and e["data"]["object"]["id"] == bank.id]
    assert len(settled) == 1
    second.advance_clock(days=10)               # and only once
    assert second.wait_for_webhooks(timeout=5)
    assert [e["data"]["object"]["id"] for e in hook.events()
            if e["type"] == "payment_intent.succeeded"].count(bank.id) == 1


def test_scheduled_refund_failure_and_used_methods_survive(
        make_sandbox, make_client, state_file):
    first = make_sandbox(state_file=state_file)
    client = make_client(first.url)
    customer = client.v1.customers.create()
    pi = client.v1.payment_intents.create(params={
        "amount": 2500, "currency": "usd",
        "payment_method": "pm_card_refundFail", "confirm": True})
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "succeeded"
    first.stop()

    second = make_sandbox(state_file=state_file)
    client = make_client(second.url)
    clock = second.control("GET", "/_sandbox/clock", "")
    scheduled = json.loads(clock.body)["scheduled"]
    assert [(s["kind"], s["object"]) for s in scheduled] == \
        [("refund_fails", refund.id)]
    # used without a customer: still not reusable after the restart
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.payment_methods.attach(pi.payment_method,
                                         params={"customer": customer.id})
    assert "may not be used again" in str(exc.value)
    second.advance_clock(days=1)
    assert client.v1.refunds.retrieve(refund.id).status == "failed"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 0
    # what the clock did is on disk as well
    assert saved(state_file)["tasks"] == []
    refunds = [o for o in saved(state_file)["objects"]
               if o["id"] == refund.id]
    assert refunds[0]["status"] == "failed"


def test_written_after_each_change_and_reset_empties_it(
        make_sandbox, make_client, state_file):
    sb = make_sandbox(state_file=state_file)
    client = make_client(sb.url)
    assert not state_file.exists()        # nothing changed yet
    client.v1.customers.list()
    assert not state_file.exists()        # reads do not write
    customer = client.v1.customers.create(params={"name": "A"})
    assert [o["id"] for o in saved(state_file)["objects"]
            if o["object"] == "customer"] == [customer.id]
    client.v1.customers.update(customer.id, params={"name": "B"})
    assert [o["name"] for o in saved(state_file)["objects"]
            if o["id"] == customer.id] == ["B"]
    client.v1.payment_intents.create(params={"amount": 100,
                                             "currency": "usd"})
    sb.advance_clock(seconds=90)
    assert saved(state_file)["offset"] == 90

    response = sb.control("POST", "/_sandbox/reset", "")
    assert response.status == 200
    state = saved(state_file)
    assert (state["objects"], state["idempotent"], state["tasks"],
            state["offset"]) == ([], [], [], 0)
    sb.stop()
    again = make_sandbox(state_file=state_file)
    assert make_client(again.url).v1.customers.list().data == []


def test_corrupt_file_is_ignored_with_one_warning(
        make_sandbox, make_client, state_file, sandbox_log):
    state_file.parent.mkdir(parents=True)
    state_file.write_text('{"format": "stripe-sandbox-state", "vers')
    sb = make_sandbox(state_file=state_file)
    warnings = sandbox_log.at(logging.WARNING)
    assert len(warnings) == 1
    assert str(state_file) in warnings[0].getMessage()
    client = make_client(sb.url)
    assert client.v1.customers.list().data == []
    # the damaged file is kept aside, and the next change writes a good one
    corrupt = state_file.with_name(state_file.name + ".corrupt")
    assert corrupt.read_text().startswith('{"format"')
    customer = client.v1.customers.create()
    assert [o["id"] for o in saved(state_file)["objects"]
            if o["object"] == "customer"] == [customer.id]
    assert not sandbox_log.at(logging.ERROR)


@pytest.mark.parametrize("content", [
    "[]", '{"format": "stripe-sandbox-state", "version": 99, "state": {}}',
    '{"format": "stripe-sandbox-state", "version": 1, "state": '
    '{"objects": [{"no": "id"}]}}',
    "\udcff",
], ids=["not-an-object", "other-version", "bad-object", "not-utf8"])
def test_unusable_file_starts_empty(make_sandbox, make_client, state_file,
                                    sandbox_log, content):
    state_file.parent.mkdir(parents=True)
    state_file.write_bytes(content.encode("utf-8", "surrogateescape"))
    sb = make_sandbox(state_file=state_file)
    assert len(sandbox_log.at(logging.WARNING)) == 1
    assert make_client(sb.url).v1.customers.list().data == []


def test_unwritable_file_does_not_fail_requests(make_sandbox, make_client,
                                                tmp_path, sandbox_log):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("")
    sb = make_sandbox(state_file=blocker / "state.json")
    client = make_client(sb.url)
    client.v1.customers.create()
    client.v1.customers.create()
    assert len(client.v1.customers.list().data) == 2
    assert len(sandbox_log.at(logging.ERROR)) == 1     # logged once


def test_command_line_flag(tmp_path):
    """`--state-file` is wired through to the Sandbox."""
    path = tmp_path / "s.json"
    code = (
        "import sys, stripe_sandbox.__main__ as m\n"
        "captured = {}\n"
        "class Fake:\n"
        "    def __init__(self, *a, **k): captured.update(k)\n"
        "    def start(self): raise SystemExit(repr(captured['state_file']))\n"
        "m.Sandbox = Fake\n"
        f"m.main(['--state-file', {str(path)!r}])\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=LOCAL,
                            capture_output=True, text=True, timeout=30,
                            env={**os.environ, "PYTHONPATH": str(LOCAL)})
    assert result.stderr.strip() == repr(str(path))


@pytest.mark.parametrize("state_path", [None, "var/stripe-sandbox.json"])
def test_stack_passes_the_state_file_only_when_asked(tmp_path, state_path):
    """`make run` (run.py) gives Stack a state file; the integration tests'
    Stack does not, and keeps an in-memory sandbox."""
    from stack import Stack
    spawned = {}

    class Recording(Stack):
        def _spawn(self, name, command, env):
            spawned[name] = command

        def wait_healthy(self, timeout):
            pass

    path = tmp_path / state_path if state_path else None
    kwargs = {"sandbox_state_file": path} if path else {}
    Recording(env={}, **kwargs).start()
    command = spawned["stripe-sandbox"]
    if path is None:
        assert "--state-file" not in command
    else:
        assert command[command.index("--state-file") + 1] == str(path)
