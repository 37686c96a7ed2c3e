"""Third-party contacts from the portal, releases of information and the
portal access they open: the service on the real broker and PostgreSQL,
consent events sent as the documents service sends them."""
from datetime import date, timedelta

import pytest
from nameko.standalone.events import event_dispatcher

import contracts
from tests.support.processes import wait_until

from clients import domain
from clients_testkit import PORTAL_PASSWORD, portal, remote_error, staff

CONTACT = {"name": "Dana Vale", "relationship": "Sister", "phone": "555-222-3333",
           "email": "Dana.Vale@home.test", "may_receive": "billing"}
POLICY = {"payer": "Blue Shield", "plan": "PPO", "member_id": "XZ123", "group_number": "G9",
          "subscriber_name": "Avery Lindqvist", "subscriber_relationship": "self",
          "effective_on": "2026-01-01", "end_on": None, "priority": "primary"}


def consent_event(event_type, consent_id, contact_id, client_id="cl_avery", kind="release",
                  may_receive="billing", until=None):
    """As documents sends it; a ConsentSigned carries the terms the signed
    release grants (by default CONTACT's: billing, no end date)."""
    data = {**contracts.example(event_type), "consent_id": consent_id, "client_id": client_id,
            "kind": kind, "contact_id": contact_id}
    if event_type == "ConsentSigned":
        data.pop("until", None)
        data["may_receive"] = may_receive
        if until:
            data["until"] = until
    return contracts.make_envelope("documents", event_type, data, 1)


def release_status(clients, contact_id):
    return clients.sql("select release_status, release_consent_id from contacts where id = :id",
                       id=contact_id)[0]


def settle(clients, contact_id, status, consent_id):
    """Wait until the handler has brought the contact to this state."""
    return wait_until(lambda: tuple(release_status(clients, contact_id)) == (status, consent_id),
                      timeout=10, what=f"release {status} ({consent_id})")


def handled(clients, handler, count):
    return wait_until(lambda: clients.sql("select count(*) from processed_events where handler = :h",
                                          h=handler)[0][0] >= count,
                      timeout=10, what=f"{count} events handled by {handler}")


def signed_release(clients, consent_id="cns_1", **changes):
    """A contact of Avery's with a signed release (consent `consent_id`)."""
    me = portal("pa_avery", "cl_avery")
    contact = clients.rpc.add_contact("cl_avery", {**CONTACT, **changes}, me)
    clients.rpc.mark_release_requested(contact["id"], consent_id, me)
    event_dispatcher(clients.config)("documents", "ConsentSigned",
                                     consent_event("ConsentSigned", consent_id, contact["id"],
                                                   may_receive=contact["may_receive"],
                                                   until=contact.get("roi_end")))
    settle(clients, contact["id"], "active", consent_id)
    return contact


def give_password(clients, username):
    """The invited contact chose a password (as Avery's, from the seed)."""
    clients.sql("update portal_accounts set password_hash = (select password_hash from "
                "portal_accounts where id = 'pa_avery') where username = :u", u=username)


def test_the_portal_adds_edits_and_inactivates_its_own_contacts_and_adds_insurance(clients):
    me = portal("pa_avery", "cl_avery", ip="198.51.100.4")
    contact = clients.rpc.add_contact("cl_avery", CONTACT, me)
    assert (contact["client_id"], contact["release_status"], contact["active"]) == (
        "cl_avery", "none", True)
    edited = clients.rpc.update_contact(contact["id"], {"phone": "555-999-0000"}, me)
    assert edited["phone"] == "555-999-0000"
    gone = clients.rpc.inactivate_contact(contact["id"], me)
    assert gone["active"] is False
    policy = clients.rpc.add_insurance("cl_avery", POLICY, me)
    assert policy["added_via"] == "portal"
    assert [p["added_via"] for p in clients.rpc.list_insurance("cl_avery", staff("st_front"))] == [
        "portal"]
    entries = [(e.action, e.actor_kind, e.actor_id, e.client_id, e.outcome, e.ip)
               for e in clients.audit(actor_kind="portal")]
    assert entries == [(action, "portal", "pa_avery", "cl_avery", "ok", "198.51.100.4") for action in
                       ("contact.add", "contact.update", "contact.inactivate", "insurance.add")]
    # another client's contact, named by id or by client: refused and audited
    other = clients.rpc.add_contact("cl_sam", CONTACT, staff("st_front"))
    for call in (lambda: clients.rpc.update_contact(other["id"], {"phone": "555-000-1111"}, me),
                 lambda: clients.rpc.inactivate_contact(other["id"], me),
                 lambda: clients.rpc.mark_release_requested(other["id"], "cns_9", me),
                 lambda: clients.rpc.add_insurance("cl_sam", POLICY, me),
                 lambda: clients.rpc.add_contact("cl_sam", CONTACT, portal("pa_avery", "cl_sam"))):
        remote_error(call, "Forbidden")
    denied = clients.audit(client_id="cl_sam", outcome="denied")
    assert [(e.action, e.actor_id) for e in denied] == [
        ("contact.update", "pa_avery"), ("contact.inactivate", "pa_avery"),
        ("contact.release_requested", "pa_avery"), ("insurance.add", "pa_avery"),
        ("contact.add", "pa_avery")]
    assert clients.rpc.list_contacts("cl_sam", staff("st_front"))[0]["active"] is True


def test_a_release_is_pending_then_active_once_signed_and_ends_when_revoked(clients):
    me = portal("pa_avery", "cl_avery")
    contact = clients.rpc.add_contact("cl_avery", CONTACT, me)
    pending = clients.rpc.mark_release_requested(contact["id"], "cns_1", me)
    assert (pending["release_status"], pending["release_consent_id"]) == ("pending", "cns_1")
    dispatch = event_dispatcher(clients.config)
    signed = consent_event("ConsentSigned", "cns_1", contact["id"])
    dispatch("documents", "ConsentSigned", signed)
    dispatch("documents", "ConsentSigned", signed)           # redelivered: changes nothing
    settle(clients, contact["id"], "active", "cns_1")
    handled(clients, "clients.on_consent_signed", 1)
    # the gateway repeating its call does not step back from signed
    again = clients.rpc.mark_release_requested(contact["id"], "cns_1", me)
    assert again["release_status"] == "active"
    dispatch("documents", "ConsentRevoked", consent_event("ConsentRevoked", "cns_1", contact["id"]))
    settle(clients, contact["id"], "revoked", "cns_1")
    # a ConsentSigned for the same consent arriving late does not bring it back
    dispatch("documents", "ConsentSigned", consent_event("ConsentSigned", "cns_1", contact["id"]))
    handled(clients, "clients.on_consent_signed", 2)
    assert tuple(release_status(clients, contact["id"])) == ("revoked", "cns_1")
    assert [e.action for e in clients.audit(actor_kind="system")] == [
        "contact.release_signed", "contact.release_revoked"]
    listed = clients.rpc.list_contacts("cl_avery", staff("st_front"))
    assert listed[0]["release_status"] == "revoked"


def test_release_events_for_another_clients_contact_or_a_plain_consent_change_nothing(clients):
    contact = clients.rpc.add_contact("cl_avery", CONTACT, staff("st_front"))
    dispatch = event_dispatcher(clients.config)
    dispatch("documents", "ConsentSigned",
             consent_event("ConsentSigned", "cns_x", contact["id"], client_id="cl_sam"))
    dispatch("documents", "ConsentSigned",
             consent_event("ConsentSigned", "cns_y", contact["id"], kind="consent"))
    handled(clients, "clients.on_consent_signed", 2)
    assert tuple(release_status(clients, contact["id"])) == ("none", None)


def test_a_revocation_heard_before_the_signature_keeps_the_release_off(clients):
    me = portal("pa_avery", "cl_avery")
    contact = clients.rpc.add_contact("cl_avery", CONTACT, me)
    clients.rpc.mark_release_requested(contact["id"], "cns_1", me)
    dispatch = event_dispatcher(clients.config)
    dispatch("documents", "ConsentRevoked", consent_event("ConsentRevoked", "cns_1", contact["id"]))
    settle(clients, contact["id"], "revoked", "cns_1")
    # a new release asked for and signed later works; the old one stays dead
    clients.rpc.mark_release_requested(contact["id"], "cns_2", me)
    dispatch("documents", "ConsentSigned", consent_event("ConsentSigned", "cns_1", contact["id"]))
    handled(clients, "clients.on_consent_signed", 1)
    assert tuple(release_status(clients, contact["id"])) == ("pending", "cns_2")
    dispatch("documents", "ConsentSigned", consent_event("ConsentSigned", "cns_2", contact["id"]))
    settle(clients, contact["id"], "active", "cns_2")


def test_a_contact_with_an_active_release_is_invited_and_signs_in_with_its_scope(clients):
    me = portal("pa_avery", "cl_avery")
    waiting = clients.rpc.add_contact("cl_avery", {**CONTACT, "email": "wait@home.test"}, me)
    remote_error(lambda: clients.rpc.invite_contact_to_portal(waiting["id"], staff("st_front")),
                 "Conflict")                                       # no signed release yet
    contact = signed_release(clients, may_receive="billing_and_clinical",
                             roi_start=date.today().isoformat(),
                             roi_end=(date.today() + timedelta(days=90)).isoformat())
    remote_error(lambda: clients.rpc.invite_contact_to_portal(contact["id"], staff("st_clin")),
                 "Forbidden")                                      # no portal.invite
    remote_error(lambda: clients.rpc.invite_contact_to_portal(contact["id"], me), "Forbidden")
    invited = clients.rpc.invite_contact_to_portal(contact["id"], staff("st_front"))
    assert (invited["username"], invited["relationship"], invited["created"]) == (
        "dana.vale@home.test", "contact", True)
    [event] = clients.outbox("PortalInviteRequested")
    contracts.validate_envelope(event)
    assert event["data"]["account_id"] == invited["account_id"]
    assert event["data"]["client_id"] == "cl_avery"
    give_password(clients, "dana.vale@home.test")
    session = clients.sign_in("portal", "dana.vale@home.test", PORTAL_PASSWORD)
    assert session["acting_for"] == "cl_avery"
    assert session["clients"] == [{"id": "cl_avery", "name": "Avery Lindqvist", "first_name": "Avery",
                                   "relationship": "contact", "scope": "billing_and_clinical"}]
    # a contact reads, but does not change the client's contacts or insurance
    dana = portal(invited["account_id"], "cl_avery")
    clients.rpc.get_client("cl_avery", dana)
    remote_error(lambda: clients.rpc.add_contact("cl_avery", CONTACT, dana), "Forbidden")
    remote_error(lambda: clients.rpc.add_insurance("cl_avery", POLICY, dana), "Forbidden")
    # the client's own and a guardian's sessions say "full"
    assert [c["scope"] for c in clients.portal_session("pa_avery")["clients"]] == ["full"]
    assert [c["scope"] for c in clients.portal_session("pa_morgan")["clients"]] == ["full", "full"]
    # the staff invite form cannot make a contact link without a contact
    remote_error(lambda: clients.rpc.invite_to_portal(staff("st_front"), "cl_avery", "x@home.test",
                                                      "X Y", "contact"), "InvalidInput")


def test_revoking_the_release_signs_the_contact_out_at_once(clients):
    contact = signed_release(clients)
    invited = clients.rpc.invite_contact_to_portal(contact["id"], staff("st_front"))
    give_password(clients, "dana.vale@home.test")
    dana = clients.sign_in("portal", "dana.vale@home.test", PORTAL_PASSWORD)
    avery = clients.portal_session("pa_avery")
    morgan = clients.portal_session("pa_morgan")
    event_dispatcher(clients.config)("documents", "ConsentRevoked",
                                     consent_event("ConsentRevoked", "cns_1", contact["id"]))
    settle(clients, contact["id"], "revoked", "cns_1")
    remote_error(lambda: clients.rpc.get_session(dana["token"]), "Unauthorized")
    ended = [e["data"] for e in clients.outbox("SessionEnded")]
    assert {"kind": "portal", "subject_id": invited["account_id"]} in ended
    error = remote_error(lambda: clients.rpc.sign_in("portal", "dana.vale@home.test",
                                                     PORTAL_PASSWORD), "Unauthorized")
    assert "release of information" in error.value
    [refused] = clients.audit("portal.sign_in_failed", actor_id=invited["account_id"])
    assert refused.detail == "no active release"
    # the client's and the guardian's sessions go on
    assert clients.rpc.get_session(avery["token"])["acting_for"] == "cl_avery"
    assert len(clients.rpc.get_session(morgan["token"])["clients"]) == 2


def test_inactivating_the_contact_or_changing_what_it_may_receive_ends_its_access(clients):
    contact = signed_release(clients)
    clients.rpc.invite_contact_to_portal(contact["id"], staff("st_front"))
    give_password(clients, "dana.vale@home.test")
    dana = clients.sign_in("portal", "dana.vale@home.test", PORTAL_PASSWORD)
    me = portal("pa_avery", "cl_avery")
    changed = clients.rpc.update_contact(contact["id"], {"may_receive": "billing_and_clinical",
                                                         "roi_start": "2026-01-01",
                                                         "roi_end": "2099-01-01"}, me)
    assert changed["release_status"] == "none"          # the signed release covered billing only
    assert tuple(release_status(clients, contact["id"])) == ("none", None)
    remote_error(lambda: clients.rpc.get_session(dana["token"]), "Unauthorized")
    # the old release's ConsentSigned redelivered does not open the new, wider terms
    dispatch = event_dispatcher(clients.config)
    dispatch("documents", "ConsentSigned", consent_event("ConsentSigned", "cns_1", contact["id"]))
    handled(clients, "clients.on_consent_signed", 2)
    assert tuple(release_status(clients, contact["id"])) == ("none", None)
    # signed again, then inactivated
    clients.rpc.mark_release_requested(contact["id"], "cns_2", me)
    dispatch("documents", "ConsentSigned",
             consent_event("ConsentSigned", "cns_2", contact["id"],
                           may_receive="billing_and_clinical", until="2099-01-01"))
    settle(clients, contact["id"], "active", "cns_2")
    dana = clients.sign_in("portal", "dana.vale@home.test", PORTAL_PASSWORD)
    clients.rpc.inactivate_contact(contact["id"], me)
    remote_error(lambda: clients.rpc.get_session(dana["token"]), "Unauthorized")
    remote_error(lambda: clients.rpc.sign_in("portal", "dana.vale@home.test", PORTAL_PASSWORD),
                 "Unauthorized")


def test_a_signed_release_grants_only_its_own_terms_and_only_for_the_consent_asked(clients):
    me = portal("pa_avery", "cl_avery")
    contact = clients.rpc.add_contact("cl_avery", {**CONTACT, "may_receive": "billing_and_clinical",
                                                   "roi_start": "2026-01-01",
                                                   "roi_end": "2099-01-01"}, me)
    clients.rpc.mark_release_requested(contact["id"], "cns_1", me)
    dispatch = event_dispatcher(clients.config)
    # the signed text grants billing only: the contact's wider terms on file do not open
    dispatch("documents", "ConsentSigned", consent_event("ConsentSigned", "cns_1", contact["id"],
                                                         until="2099-01-01"))
    # a later end date on file than the text signed: no access either
    dispatch("documents", "ConsentSigned",
             consent_event("ConsentSigned", "cns_1", contact["id"],
                           may_receive="billing_and_clinical", until="2098-12-31"))
    # a release nobody asked for this contact (another consent id): no access
    dispatch("documents", "ConsentSigned",
             consent_event("ConsentSigned", "cns_other", contact["id"],
                           may_receive="billing_and_clinical", until="2099-01-01"))
    handled(clients, "clients.on_consent_signed", 3)
    assert tuple(release_status(clients, contact["id"])) == ("pending", "cns_1")
    remote_error(lambda: clients.rpc.invite_contact_to_portal(contact["id"], staff("st_front")),
                 "Conflict")
    # the text that grants exactly what is on file activates it
    dispatch("documents", "ConsentSigned",
             consent_event("ConsentSigned", "cns_1", contact["id"],
                           may_receive="billing_and_clinical", until="2099-01-01"))
    settle(clients, contact["id"], "active", "cns_1")


def test_a_release_outside_its_dates_lets_no_one_in(clients):
    later = (date.today() + timedelta(days=10)).isoformat()
    contact = signed_release(clients, roi_start=later, roi_end=None)
    clients.rpc.invite_contact_to_portal(contact["id"], staff("st_front"))
    give_password(clients, "dana.vale@home.test")
    remote_error(lambda: clients.rpc.sign_in("portal", "dana.vale@home.test", PORTAL_PASSWORD),
                 "Unauthorized")


@pytest.mark.parametrize("active, status, start, end, open_", [
    (True, "active", None, None, True),
    (True, "active", date(2026, 1, 1), date(2026, 12, 31), True),
    (True, "active", date(2026, 6, 2), None, False),
    (True, "active", None, date(2026, 5, 31), False),
    (True, "pending", None, None, False),
    (True, "revoked", None, None, False),
    (False, "active", None, None, False),
])
def test_when_a_contact_link_counts(active, status, start, end, open_):
    assert domain.contact_link_open(active, status, start, end, date(2026, 6, 1)) is open_


def test_release_states():
    assert domain.release_requested(None, "none", "c1") == ("c1", "pending")
    assert domain.release_requested("c1", "active", "c1") == ("c1", "active")
    assert domain.release_requested("c1", "active", "c2") == ("c2", "pending")
    assert domain.release_signed("c1", "pending", "c1", revoked=False) == ("c1", "active")
    assert domain.release_signed("c1", "revoked", "c1", revoked=True) == ("c1", "revoked")
    assert domain.release_signed("c1", "pending", "c2", revoked=False) == ("c1", "pending")
    assert domain.release_signed(None, "none", "c1", revoked=False) == (None, "none")
    assert domain.release_signed("c1", "pending", "c1", False, terms_match=False) == (
        "c1", "pending")
    assert domain.signed_terms_match("billing", None, "billing", None)
    assert domain.signed_terms_match("billing", "2027-01-01", "billing", date(2027, 1, 1))
    assert not domain.signed_terms_match("billing", None, "billing_and_clinical", None)
    assert not domain.signed_terms_match("billing", "2027-01-01", "billing", None)
    assert not domain.signed_terms_match(None, None, "billing", None)
    assert domain.release_revoked("c2", "pending", "c1") == ("c2", "pending")
    assert domain.release_revoked("c1", "active", "c1") == ("c1", "revoked")
    assert domain.scope_of("guardian") == "full"
    assert domain.scope_of("contact", "billing_and_clinical") == "billing_and_clinical"
