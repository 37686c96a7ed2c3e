"""Pure rules: password policy and hashing, the permission matrix, TOTP
against the RFC test vectors, signed tokens, lockout and session times."""
import base64
import hashlib
from datetime import date, datetime, timedelta

import pytest

from clients import domain, passwords, totp

# ---- TOTP ----------------------------------------------------------------------
RFC4226_KEY = b"12345678901234567890"
RFC4226_CODES = ["755224", "287082", "359152", "969429", "338314",
                 "254676", "287922", "162583", "399871", "520489"]
# RFC 6238 appendix B, SHA-1 rows (8 digits)
RFC6238_SHA1 = [(59, "94287082"), (1111111109, "07081804"), (1111111111, "14050471"),
                (1234567890, "89005924"), (2000000000, "69279037"), (20000000000, "65353130")]
SECRET = base64.b32encode(RFC4226_KEY).decode()


@pytest.mark.parametrize("counter,code", list(enumerate(RFC4226_CODES)))
def test_hotp_matches_rfc4226_vectors(counter, code):
    assert totp.hotp(RFC4226_KEY, counter) == code


@pytest.mark.parametrize("unix_time,code", RFC6238_SHA1)
def test_totp_matches_rfc6238_sha1_vectors(unix_time, code):
    assert totp.code_at(SECRET, unix_time, digits=8) == code


def test_totp_accepts_one_step_of_drift_and_refuses_replay():
    now = 1_700_000_000
    step = totp.step_at(now)
    key = RFC4226_KEY
    assert totp.matching_step(SECRET, totp.hotp(key, step), now) == step
    assert totp.matching_step(SECRET, totp.hotp(key, step - 1), now) == step - 1
    assert totp.matching_step(SECRET, totp.hotp(key, step + 1), now) == step + 1
    assert totp.matching_step(SECRET, totp.hotp(key, step + 2), now) is None
    assert totp.matching_step(SECRET, totp.hotp(key, step - 2), now) is None
    assert totp.matching_step(SECRET, totp.hotp(key, step), now, last_step=step) is None
    assert totp.matching_step(SECRET, totp.hotp(key, step - 1), now, last_step=step) is None
    assert totp.matching_step(SECRET, totp.hotp(key, step + 1), now, last_step=step) == step + 1


@pytest.mark.parametrize("bad", [None, 123456, "", "12345", "1234567", "12a456", "١٢٣٤٥٦"])
def test_totp_refuses_malformed_codes(bad):
    assert totp.matching_step(SECRET, bad, 1_700_000_000) is None


def test_new_secret_and_provisioning_uri():
    secret = totp.new_secret()
    assert len(base64.b32decode(secret + "=" * (-len(secret) % 8))) == 20
    uri = totp.provisioning_uri(secret, "avery@home.test", "Cedar Ridge Billing")
    assert uri.startswith("otpauth://totp/Cedar%20Ridge%20Billing:avery@home.test?secret=")
    assert "issuer=Cedar%20Ridge%20Billing" in uri and "digits=6" in uri and "period=30" in uri


# ---- passwords -----------------------------------------------------------------
@pytest.mark.parametrize("password,username,rule", [
    ("short pass", "", "at least 12"),
    ("x" * 129 + "y", "", "at most 128"),
    ("aaaaaaaaaaaaaa", "", "one character repeated"),
    ("password1234", "", "too common"),
    ("Password2026!", "", "too common"),
    ("qwertyuiopasdf", "", "too common"),
    ("123456789012", "", "too common"),
    ("Recovery2026!!", "", "too common"),
    ("averylindqvist-2026", "averylindqvist@home.test", "must not contain your username"),
    ("my AVERY is long enough", "avery@home.test", "must not contain your username"),
    (None, "", "must be text"),
])
def test_password_policy_names_the_rule(password, username, rule):
    problem = passwords.policy_problem(password, username)
    assert problem and rule in problem
    with pytest.raises(passwords.PolicyError):
        passwords.check(password, username)


@pytest.mark.parametrize("password", [
    "correct horse battery staple", "blue river stones 42", "lowercaseonlyisfine",
    "日本語のパスワードです長い", "xy" * 64, "jo-is-not-checked-under-3",
])
def test_password_policy_has_no_composition_rules(password):
    assert passwords.policy_problem(password, "jo@home.test") is None


def test_hashing_is_argon2id_and_normalizes_unicode():
    hashed = passwords.hash_password("ﬁsh and chips forever")  # "ﬁ" ligature
    assert hashed.startswith("$argon2id$")
    assert passwords.matches(hashed, "fish and chips forever")
    assert not passwords.matches(hashed, "fish and chips forevers")
    assert not passwords.matches("", "anything at all")
    assert not passwords.matches("not-a-hash", "anything at all")
    assert not passwords.matches(hashed, None)


# ---- permissions ---------------------------------------------------------------
def test_permission_matrix():
    p = domain.PERMISSIONS
    assert p["front_desk"] == {"clients.read", "clients.write", "contacts.write", "insurance.write",
                               "portal.invite", "billing.read", "billing.write",
                               "documents.read", "documents.write", "appointments.read",
                               "appointments.write"}
    assert p["biller"] == {"clients.read", "insurance.write", "billing.read", "billing.write",
                           "payments.refund"}
    assert p["clinician"] == {"clients.read", "contacts.write", "documents.read", "documents.write",
                              "clinical.read", "clinical.write", "appointments.read",
                              "appointments.write"}
    assert p["administrator"] == domain.ALL_PERMISSIONS and len(domain.ALL_PERMISSIONS) == 17
    assert not domain.staff_may("front_desk", "clinical.read")   # scores and notes are clinical
    assert not domain.staff_may("clinician", "clients.write")
    assert not domain.staff_may("administrator", "org.admin", active=False)
    assert not domain.staff_may("janitor", "clients.read")


def test_portal_may_only_act_for_its_linked_acting_for_client():
    assert domain.portal_may("contacts.write", "cl_1", "cl_1", linked=True)
    assert not domain.portal_may("contacts.write", "cl_1", "cl_2", linked=True)
    assert not domain.portal_may("contacts.write", "cl_1", "cl_1", linked=False)
    assert not domain.portal_may("clients.write", "cl_1", "cl_1", linked=True)
    assert not domain.portal_may("clients.read", None, None, linked=False)


# ---- tokens ----------------------------------------------------------------------
def test_signed_link_tokens_refuse_tampering_and_other_purposes():
    token = domain.sign("abc123", "s3cret", "password-link")
    assert domain.unsign(token, "s3cret", "password-link") == "abc123"
    assert domain.unsign(token, "other", "password-link") is None
    assert domain.unsign(token, "s3cret", "totp-challenge") is None
    assert domain.unsign("abd123." + token.split(".")[1], "s3cret", "password-link") is None
    for junk in (None, 42, "", "a.b.c", "x" * 400):
        assert domain.unsign(junk, "s3cret", "password-link") is None


def test_challenge_expires():
    token = domain.sign_challenge("staff", "st_1", 1000, "s3cret")
    assert domain.open_challenge(token, "s3cret", 999) == ("staff", "st_1")
    assert domain.open_challenge(token, "s3cret", 1000) is None
    assert domain.open_challenge(token + "x", "s3cret", 999) is None


def test_session_token_digest_is_sha256():
    token = domain.new_token()
    assert domain.token_digest(token) == hashlib.sha256(token.encode()).hexdigest()
    assert domain.new_token() != token


# ---- lockout, sessions, records ------------------------------------------------
def test_fifth_consecutive_failure_locks_and_restarts_the_count():
    now = datetime(2026, 1, 1)
    count, locked = 0, None
    for _ in range(4):
        count, locked = domain.after_failure(count, 5, now, 15)
        assert locked is None
    count, locked = domain.after_failure(count, 5, now, 15)
    assert (count, locked) == (0, now + timedelta(minutes=15))
    assert domain.is_locked(locked, now + timedelta(minutes=14))
    assert not domain.is_locked(locked, now + timedelta(minutes=15))


def test_session_idle_and_absolute_expiry():
    times = domain.SessionTimes(timedelta(minutes=15), timedelta(hours=12))
    start = datetime(2026, 1, 1, 8)
    end = start + times.maximum
    assert not times.expired(start, end, start + timedelta(minutes=14))
    assert times.expired(start, end, start + timedelta(minutes=15))
    assert times.expired(end - timedelta(minutes=1), end, end)
    assert times.idle_expires_at(end - timedelta(minutes=5), end) == end


def test_release_and_coverage_rules():
    domain.check_release("billing", None, None)
    domain.check_release("billing_and_clinical", date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(domain.RuleBroken, match="required"):
        domain.check_release("billing_and_clinical", date(2026, 1, 1), None)
    with pytest.raises(domain.RuleBroken, match="on or after"):
        domain.check_release("billing", date(2026, 2, 1), date(2026, 1, 1))
    with pytest.raises(domain.RuleBroken, match="on or after"):
        domain.check_coverage(date(2026, 2, 1), date(2026, 1, 31))
    with pytest.raises(domain.RuleBroken, match="only an inquiry"):
        domain.check_conversion("client")
