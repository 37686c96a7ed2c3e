"""Payment plans: a failed installment emails the patient once, with no
amount in the subject, when it will be tried again and a link to pay in the
portal; the PaymentFailed of that same charge sends nothing more."""
from __future__ import annotations

import contracts

import notifications_fakes as fakes
from test_notifications_handlers import deliveries, make_worker, smtp_postman


def installment_failed(next_attempt_on="2026-12-04", needs_attention=False) -> dict:
    data = {**contracts.example("InstallmentFailed"), "client_id": "cl_1",
            "next_attempt_on": next_attempt_on, "needs_attention": needs_attention,
            "installment_number": 2, "amount": {"amount": 12500, "currency": "usd"}}
    return contracts.make_envelope("invoicing", "InstallmentFailed", data, 1)


def test_a_failed_installment_emails_the_retry_date_and_a_pay_link_once(session, world,
                                                                        smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = installment_failed()
    worker.on_installment_failed(envelope)
    worker.on_installment_failed(envelope)             # redelivered: still one email
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"] == "Action required: a scheduled payment did not go through"
    text = message.get_body(("plain",)).get_content().replace("\r\n", "\n")
    assert "Installment 2 of your payment plan" in text and "Amount: $125.00" in text
    assert "We will try again on December 4, 2026" in text
    assert "http://portal.test/portal/billing" in text
    payment = fakes.payment_failed(initiated_by="autopay")
    payment["data"]["installment_attempt"] = "inst_12_1"
    worker.on_payment_failed(payment)
    assert len(smtp_capture.messages()) == 1
    assert [(r.kind, r.status) for r in deliveries(session)] == [
        ("installment_failed", "sent"), ("payment_failed", "skipped")]


def test_after_the_last_retry_the_email_says_the_office_will_call(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_installment_failed(installment_failed(None, needs_attention=True))
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    text = message.get_body(("plain",)).get_content()
    assert "will not try again automatically" in text and "$" not in message["Subject"]
