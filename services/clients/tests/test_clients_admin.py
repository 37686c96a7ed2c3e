"""The organization and its locations, staff administration,
portal invitations, the 0002 migration over 0001 demo rows, and the demo
seed."""
import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

import contracts
from servicekit.migrate import alembic_config

from clients import demo, passwords

from clients_testkit import STAFF_PASSWORD, remote_error, staff
from tests.fixtures.databases import URL_HOST, _admin

ORG_KEYS = {"name", "phone", "email", "address", "logo_url", "email_sender_name",
            "welcome_message", "locations"}


def test_organization_keeps_its_shape_and_only_admins_change_it(clients):
    org = clients.rpc.get_organization()
    assert set(org) == ORG_KEYS
    assert org["email_sender_name"] == "Cedar Ridge Billing"
    assert set(org["locations"][0]) == {"id", "name", "address", "phone", "email"}
    remote_error(lambda: clients.rpc.update_organization(staff("st_front"), {"name": "X"}),
                 "Forbidden")
    remote_error(lambda: clients.rpc.update_organization(
        staff("st_admin"), {"email_sender_name": 'Evil <x@y.test>'}), "InvalidInput")
    changed = clients.rpc.update_organization(actor=staff("st_admin"), payload={
        "welcome_message": "Welcome!\nPay online.", "email_sender_name": ""})
    assert changed["welcome_message"] == "Welcome!\nPay online."
    assert changed["email_sender_name"] == ""  # kept as stored; consumers fall back
    assert clients.audit("organization.update")[-1].detail == "email_sender_name, welcome_message"


def test_locations_are_upserted(clients):
    admin = staff("st_admin")
    added = clients.rpc.upsert_location(actor=admin, payload={"id": "", "name": "East",
                                                              "email": "east@clinic.test"})
    assert added["id"].startswith("loc_") and added["email"] == "east@clinic.test"
    clients.rpc.upsert_location(admin, {"id": "loc_north", "name": "North Clinic",
                                        "phone": "(555) 010-3000"})
    assert clients.rpc.get_location("loc_north")["name"] == "North Clinic"
    remote_error(lambda: clients.rpc.upsert_location(admin, {"id": "Bad Id!", "name": "X"}),
                 "InvalidInput")
    remote_error(lambda: clients.rpc.get_location("loc_nowhere"), "NotFound")


def test_staff_are_created_without_a_password_and_set_one_by_link(clients):
    admin = staff("st_admin")
    new = clients.rpc.create_staff(admin, {"email": "New.Person@Clinic.test", "name": "New Person",
                                           "role": "biller", "location_ids": ["loc_north"]})
    assert (new["email"], new["role"], new["location_ids"]) == (
        "new.person@clinic.test", "biller", ["loc_north"])
    [event] = clients.outbox("StaffPasswordResetRequested")
    contracts.validate_envelope(event)
    assert event["data"] == {"staff_id": new["id"], "purpose": "welcome"}
    assert clients.rpc.get_staff_contact(new["id"]) == {
        "email": "new.person@clinic.test", "name": "New Person", "first_name": "New"}
    remote_error(lambda: clients.rpc.sign_in("staff", new["email"], "", ""), "Unauthorized")
    link = clients.rpc.issue_password_link("staff", new["id"], "welcome", event["id"])
    clients.rpc.set_password_with_token(link["path"].rsplit("/", 1)[1], "my own long secret", "")
    assert clients.sign_in("staff", new["email"], "my own long secret")["role"] == "biller"
    remote_error(lambda: clients.rpc.create_staff(admin, {  # unknown fields are refused
        "email": "z@clinic.test", "name": "Z", "role": "biller", "location_ids": [],
        "password": "set by link only"}), "InvalidInput")
    remote_error(lambda: clients.rpc.create_staff(admin, {
        "email": new["email"], "name": "Dup", "role": "biller", "location_ids": []}), "Conflict")
    remote_error(lambda: clients.rpc.create_staff(admin, {
        "email": "x@clinic.test", "name": "X", "role": "biller", "location_ids": ["loc_moon"]}),
        "InvalidInput")
    remote_error(lambda: clients.rpc.create_staff(staff("st_front"), {
        "email": "y@clinic.test", "name": "Y", "role": "administrator", "location_ids": []}),
        "Forbidden")
    assert len(clients.outbox("StaffPasswordResetRequested")) == 1


def test_deactivating_staff_ends_their_sessions_and_keeps_an_administrator(clients):
    session = clients.staff_session("st_bill")
    updated = clients.rpc.update_staff(staff("st_admin"), "st_bill",
                                       {"active": False, "location_ids": ["loc_main"]})
    assert updated["active"] is False and updated["location_ids"] == ["loc_main"]
    remote_error(lambda: clients.rpc.get_session(session["token"], ""), "Unauthorized")
    remote_error(lambda: clients.rpc.sign_in("staff", "bill@clinic.test", STAFF_PASSWORD, ""),
                 "Unauthorized")
    remote_error(lambda: clients.rpc.update_staff(staff("st_admin"), "st_admin", {"role": "biller"}),
                 "Conflict")
    assert clients.rpc.get_staff("st_admin")["role"] == "administrator"
    assert {s["id"] for s in clients.rpc.list_staff(staff("st_admin"))} >= {"st_bill", "st_admin"}


def test_invite_creates_or_reuses_the_portal_account(clients):
    front = staff("st_front")
    first = clients.rpc.invite_to_portal(front, "cl_sam", "Sam.Parent@Home.test", "Sam Parent",
                                         "responsible_party")
    assert first["created"] is True and first["username"] == "sam.parent@home.test"
    again = clients.rpc.invite_to_portal("cl_kai", "sam.parent@home.test", "Sam Parent",
                                         "guardian", front)  # the actor-last form works too
    assert again["account_id"] == first["account_id"] and again["created"] is False
    events = clients.outbox("PortalInviteRequested")
    for event in events:
        contracts.validate_envelope(event)
    assert events[0]["data"] == {"account_id": first["account_id"], "client_id": "cl_sam",
                                 "invited_by": "st_front", "invited_by_name": "Front_Desk Person"}
    assert clients.rpc.get_account_contact(first["account_id"]) == {
        "email": "sam.parent@home.test", "name": "Sam Parent", "first_name": "Sam",
        "username": "sam.parent@home.test"}
    link = clients.rpc.issue_password_link("portal", first["account_id"], "welcome", events[0]["id"])
    token = link["path"].rsplit("/", 1)[1]
    assert clients.rpc.check_password_link(token)["purpose"] == "welcome"
    clients.rpc.set_password_with_token(token, "sam's parent passphrase", "")
    session = clients.sign_in("portal", "sam.parent@home.test", "sam's parent passphrase")
    assert {c["id"] for c in session["clients"]} == {"cl_sam", "cl_kai"}
    for bad in [("cl_sam", "not an email", "X Y", "self"), ("cl_sam", "a@home.test", "", "self"),
                ("cl_sam", "a@home.test", "A B", "cousin"), ("cl_inq", "a@home.test", "A B", "self")]:
        remote_error(lambda: clients.rpc.invite_to_portal(front, *bad), "InvalidInput")
    remote_error(lambda: clients.rpc.invite_to_portal(staff("st_clin"), "cl_sam", "a@home.test",
                                                      "A B", "self"), "Forbidden")
    assert len(clients.outbox("PortalInviteRequested")) == 2
    remote_error(lambda: clients.rpc.get_account_contact("pa_nobody"), "NotFound")


@pytest.fixture
def empty_database(databases):
    name = f"cairn_t_clients_mig_{uuid.uuid4().hex[:10]}"
    _admin(f'CREATE DATABASE "{name}"')
    databases.created.append(name)
    engine = create_engine(f"{URL_HOST}/{name}")
    yield f"{URL_HOST}/{name}", engine
    engine.dispose()


def test_0002_upgrades_a_0001_database_with_demo_rows_and_the_demo_seeds_twice(empty_database):
    url, engine = empty_database
    config = alembic_config("clients", url)
    command.upgrade(config, "0001")
    old_hash = passwords.hash_password(demo.PORTAL_PASSWORD)
    with engine.begin() as connection:  # what the 0001-era demo seed wrote
        connection.execute(text(
            "insert into organization (id, name, phone, email, address, logo_url, email_sender_name)"
            " values (1, 'Cedar Ridge Recovery', '', '', '', '', 'Cedar Ridge Billing');"
            "insert into locations (id, name, address, phone) values ('loc_main', 'Main', '', '');"
            "insert into clients (id, kind, first_name, last_name, email, phone, created_at) values"
            " ('cl_demo_avery', 'client', 'Avery', 'Lindqvist', 'avery@demo.cairn.test', '', now());"
            "insert into portal_accounts (id, client_id, username, password_hash) values"
            f" ('pa_demo_avery', 'cl_demo_avery', 'avery@demo.cairn.test', '{old_hash}')"))
    command.upgrade(config, "head")
    with engine.connect() as connection:
        assert connection.execute(text("select account_id, client_id, relationship "
                                       "from account_clients")).all() == [
            ("pa_demo_avery", "cl_demo_avery", "self")]
        assert connection.execute(text("select email, name, active, failed_sign_ins "
                                       "from portal_accounts")).one() == (
            "avery@demo.cairn.test", "Avery Lindqvist", True, 0)
    for _ in range(2):
        with Session(engine) as session:
            demo.seed(session)
    with engine.connect() as connection:
        count = lambda table: connection.execute(text(f"select count(*) from {table}")).scalar()
        assert (count("staff_users"), count("clients"), count("portal_accounts"),
                count("account_clients"), count("locations")) == (4, 7, 4, 5, 2)
        assert connection.execute(text("select password_hash from portal_accounts "
                                       "where id = 'pa_demo_avery'")).scalar() == old_hash
        assert connection.execute(text("select welcome_message from organization")).scalar()
    assert len(demo.CREDENTIALS) == 8
