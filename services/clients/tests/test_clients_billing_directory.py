"""billing_directory: who billing documents are for, many clients in one
call (the statement run asks once per chunk of 500, not once per client)."""
from contextlib import contextmanager

from sqlalchemy import event

from servicekit.db import engine_for

from clients_testkit import remote_error


@contextmanager
def statements(url: str):
    seen: list[str] = []

    def count(_conn, _cursor, statement, *_):
        if "outbox" not in statement and "audit" not in statement:
            seen.append(statement)
    engine = engine_for(url)
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_billing_directory_names_many_clients_in_one_sql_statement(clients):
    clients.sql("update clients set address = :a where id = 'cl_ellis'", a="9 Elm St\nSpringfield")
    url = clients.engine.url.render_as_string(hide_password=False)
    with statements(url) as seen:
        found = clients.rpc.billing_directory(["cl_ellis", "cl_avery", "cl_nobody", "cl_ellis"])
    assert len(seen) == 1
    assert set(found) == {"cl_ellis", "cl_avery"}                  # the unknown id is left out
    assert found["cl_ellis"] == {"id": "cl_ellis", "name": "Ellis Reyes", "first_name": "Ellis",
                                 "email": "ellis@home.test", "address": "9 Elm St\nSpringfield",
                                 "date_of_birth": "2012-01-01"}
    assert clients.rpc.billing_directory([]) == {}


def test_billing_directory_refuses_what_is_not_a_short_list_of_ids(clients):
    remote_error(lambda: clients.rpc.billing_directory("cl_ellis"), "InvalidInput")
    remote_error(lambda: clients.rpc.billing_directory(["x"] * 1001), "InvalidInput")
    remote_error(lambda: clients.rpc.billing_directory([None]), "InvalidInput")
