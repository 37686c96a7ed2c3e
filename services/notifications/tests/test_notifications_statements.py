"""StatementIssued: the portal inbox message and "Your statement from
<sender> is ready" — no amount, no clinic name in the subject; once per
event; not sent to a person who turned reminders off."""
from __future__ import annotations

import contracts

import notifications_fakes as fakes
from test_notifications_handlers import deliveries, make_worker, smtp_postman


def statement_issued(client_id="cl_1", amount=14299):
    return contracts.make_envelope("invoicing", "StatementIssued", {
        "statement_id": "stm_1", "client_id": client_id, "period_start": "2026-11-01",
        "period_end": "2026-11-30", "amount_due": {"amount": amount, "currency": "usd"},
        "issued_at": "2026-12-01T06:00:00.000000Z", "run_id": "run_1"}, 1)


def test_a_statement_is_emailed_with_a_neutral_subject_and_posted_to_the_inbox(
        session, world, smtp_capture, outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = statement_issued()
    worker.on_statement_issued(envelope)
    worker.on_statement_issued(envelope)                     # redelivered: nothing more

    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Your statement from Patient Billing Office is ready"
    assert "$" not in message["Subject"] and "Cedar Ridge" not in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Hello Alice" in body and "http://portal.test/portal/login" in body
    assert "Period ending: November 30, 2026" in body and "$142.99" in body
    [inbox] = worker.list_inbox("cl_1")
    assert inbox["title"] == "Your statement is ready" and "$" not in inbox["body"]
    kinds = sorted((e["data"]["kind"], e["data"]["channel"]) for e in outbox_events(session))
    assert kinds == [("statement_posted", "portal"), ("statement_ready", "email")]


def test_a_statement_email_is_skipped_when_reminders_are_off_but_the_inbox_has_it(
        session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.set_preferences("cl_1", {"reminders": False})
    worker.on_statement_issued(statement_issued())
    assert len(worker.list_inbox("cl_1")) == 1
    statuses = sorted((row.kind, row.status) for row in deliveries(session))
    assert statuses == [("statement_posted", "sent"), ("statement_ready", "skipped")]
    assert smtp_capture.messages() == []


def test_the_example_statement_event_is_understood(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    example = contracts.make_envelope("invoicing", "StatementIssued",
                                      contracts.example("StatementIssued"), 1)
    worker.on_statement_issued(example)
    [message] = smtp_capture.wait_for(1, to=fakes.CONTACTS["cl_1"]["email"])
    assert message["Subject"] == "Your statement from Patient Billing Office is ready"
