"""Client records, guardians, roles, contacts, insurance and the audit
trail: the service on the real broker and PostgreSQL."""
import pytest
from sqlalchemy.exc import DBAPIError

import contracts

from clients_testkit import portal, remote_error, staff

NEW_CLIENT = {"kind": "inquiry", "first_name": "Robin", "last_name": "Vale",
              "email": "robin@home.test", "phone": "(555) 123-4567",
              "date_of_birth": "1990-05-06", "address": "7 Elm St"}
CONTACT = {"name": "Dana Vale", "relationship": "Sister", "phone": "555-222-3333",
           "may_receive": "billing_and_clinical", "roi_start": "2026-01-01",
           "roi_end": "2026-12-31"}
POLICY = {"payer": "Blue Shield", "plan": "PPO", "member_id": "XZ123", "group_number": "G9",
          "subscriber_name": "Avery Lindqvist", "subscriber_relationship": "self",
          "effective_on": "2026-01-01", "end_on": "2026-12-31", "priority": "primary"}


def test_inquiry_is_registered_updated_read_and_converted_keeping_its_id(clients):
    inquiry = clients.rpc.create_client(NEW_CLIENT, staff("st_front"))
    assert inquiry["kind"] == "inquiry" and inquiry["date_of_birth"] == "1990-05-06"
    [registered] = clients.outbox("ClientRegistered")
    assert registered["data"] == {"client_id": inquiry["id"], "kind": "inquiry"}
    updated = clients.rpc.update_client(  # a form sends every field back, kind included
        inquiry["id"], {**NEW_CLIENT, "preferred_name": "Rob"}, staff("st_front"))
    assert updated["preferred_name"] == "Rob"
    [change] = clients.audit("client.update", client_id=inquiry["id"])
    assert change.detail == "preferred_name"  # field names only, never values
    converted = clients.rpc.convert_inquiry(inquiry["id"], staff("st_front"))
    assert (converted["id"], converted["kind"]) == (inquiry["id"], "client")
    [event] = clients.outbox("ClientConverted")
    contracts.validate_envelope(event)
    assert event["data"] == {"client_id": inquiry["id"], "from_kind": "inquiry", "to_kind": "client"}
    remote_error(lambda: clients.rpc.convert_inquiry(inquiry["id"], staff("st_front")), "Conflict")
    clients.rpc.get_client(inquiry["id"], staff("st_clin", ip="10.1.1.1"))
    [read] = clients.audited("client.read", client_id=inquiry["id"])
    assert (read.actor_id, read.ip, read.outcome) == ("st_clin", "10.1.1.1", "ok")
    assert [c["id"] for c in clients.rpc.list_clients("client", "rob")] == [inquiry["id"]]
    assert [c["id"] for c in clients.rpc.list_clients("inquiry")] == ["cl_inq"]


def test_services_still_read_clients_without_an_actor_and_are_not_audited(clients):
    assert clients.rpc.get_client("cl_avery")["name"] == "Avery Lindqvist"
    assert clients.rpc.get_contact("cl_avery") == {
        "client_id": "cl_avery", "name": "Avery Lindqvist", "first_name": "Avery",
        "email": "avery@home.test"}
    assert len(clients.rpc.list_clients()) == 5
    remote_error(lambda: clients.rpc.get_client("cl_nobody"), "NotFound")
    assert clients.audit() == []


def test_roles_are_enforced_and_refusals_audited(clients):
    before = clients.count("clients")
    remote_error(lambda: clients.rpc.create_client(NEW_CLIENT, staff("st_clin")), "Forbidden")
    [denied] = clients.audit("client.create")
    assert (denied.actor_id, denied.outcome, denied.detail) == (
        "st_clin", "denied", "role clinician lacks clients.write")
    assert clients.count("clients") == before and clients.outbox("ClientRegistered") == []
    remote_error(lambda: clients.rpc.add_contact("cl_avery", CONTACT, staff("st_bill")), "Forbidden")
    remote_error(lambda: clients.rpc.get_client("cl_avery", staff("st_gone")), "Forbidden")
    remote_error(lambda: clients.rpc.get_client("cl_avery", staff("st_nobody")), "Forbidden")
    remote_error(lambda: clients.rpc.list_audit(staff("st_front")), "Forbidden")
    remote_error(lambda: clients.rpc.get_client("cl_avery", {"kind": "robot", "id": "x"}),
                 "InvalidInput")
    assert [(row.actor_id, row.outcome) for row in clients.audit()] == [
        ("st_clin", "denied"), ("st_bill", "denied"), ("st_gone", "denied"),
        ("st_nobody", "denied"), ("st_front", "denied")]  # a malformed actor is just refused
    clients.rpc.list_audit(staff("st_admin"))
    clients.audited("audit.read")   # reads of the log are logged too, behind the request
    entries = clients.rpc.list_audit(staff("st_admin"), None, 3)
    assert len(entries) == 3 and entries[0]["action"] == "audit.read"
    older = clients.rpc.list_audit(staff("st_admin"), None, 3, entries[-1]["id"])
    assert [e["id"] for e in older] == sorted((e["id"] for e in older), reverse=True)
    assert older[0]["id"] < entries[-1]["id"]
    newest_first = clients.rpc.list_audit(staff("st_admin"), "cl_avery")
    assert [e["actor_id"] for e in newest_first] == ["st_nobody", "st_gone", "st_bill"]


def test_a_guardian_switches_between_their_minors_only(clients):
    session = clients.portal_session("pa_morgan")
    assert session["acting_for"] == "cl_ellis"
    assert [(c["id"], c["relationship"]) for c in session["clients"]] == [
        ("cl_ellis", "guardian"), ("cl_kai", "guardian")]
    switched = clients.rpc.switch_client(session["token"], "cl_kai", "10.2.2.2")
    assert switched["acting_for"] == "cl_kai"
    assert clients.rpc.get_session(session["token"], "")["acting_for"] == "cl_kai"
    remote_error(lambda: clients.rpc.switch_client(session["token"], "cl_sam", "10.2.2.2"),
                 "Forbidden")
    [refused] = clients.audit("portal.switch_client", outcome="denied")
    assert (refused.actor_id, refused.client_id, refused.ip) == ("pa_morgan", "cl_sam", "10.2.2.2")
    assert clients.rpc.get_session(session["token"], "")["acting_for"] == "cl_kai"
    # the actor the gateway builds from the session: only the acting_for client
    assert clients.rpc.get_client("cl_kai", portal("pa_morgan", "cl_kai"))["name"] == "Kai Reyes"
    remote_error(lambda: clients.rpc.get_client("cl_ellis", portal("pa_morgan", "cl_kai")),
                 "Forbidden")
    remote_error(lambda: clients.rpc.get_client("cl_sam", portal("pa_morgan", "cl_sam")),
                 "Forbidden")
    remote_error(lambda: clients.rpc.list_clients(actor=portal("pa_morgan", "cl_kai")), "Forbidden")


def test_contacts_are_inactivated_never_deleted(clients):
    front = staff("st_front")
    remote_error(lambda: clients.rpc.add_contact("cl_avery", {**CONTACT, "roi_end": None}, front),
                 "InvalidInput")
    remote_error(lambda: clients.rpc.add_contact("cl_avery", {**CONTACT, "roi_end": "2025-12-31"}, front),
                 "InvalidInput")
    assert clients.count("contacts") == 0 and clients.outbox("ContactChanged") == []
    contact = clients.rpc.add_contact("cl_avery", CONTACT, front)
    clients.rpc.update_contact(contact["id"], {"phone": "555-999-0000"}, staff("st_clin"))
    gone = clients.rpc.inactivate_contact(contact["id"], front)
    assert gone["active"] is False and gone["phone"] == "555-999-0000"
    remote_error(lambda: clients.rpc.update_contact(contact["id"], {"name": "X Y"}, front), "Conflict")
    assert [c["id"] for c in clients.rpc.list_contacts("cl_avery", front)] == [contact["id"]]
    assert clients.rpc.list_contacts("cl_avery", front, False) == []
    events = clients.outbox("ContactChanged")
    for event in events:
        contracts.validate_envelope(event)
    assert [e["data"]["change"] for e in events] == ["added", "updated", "inactivated"]
    assert clients.audit("contact.update")[0].detail == f"contact {contact['id']}: phone"


def test_portal_adds_contacts_and_insurance_only_for_its_client(clients):
    me = portal("pa_avery", "cl_avery")
    contact = clients.rpc.add_contact("cl_avery", {**CONTACT, "may_receive": "billing"}, me)
    assert contact["client_id"] == "cl_avery"
    remote_error(lambda: clients.rpc.add_contact("cl_sam", CONTACT, portal("pa_avery", "cl_sam")),
                 "Forbidden")
    remote_error(lambda: clients.rpc.add_contact("cl_sam", CONTACT, me), "Forbidden")
    other = clients.rpc.add_contact("cl_sam", CONTACT, staff("st_front"))
    remote_error(lambda: clients.rpc.inactivate_contact(other["id"], me), "Forbidden")
    policy = clients.rpc.add_insurance("cl_avery", POLICY, me)
    assert policy["added_via"] == "portal"
    remote_error(lambda: clients.rpc.update_client("cl_avery", {"phone": "555-000-1111"}, me),
                 "Forbidden")


def test_insurance_added_lands_in_the_outbox(clients):
    biller = staff("st_bill")
    for bad in ({"end_on": "2025-12-31"}, {"subscriber_relationship": "pal"},
                {"priority": "tertiary"}, {"member_id": ""}, {"effective_on": None}):
        remote_error(lambda: clients.rpc.add_insurance("cl_avery", {**POLICY, **bad}, biller),
                     "InvalidInput")
    remote_error(lambda: clients.rpc.add_insurance("cl_avery", POLICY, staff("st_clin")),
                 "Forbidden")
    assert clients.count("insurance_policies") == 0
    policy = clients.rpc.add_insurance("cl_avery", {**POLICY, "end_on": None}, staff("st_bill"))
    [event] = clients.outbox("InsuranceAdded")
    contracts.validate_envelope(event)
    assert event["data"] == {"client_id": "cl_avery", "policy_id": policy["id"],
                             "priority": "primary", "added_via": "staff"}
    listed = clients.rpc.list_insurance("cl_avery", staff("st_clin"))
    assert [p["id"] for p in listed] == [policy["id"]] and listed[0]["end_on"] is None


@pytest.mark.parametrize("change", [
    {"email": "not-an-email"}, {"email": "a@b"}, {"phone": "call me"},
    {"date_of_birth": "05/06/1990"}, {"date_of_birth": "2999-01-01"}, {"first_name": ""},
    {"first_name": "Line\nBreak"}, {"last_name": 42}, {"shoe_size": 9},
])
def test_bad_client_input_writes_nothing(clients, change):
    remote_error(lambda: clients.rpc.create_client({**NEW_CLIENT, **change}, staff("st_front")),
                 "InvalidInput")
    remote_error(lambda: clients.rpc.update_client("cl_avery", change, staff("st_front")),
                 "InvalidInput")
    remote_error(lambda: clients.rpc.update_client("cl_inq", {"kind": "client"}, staff("st_front")),
                 "InvalidInput")
    assert clients.count("clients") == 5 and clients.count("outbox") == 0
    assert clients.audit("client.update") == [] and clients.audit("client.create") == []


def test_unknown_ids_are_not_found(clients):
    front = staff("st_front")
    remote_error(lambda: clients.rpc.update_client("cl_nobody", {"phone": "555-123-4567"}, front),
                 "NotFound")
    remote_error(lambda: clients.rpc.add_contact("cl_nobody", CONTACT, front), "NotFound")
    remote_error(lambda: clients.rpc.update_contact("ct_nobody", {"name": "A B"}, front), "NotFound")
    remote_error(lambda: clients.rpc.invite_to_portal(front, "cl_nobody", "x@home.test", "X Y",
                                                      "self"), "NotFound")
    assert clients.count("contacts") == 0 and clients.count("outbox") == 0


def test_record_access_logs_reads_of_other_services_pages(clients):
    clients.rpc.record_access(staff("st_bill", ip="10.3.3.3"), "billing.read", "cl_avery")
    [row] = clients.audit("billing.read")
    assert (row.actor_id, row.client_id, row.ip, row.outcome) == ("st_bill", "cl_avery", "10.3.3.3", "ok")
    remote_error(lambda: clients.rpc.record_access(staff("st_bill"), "DROP TABLE", "cl_avery"),
                 "InvalidInput")
    clients.rpc.record_access(staff("st_clin"), "denied:billing.read", None)  # the gateway refused
    clients.rpc.record_access(staff("st_clin"), "financial.read", "cl_sam", "denied")
    assert [(r.action, r.outcome, r.client_id) for r in clients.audit(actor_id="st_clin")] == [
        ("billing.read", "denied", None), ("financial.read", "denied", "cl_sam")]
    remote_error(lambda: clients.rpc.record_access(staff("st_gone"), "denied:billing.read"),
                 "Forbidden")
    remote_error(lambda: clients.rpc.record_access(portal("pa_avery", "cl_avery"), "billing.read",
                                                   "cl_sam"), "Forbidden")


def test_the_audit_log_refuses_update_and_delete_on_postgresql(clients):
    clients.rpc.get_client("cl_avery", staff("st_front"))
    clients.audited("client.read")
    for statement in ("update audit_log set outcome = 'denied'", "delete from audit_log",
                      "truncate audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            clients.sql(statement)
    assert [row.outcome for row in clients.audit("client.read")] == ["ok"]


def test_date_of_birth_check_says_only_yes_or_no(clients):
    assert clients.rpc.check_date_of_birth("cl_ellis", "2012-01-01") is True
    assert clients.rpc.check_date_of_birth("cl_ellis", "2012-01-02") is False
    assert clients.rpc.check_date_of_birth("cl_avery", "2012-01-01") is False   # none on file
    remote_error(lambda: clients.rpc.check_date_of_birth("cl_ellis", "01/01/2012"), "InvalidInput")
