"""What invoicing costs to ask: saving an invoice checks its client and
location mostly from what it already knows, and a client's invoice lists
take the same few SQL statements however many invoices there are."""
from contextlib import contextmanager

import pytest
from nameko.standalone.events import event_dispatcher
from sqlalchemy import event

import contracts
from servicekit.db import engine_for
from servicekit.errors import InvalidFields
from tests.support.processes import wait_until

from invoicing_testkit import PAYLOAD, FakeClients


def refusal(call) -> dict:
    """The fields a save was refused on, with their words."""
    with pytest.raises(InvalidFields) as caught:
        call()
    return caught.value.errors


def test_saving_asks_clients_once_per_client_not_once_per_invoice(invoicing):
    proxy, _, _ = invoicing
    first = proxy.create_invoice(PAYLOAD, "st_1")
    for _ in range(3):
        proxy.update_invoice(first["id"], PAYLOAD, "st_1")
        proxy.create_invoice(PAYLOAD, "st_1")
    assert FakeClients.calls == {"get_client": 1, "get_organization": 1}


def test_a_location_added_a_moment_ago_is_accepted_an_unknown_one_refused(invoicing):
    proxy, _, _ = invoicing
    proxy.create_invoice(PAYLOAD, "st_1")                     # the organization is now cached
    FakeClients.locations.append("loc_2")                    # its broadcast not yet arrived
    assert proxy.create_invoice({**PAYLOAD, "location_id": "loc_2"}, "st_1")["location_id"] == "loc_2"
    assert refusal(lambda: proxy.create_invoice({**PAYLOAD, "location_id": "loc_9"}, "st_1")) \
        == {"location_id": "Pick a location from the list (that one was not found)."}


def test_an_unknown_client_is_refused_and_never_remembered(invoicing):
    proxy, _, _ = invoicing
    for _ in range(2):
        assert refusal(lambda: proxy.create_invoice({**PAYLOAD, "client_id": "cl_9"}, "st_1")) \
            == {"client_id": "This client or account was not found."}
    assert FakeClients.calls["get_client"] == 2


def test_organization_changed_makes_the_next_save_read_it_again(invoicing):
    proxy, _, config = invoicing
    proxy.create_invoice(PAYLOAD, "st_1")
    changed = contracts.make_envelope("clients", "OrganizationChanged", {"part": "location"}, 1)
    event_dispatcher(config)("clients", "OrganizationChanged", changed)

    def read_again():
        proxy.create_invoice(PAYLOAD, "st_1")
        return FakeClients.calls["get_organization"] == 2
    wait_until(read_again, what="the organization read again after OrganizationChanged")


@contextmanager
def statements(url: str):
    """SQL statements the service sends (the outbox relay's and the statement
    run timer's polling aside)."""
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if "outbox" not in statement and "statement_runs" not in statement:  # background timers
            seen.append(statement)
    engine = engine_for(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


READS = [
    lambda proxy, client: proxy.list_invoices(client),
    lambda proxy, client: proxy.financial_summary(client),
    lambda proxy, client: proxy.list_payable_invoices(client, "staff"),
]


@pytest.mark.parametrize("read", READS, ids=["list_invoices", "financial_summary",
                                             "list_payable_invoices"])
def test_a_clients_invoices_cost_the_same_sql_for_2_or_20_invoices(invoicing, read):
    proxy, engine, _ = invoicing
    for n in range(20):
        proxy.create_invoice(PAYLOAD, "st_1")
        if n < 2:
            proxy.create_invoice({**PAYLOAD, "client_id": "cl_2"}, "st_1")
    url = engine.url.render_as_string(hide_password=False)
    with statements(url) as few:
        assert len(invoices_in(read(proxy, "cl_2"))) == 2
    with statements(url) as many:
        invoices = invoices_in(read(proxy, "cl_1"))
    assert len(invoices) == 20 and all(len(i["lines"]) == 2 for i in invoices)
    # financial_summary: invoices, lines and the ledger (3), payment plans (2),
    # statements (1), estimates (2)
    assert len(many) == len(few) <= (8 if read is READS[1] else 4), many


def invoices_in(answer) -> list:
    return answer["invoices"] if isinstance(answer, dict) else answer
