"""Refunds, and the list endpoints' created filters and paging (what a
nightly reconciliation walks)."""
import pytest
import stripe


def types(sandbox):
    return [e["type"] for e in sandbox.events()]


def paid(client, method="pm_card_visa", amount=2000, **params):
    return client.v1.payment_intents.create(params={
        "amount": amount, "currency": "usd", "payment_method": method,
        "confirm": True, **params})


def test_card_refund_partial_then_rest(client, sandbox):
    pi = paid(client)
    refund = client.v1.refunds.create(params={
        "payment_intent": pi.id, "amount": 500,
        "reason": "requested_by_customer", "metadata": {"ticket": "T1"}})
    assert refund.object == "refund" and refund.id.startswith("re_")
    assert (refund.status, refund.amount, refund.charge) == \
        ("succeeded", 500, pi.latest_charge)
    assert (refund.payment_intent, refund.reason) == \
        (pi.id, "requested_by_customer")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (500, False)
    assert types(sandbox)[-2:] == ["refund.created", "charge.refunded"]

    rest = client.v1.refunds.create(params={"charge": pi.latest_charge})
    assert rest.amount == 1500
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert exc.value.code == "charge_already_refunded"


def test_over_refund_is_rejected(client):
    pi = paid(client)
    client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 1500})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id,
                                         "amount": 501})
    assert exc.value.param == "amount"
    assert exc.value.user_message == (
        "Refund amount ($5.01) is greater than unrefunded amount on charge "
        "($5.00)")


def test_only_succeeded_payments_refund(client, mandate_data):
    pi = client.v1.payment_intents.create(params={"amount": 900,
                                                  "currency": "usd"})
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.create(params={"payment_intent": pi.id})
    assert exc.value.param == "payment_intent"
    processing = paid(client, "pm_usBankAccount_success",
                      payment_method_types=["us_bank_account"],
                      mandate_data=mandate_data)
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"payment_intent": processing.id})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create(params={"charge": processing.latest_charge})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.refunds.create()


def test_refund_idempotency(client, sandbox):
    pi = paid(client)
    options = {"idempotency_key": "refund-inv-9"}
    first = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 700}, options=options)
    second = client.v1.refunds.create(
        params={"payment_intent": pi.id, "amount": 700}, options=options)
    assert first.id == second.id
    assert second.last_response.headers["Idempotent-Replayed"] == "true"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 700
    assert types(sandbox).count("refund.created") == 1


def test_ach_refund_pending_until_settlement(client, sandbox, control,
                                             mandate_data):
    pi = paid(client, "pm_usBankAccount_success",
              payment_method_types=["us_bank_account"],
              mandate_data=mandate_data)
    control("POST", "/_sandbox/clock/advance", {"days": 3})
    refund = client.v1.refunds.create(params={"payment_intent": pi.id})
    assert refund.status == "pending"
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (2000, True)
    with pytest.raises(stripe.InvalidRequestError):   # Stripe: requires_action
        client.v1.refunds.cancel(refund.id)
    before = len(sandbox.events())
    control("POST", "/_sandbox/clock/advance", {"days": 3})
    assert client.v1.refunds.retrieve(refund.id).status == "succeeded"
    assert types(sandbox)[before:] == ["refund.updated",
                                       "charge.refund.updated"]
    updated = sandbox.events()[before]
    assert updated["data"]["previous_attributes"] == {"status": "pending"}


def test_refund_fail_card(client, sandbox, control):
    pi = paid(client, "pm_card_refundFail")
    refund = client.v1.refunds.create(params={"payment_intent": pi.id,
                                              "amount": 800})
    assert refund.status == "succeeded"
    assert client.v1.charges.retrieve(pi.latest_charge).amount_refunded == 800
    before = len(sandbox.events())
    control("POST", "/_sandbox/clock/advance", {"seconds": 86400})
    refund = client.v1.refunds.retrieve(refund.id)
    assert (refund.status, refund.failure_reason) == \
        ("failed", "expired_or_canceled_card")
    charge = client.v1.charges.retrieve(pi.latest_charge)
    assert (charge.amount_refunded, charge.refunded) == (0, False)
    assert types(sandbox)[before:] == ["refund.updated",
                                       "charge.refund.updated",
                                       "refund.failed"]
    # the whole amount can be refunded again
    assert client.v1.refunds.create(
        params={"payment_intent": pi.id}).amount == 2000


def test_refund_update_and_list(client, sandbox):
    a, b = paid(client), paid(client)
    ra = client.v1.refunds.create(params={"payment_intent": a.id,
                                          "amount": 100})
    rb = client.v1.refunds.create(params={"payment_intent": b.id})
    updated = client.v1.refunds.update(ra.id,
                                       params={"metadata": {"note": "x"}})
    assert updated.metadata.note == "x"
    assert types(sandbox)[-1] == "refund.updated"
    assert [r.id for r in client.v1.refunds.list(
        params={"payment_intent": a.id}).data] == [ra.id]
    assert [r.id for r in client.v1.refunds.list(
        params={"charge": b.latest_charge}).data] == [rb.id]
    assert [r.id for r in client.v1.refunds.list().data] == [rb.id, ra.id]
    with pytest.raises(stripe.InvalidRequestError) as exc:
        client.v1.refunds.retrieve("re_missing")
    assert exc.value.http_status == 404


# -- created filters and paging ----------------------------------------------

def test_reconciliation_pages_by_created(client, sandbox, control):
    early = [paid(client, amount=1000 + i) for i in range(3)]
    control("POST", "/_sandbox/clock/advance", {"seconds": 3600})
    cutoff = sandbox.now()
    late = [paid(client, amount=2000 + i) for i in range(5)]
    for pi in late[:3]:
        client.v1.refunds.create(params={"payment_intent": pi.id})

    seen, after = [], None
    while True:
        params = {"created": {"gte": cutoff}, "limit": 2}
        if after:
            params["starting_after"] = after
        page = client.v1.payment_intents.list(params=params)
        seen += [pi.id for pi in page.data]
        if not page.has_more:
            break
        after = page.data[-1].id
    assert seen == [pi.id for pi in reversed(late)]
    assert all(pi.created >= cutoff for pi in late)
    assert all(pi.created < cutoff for pi in early)

    auto = [pi.id for pi in client.v1.payment_intents.list(
        params={"created": {"lt": cutoff}, "limit": 1}).auto_paging_iter()]
    assert auto == [pi.id for pi in reversed(early)]

    refunds = client.v1.refunds.list(params={"created": {"gte": cutoff},
                                             "limit": 2})
    assert len(refunds.data) == 2 and refunds.has_more
    rest = client.v1.refunds.list(params={
        "created": {"gte": cutoff}, "limit": 2,
        "starting_after": refunds.data[-1].id})
    assert len(rest.data) == 1 and not rest.has_more

    exact = client.v1.payment_intents.list(
        params={"created": early[0].created, "limit": 100})
    assert early[0].id in [pi.id for pi in exact.data]
    events = client.v1.events.list(params={
        "created": {"gte": cutoff}, "type": "refund.created", "limit": 100})
    assert len(events.data) == 3
    older = client.v1.events.list(params={"created": {"lt": cutoff},
                                          "limit": 100})
    assert {e.type for e in older.data} == {
        "payment_intent.created", "charge.succeeded",
        "payment_intent.succeeded"}


def test_list_filters_by_customer_and_ending_before(client):
    customer = client.v1.customers.create()
    mine = [paid(client, customer=customer.id) for _ in range(3)]
    paid(client)
    listed = client.v1.payment_intents.list(params={"customer": customer.id})
    assert [pi.id for pi in listed.data] == [pi.id for pi in reversed(mine)]
    newer = client.v1.payment_intents.list(params={
        "customer": customer.id, "ending_before": mine[0].id, "limit": 1})
    assert [pi.id for pi in newer.data] == [mine[1].id] and newer.has_more


def test_bad_created_filter(client):
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.list(params={"created": {"gte": "soon"}})
