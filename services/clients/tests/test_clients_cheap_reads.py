"""What keeps pages cheap without weakening access: a session check that
writes only once a minute, events that let every gateway copy drop a cached
session or organization at once, page-sized reads audited once."""
import hashlib
from datetime import timedelta

import pytest

from servicekit.db import utcnow

from clients_testkit import PORTAL_PASSWORD, remote_error, staff

CONTACT = {"name": "Jamie Lindqvist", "relationship": "Sister", "phone": "555-0100",
           "may_receive": "billing"}
POLICY = {"payer": "Blue Ridge Health", "member_id": "BRH-1", "subscriber_name": "Avery Lindqvist",
          "subscriber_relationship": "self", "effective_on": "2026-01-01", "priority": "primary"}


def last_seen(clients, token):
    digest = hashlib.sha256(token.encode()).hexdigest()
    return clients.sql("select last_seen_at from auth_sessions where id = :id", id=digest)[0][0]


@pytest.mark.parametrize("kind", ["staff", "portal"])
def test_checking_a_session_writes_nothing_until_a_minute_has_passed(clients, kind):
    session = clients.staff_session() if kind == "staff" else clients.portal_session()
    seen = last_seen(clients, session["token"])
    for _ in range(3):
        clients.rpc.get_session(session["token"], "10.0.0.9")
    assert last_seen(clients, session["token"]) == seen

    digest = hashlib.sha256(session["token"].encode()).hexdigest()
    a_while_ago = utcnow() - timedelta(seconds=61)
    clients.sql("update auth_sessions set last_seen_at = :t where id = :id", t=a_while_ago, id=digest)
    checked = clients.rpc.get_session(session["token"], "10.0.0.9")
    assert last_seen(clients, session["token"]) > a_while_ago + timedelta(seconds=60)
    assert checked["idle_expires_at"] > (utcnow() + timedelta(minutes=14)).isoformat()


def session_events(clients, event_type):
    return [e["data"] for e in clients.outbox(event_type)]


def test_every_way_a_session_ends_or_changes_is_announced(clients):
    signed_out = clients.portal_session("pa_avery")
    clients.rpc.end_session(signed_out["token"])
    digest = hashlib.sha256(signed_out["token"].encode()).hexdigest()
    assert session_events(clients, "SessionEnded") == [
        {"kind": "portal", "subject_id": "pa_avery", "session_id": digest}]

    here = clients.portal_session("pa_avery")
    clients.rpc.change_password(here["token"], PORTAL_PASSWORD, "a perfectly fine passphrase", "")
    assert session_events(clients, "SessionEnded")[-1] == {"kind": "portal", "subject_id": "pa_avery"}

    guardian = clients.portal_session("pa_morgan")
    clients.rpc.switch_client(guardian["token"], "cl_kai", "10.2.2.2")
    assert session_events(clients, "SessionChanged") == [
        {"kind": "portal", "subject_id": "pa_morgan",
         "session_id": hashlib.sha256(guardian["token"].encode()).hexdigest()}]

    clients.rpc.update_staff(staff("st_admin"), "st_bill", {"role": "front_desk"})
    assert session_events(clients, "SessionChanged")[-1] == {"kind": "staff", "subject_id": "st_bill"}
    clients.rpc.update_staff(staff("st_admin"), "st_bill", {"active": False})
    assert session_events(clients, "SessionEnded")[-1] == {"kind": "staff", "subject_id": "st_bill"}


def test_organization_changes_are_announced(clients):
    admin = staff("st_admin")
    clients.rpc.update_organization(admin, {"welcome_message": "Hello again"})
    clients.rpc.upsert_location(admin, {"name": "Annex", "address": "2 Side St"})
    assert session_events(clients, "OrganizationChanged") == [
        {"part": "organization"}, {"part": "location"}]


def test_a_profile_page_is_one_read_audited_once(clients):
    front = staff("st_front", ip="10.4.4.4")
    clients.rpc.add_contact("cl_avery", CONTACT, front)
    clients.rpc.add_insurance("cl_avery", POLICY, front)
    record = clients.rpc.client_record("cl_avery", staff("st_clin"))
    assert record["client"]["name"] == "Avery Lindqvist"
    assert [c["name"] for c in record["contacts"]] == ["Jamie Lindqvist"]
    assert [p["payer"] for p in record["insurance"]] == ["Blue Ridge Health"]
    [read] = clients.audited("client.read", actor_id="st_clin")
    assert (read.client_id, read.detail) == ("cl_avery", "profile")
    remote_error(lambda: clients.rpc.client_record("cl_avery", {"kind": "portal", "id": "pa_avery",
                                                                "client_id": "cl_sam"}),
                 "Forbidden")


def test_another_pages_read_of_a_client_is_audited_as_that_page(clients):
    clients.rpc.get_client("cl_avery", staff("st_bill"), "financial.read")
    [read] = clients.audited("financial.read")
    assert (read.actor_id, read.client_id, read.outcome) == ("st_bill", "cl_avery", "ok")
    remote_error(lambda: clients.rpc.get_client("cl_avery", staff("st_bill"), "anything.else"),
                 "InvalidInput")


def test_the_staff_client_list_comes_in_pages(clients):
    everyone = clients.rpc.list_clients()
    first = clients.rpc.search_clients(staff("st_front"), per_page=2)
    second = clients.rpc.search_clients(staff("st_front"), page=2, per_page=2)
    last = clients.rpc.search_clients(staff("st_front"), page=3, per_page=2)
    paged = [c["id"] for listing in (first, second, last) for c in listing["clients"]]
    assert paged == [c["id"] for c in everyone]
    assert (first["has_next"], second["has_next"], last["has_next"]) == (True, True, False)
    remote_error(lambda: clients.rpc.search_clients(staff("st_front"), page=0), "InvalidInput")
    remote_error(lambda: clients.rpc.search_clients(staff("st_front"), per_page=500), "InvalidInput")
