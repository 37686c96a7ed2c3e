"""Signing in, lockout, sessions, TOTP and password links: the service on
the real broker and PostgreSQL."""
import hashlib
import time
from datetime import timedelta

import pytest

from servicekit.db import utcnow

from clients import auth, totp

from clients_testkit import PORTAL, PORTAL_PASSWORD, STAFF, STAFF_PASSWORD, remote_error

AVERY = PORTAL["pa_avery"][0]
FRONT = STAFF["st_front"][0]


def test_sign_in_gives_a_new_server_side_session_each_time(clients):
    first = clients.staff_session()
    second = clients.staff_session()
    assert first["token"] != second["token"] and first["csrf"] != second["csrf"]
    assert first["kind"] == "staff" and first["subject_id"] == "st_front"
    assert first["role"] == "front_desk" and "portal.invite" in first["permissions"]
    assert "org.admin" not in first["permissions"]
    stored = {row.id for row in clients.sql("select id from auth_sessions")}
    assert stored == {hashlib.sha256(s["token"].encode()).hexdigest() for s in (first, second)}
    session = clients.rpc.get_session(first["token"], "10.0.0.9")
    assert "token" not in session and session["csrf"] == first["csrf"]
    assert session["expires_at"] == first["expires_at"]
    [ok] = clients.audit("staff.sign_in", actor_id="st_front", ip="10.0.0.9")[:1]
    assert ok.outcome == "ok"


def test_portal_session_lists_the_clients_it_acts_for(clients):
    session = clients.portal_session("pa_avery")
    assert session["role"] == "patient" and session["permissions"] == []
    assert session["acting_for"] == "cl_avery"
    assert session["clients"] == [{"id": "cl_avery", "name": "Avery Lindqvist",
                                   "first_name": "Avery", "relationship": "self",
                                   "scope": "full"}]


def test_wrong_password_and_unknown_login_fail_alike(clients):
    timings, messages = [], []
    for login, password in [(AVERY, "not the password at all"),
                            ("nobody@home.test", PORTAL_PASSWORD),
                            ("gone@clinic.test", STAFF_PASSWORD)]:
        kind = "staff" if login.endswith("clinic.test") else "portal"
        started = time.perf_counter()
        messages.append(remote_error(lambda: clients.rpc.sign_in(kind, login, password, "1.2.3.4"),
                                     "Unauthorized").value)
        timings.append(time.perf_counter() - started)
    assert set(messages) == {auth.GENERIC}
    assert min(timings) > 0.3 * max(timings), timings  # every path does one argon2 verify
    failed = clients.audit("portal.sign_in_failed")
    assert [(row.actor_id, row.detail) for row in failed] == [
        ("pa_avery", "wrong password"), ("", "unknown login")]
    assert clients.audit("staff.sign_in_failed")[0].detail == "inactive account"


def test_five_failures_lock_the_account_until_a_reset_link_is_used(clients):
    for _ in range(5):
        remote_error(lambda: clients.rpc.sign_in("portal", AVERY, "wrong wrong wrong", ""),
                     "Unauthorized")
    error = remote_error(lambda: clients.rpc.sign_in("portal", AVERY, PORTAL_PASSWORD, ""),
                         "Unauthorized")
    assert error.value == auth.GENERIC
    [locked] = clients.audit("account.locked", actor_id="pa_avery")
    assert locked.outcome == "denied"
    assert clients.audit("portal.sign_in_failed")[-1].detail == "account locked"

    assert clients.rpc.request_password_reset("portal", AVERY.upper(), "1.2.3.4") is None
    [event] = clients.outbox("PortalPasswordResetRequested")
    assert event["data"] == {"account_id": "pa_avery"}
    link = clients.rpc.issue_password_link("portal", "pa_avery", "reset", event["id"])
    assert link == clients.rpc.issue_password_link("portal", "pa_avery", "reset", event["id"])
    token = link["path"].rsplit("/", 1)[1]
    assert link["path"] == f"/portal/set-password/{token}"
    assert clients.rpc.check_password_link(token)["username"] == AVERY
    clients.rpc.set_password_with_token(token, "a brand new long password", "1.2.3.4")
    assert clients.sign_in("portal", AVERY, "a brand new long password")["subject_id"] == "pa_avery"
    remote_error(lambda: clients.rpc.set_password_with_token(token, "another new password", ""),
                 "Gone")


def test_lock_lifts_after_its_time(clients):
    for _ in range(5):
        remote_error(lambda: clients.rpc.sign_in("staff", FRONT, "wrong wrong wrong", ""),
                     "Unauthorized")
    remote_error(lambda: clients.rpc.sign_in("staff", FRONT, STAFF_PASSWORD, ""), "Unauthorized")
    clients.sql("update staff_users set locked_until = :t where id = 'st_front'",
                t=utcnow() - timedelta(seconds=1))
    assert clients.staff_session()["subject_id"] == "st_front"


def test_idle_and_absolute_session_expiry(clients):
    idle, old = clients.staff_session(), clients.staff_session()
    digest = hashlib.sha256(idle["token"].encode()).hexdigest()
    clients.sql("update auth_sessions set last_seen_at = :t where id = :id",
                t=utcnow() - timedelta(minutes=16), id=digest)
    remote_error(lambda: clients.rpc.get_session(idle["token"], ""), "Unauthorized")
    assert clients.sql("select ended_at from auth_sessions where id = :id", id=digest)[0][0]

    digest = hashlib.sha256(old["token"].encode()).hexdigest()
    clients.sql("update auth_sessions set created_at = :c, expires_at = :e where id = :id",
                c=utcnow() - timedelta(hours=12), e=utcnow() - timedelta(seconds=1), id=digest)
    remote_error(lambda: clients.rpc.get_session(old["token"], ""), "Unauthorized")


def test_end_session_invalidates_it_on_the_server(clients):
    session = clients.portal_session()
    clients.rpc.end_session(session["token"])
    remote_error(lambda: clients.rpc.get_session(session["token"], ""), "Unauthorized")
    clients.rpc.end_session(session["token"])  # twice is fine
    remote_error(lambda: clients.rpc.get_session("made-up-token", ""), "Unauthorized")


def test_totp_enrolment_sign_in_and_removal(clients):
    session = clients.staff_session("st_admin")
    setup = clients.rpc.totp_begin(session["token"])
    assert setup["otpauth_uri"].startswith("otpauth://totp/Cedar%20Ridge%20Billing:")
    remote_error(lambda: clients.rpc.totp_confirm(session["token"], "000000"), "InvalidInput")
    secret = setup["secret"]
    clients.rpc.totp_confirm(session["token"], totp.code_at(secret, time.time()))

    started = clients.rpc.sign_in("staff", STAFF["st_admin"][0], STAFF_PASSWORD, "")
    assert started["status"] == "totp_required" and "session" not in started
    challenge = started["challenge"]
    remote_error(lambda: clients.rpc.complete_totp(challenge + "x", "123456", ""), "Unauthorized")
    wrong = remote_error(lambda: clients.rpc.complete_totp(challenge, "000000", ""), "Unauthorized")
    assert wrong.value == auth.BAD_CODE
    assert clients.sql("select failed_sign_ins from staff_users where id = 'st_admin'")[0][0] == 1
    # the step used to confirm is spent; the next one is accepted, once
    next_code = totp.hotp(totp._key(secret), totp.step_at(time.time()) + 1)
    done = clients.rpc.complete_totp(challenge, next_code, "")
    assert done["status"] == "ok" and done["session"]["subject_id"] == "st_admin"
    remote_error(lambda: clients.rpc.complete_totp(challenge, next_code, ""), "Unauthorized")

    token = done["session"]["token"]
    remote_error(lambda: clients.rpc.totp_disable(token, "not my password"), "Unauthorized")
    clients.rpc.totp_disable(token, STAFF_PASSWORD)
    assert clients.staff_session("st_admin")["totp_enabled"] is False


def test_change_password_needs_the_current_one_and_ends_other_sessions(clients):
    here, elsewhere = clients.portal_session(), clients.portal_session()
    remote_error(lambda: clients.rpc.change_password(here["token"], PORTAL_PASSWORD, "short", ""),
                 "InvalidInput")
    remote_error(lambda: clients.rpc.change_password(here["token"], "wrong current one",
                                                     "a perfectly fine passphrase", ""),
                 "Unauthorized")
    assert clients.sql("select failed_sign_ins from portal_accounts where id = 'pa_avery'")[0][0] == 1
    clients.rpc.change_password(here["token"], PORTAL_PASSWORD, "a perfectly fine passphrase", "")
    assert clients.rpc.get_session(here["token"], "")["subject_id"] == "pa_avery"
    remote_error(lambda: clients.rpc.get_session(elsewhere["token"], ""), "Unauthorized")
    assert clients.audit("password.changed", actor_id="pa_avery")


@pytest.mark.parametrize("password,rule", [
    ("too short", "at least 12"),
    ("password2026!", "too common"),
    ("avery-is-my-name-2026", "must not contain your username"),
])
def test_weak_passwords_are_refused_naming_the_rule(clients, password, rule):
    link = clients.rpc.issue_password_link("portal", "pa_avery", "welcome", "evt-weak")
    token = link["path"].rsplit("/", 1)[1]
    before = clients.sql("select password_hash from portal_accounts where id = 'pa_avery'")
    error = remote_error(lambda: clients.rpc.set_password_with_token(token, password, ""),
                         "InvalidInput")
    assert rule in error.value
    assert clients.sql("select password_hash from portal_accounts where id = 'pa_avery'") == before
    assert clients.rpc.check_password_link(token)["purpose"] == "welcome"  # still usable


def test_tampered_expired_and_foreign_links(clients):
    link = clients.rpc.issue_password_link("staff", "st_bill", "reset", "evt-1")
    token = link["path"].rsplit("/", 1)[1]
    assert link["path"].startswith("/staff/set-password/")
    remote_error(lambda: clients.rpc.check_password_link(token[:-2] + "xx"), "NotFound")
    remote_error(lambda: clients.rpc.check_password_link("nonsense"), "NotFound")
    clients.sql("update password_links set expires_at = :t", t=utcnow() - timedelta(seconds=1))
    remote_error(lambda: clients.rpc.check_password_link(token), "Gone")
    remote_error(lambda: clients.rpc.set_password_with_token(token, "a perfectly fine one", ""),
                 "Gone")
    remote_error(lambda: clients.rpc.issue_password_link("staff", "st_nobody", "reset", "evt-2"),
                 "NotFound")
    remote_error(lambda: clients.rpc.issue_password_link("portal", "pa_avery", "reset", "evt-1"),
                 "Conflict")
    remote_error(lambda: clients.rpc.issue_password_link("staff", "st_bill", "later", "evt-3"),
                 "InvalidInput")


def test_reset_request_for_an_unknown_login_says_nothing_and_emits_nothing(clients):
    assert clients.rpc.request_password_reset("staff", "who@where.test", "1.2.3.4") is None
    assert clients.rpc.request_password_reset("staff", "gone@clinic.test", "1.2.3.4") is None
    assert clients.outbox("StaffPasswordResetRequested") == []
    assert [r.outcome for r in clients.audit("password.reset_requested")] == ["failed", "failed"]
    clients.rpc.request_password_reset("staff", FRONT, "1.2.3.4")
    assert [e["data"] for e in clients.outbox("StaffPasswordResetRequested")] == [
        {"staff_id": "st_front"}]
