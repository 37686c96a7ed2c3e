"""EstimateIssued: the estimate email (neutral subject, link into the
portal), the portal inbox message, one email at most, once per event."""
from __future__ import annotations

import notifications_fakes as fakes
from test_notifications_handlers import deliveries, make_worker, smtp_postman


def test_an_emailed_gfe_links_into_the_portal_with_a_neutral_subject(session, world, smtp_capture,
                                                                     outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    envelope = fakes.estimate_issued(channels=["email"])
    worker.on_estimate_issued(envelope)
    worker.on_estimate_issued(envelope)                      # redelivered: sent once
    [message] = smtp_capture.wait_for(1, to="alice@demo.test")
    assert message["Subject"].startswith("You have a new estimate from ")
    assert "$" not in message["Subject"] and "EST-" not in message["Subject"]
    body = message.get_body(("plain",)).get_content()
    assert "Good Faith Estimate EST-000042" in body and "$700.00" in body
    assert "http://portal.test/portal/estimates/est_1" in body
    assert "at least $400 more" in body
    assert worker.list_inbox("cl_1") == []
    [row] = deliveries(session)
    assert (row.kind, row.status) == ("estimate_issued", "sent")


def test_posted_and_emailed_gives_an_inbox_message_and_one_email(session, world, smtp_capture,
                                                                outbox_events):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_estimate_issued(fakes.estimate_issued(channels=["portal", "email"]))
    [message] = smtp_capture.wait_for(1)
    assert message["Subject"].startswith("You have a new estimate from ")
    [inbox] = worker.list_inbox("cl_1")
    assert inbox["title"] == "A new Good Faith Estimate has been posted to your portal"
    assert "EST-000042" in inbox["body"] and inbox["invoice_id"] is None
    kinds = sorted(e["data"]["kind"] for e in outbox_events(session))
    assert kinds == ["estimate_issued", "estimate_posted"]


def test_posted_only_sends_the_neutral_portal_notice(session, world, smtp_capture):
    worker = make_worker(session, world, smtp_postman(smtp_capture.port))
    worker.on_estimate_issued(fakes.estimate_issued(channels=["portal"], kind="estimate"))
    [message] = smtp_capture.wait_for(1)
    assert message["Subject"] == "You have a new message in your portal"
    assert worker.list_inbox("cl_1")[0]["title"] == "A new estimate has been posted to your portal"
