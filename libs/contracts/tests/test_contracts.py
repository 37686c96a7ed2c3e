import pytest

import contracts
from contracts.registry import UPCASTERS


@pytest.mark.parametrize("key", sorted(contracts.EVENTS))
def test_every_example_travels_in_a_valid_envelope(key):
    event_type, version = key
    schema = contracts.EVENTS[key]
    envelope = contracts.make_envelope(schema.source, event_type, contracts.example(event_type, version), version)
    assert contracts.validate_envelope(envelope) == envelope
    assert set(envelope) == {"id", "type", "version", "occurred_at", "source", "data"}


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d.pop("payment_id"), "missing field 'payment_id'"),
    (lambda d: d.update(amount={"amount": 1.5, "currency": "usd"}), "field 'amount'"),
    (lambda d: d.update(amount={"amount": -1, "currency": "usd"}), "field 'amount'"),
    (lambda d: d.update(amount={"amount": 100, "currency": "USD"}), "field 'amount'"),
    (lambda d: d.update(diagnosis="F10.20"), "unknown field"),
])
def test_payloads_that_break_the_contract_are_refused(mutate, message):
    data = contracts.example("PaymentCaptured")
    mutate(data)
    with pytest.raises(contracts.ContractError, match=message):
        contracts.make_envelope("payments", "PaymentCaptured", data, 2)


@pytest.mark.parametrize("allocations", [
    [],                                                          # pays nothing
    [{"invoice_id": "inv_1"}],                                   # how much?
    [{"invoice_id": "inv_1", "amount": {"amount": -5, "currency": "usd"}}],
    [{"invoice_id": "inv_1", "amount": {"amount": 5, "currency": "usd"}, "note": "x"}],
    "inv_1",
])
def test_allocations_must_name_invoices_and_amounts(allocations):
    data = {**contracts.example("PaymentCaptured"), "allocations": allocations}
    with pytest.raises(contracts.ContractError, match="allocations"):
        contracts.make_envelope("payments", "PaymentCaptured", data, 2)


@pytest.mark.parametrize("event_type", ["PaymentCaptured", "PaymentFailed"])
def test_version_1_payment_events_upcast_to_valid_version_2(event_type):
    old = contracts.make_envelope("payments", event_type, contracts.example(event_type, 1), 1)
    new = contracts.upcast(old, 2)
    contracts.validate(event_type, 2, new["data"])
    assert new["data"]["allocations"] == [{"invoice_id": "inv_1",
                                           "amount": {"amount": 12500, "currency": "usd"}}]
    assert new["id"] == old["id"]          # the same fact: the inbox still dedups it


def test_an_event_from_the_wrong_source_is_refused():
    envelope = contracts.make_envelope("payments", "PaymentCaptured", contracts.example("PaymentCaptured"), 2)
    with pytest.raises(contracts.ContractError, match="comes from payments"):
        contracts.validate_envelope({**envelope, "source": "invoicing"})


def test_upcasting_walks_versions(monkeypatch):
    monkeypatch.setitem(UPCASTERS, ("PaymentCaptured", 1), lambda d: {**d, "upcast": True})
    envelope = contracts.make_envelope("payments", "PaymentCaptured",
                                       contracts.example("PaymentCaptured", 1), 1)
    assert contracts.upcast(envelope, 2)["data"]["upcast"] is True
    assert contracts.upcast(envelope, 1) == envelope
    with pytest.raises(contracts.ContractError):
        contracts.upcast(envelope, 3)
