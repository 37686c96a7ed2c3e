"""Passwords: argon2id hashing and the password policy (NIST SP 800-63B
style: length, a blocklist and context words; no composition rules, no
forced rotation). Pure functions, no I/O."""
from __future__ import annotations

import secrets
import unicodedata

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH = 12
MAX_LENGTH = 128

# argon2id with argon2-cffi's defaults (RFC 9106's second recommended
# parameter set: t=3, m=64 MiB, p=4).
_hasher = PasswordHasher(type=Type.ID)

# Commonly used or easily guessed passwords and their stems. A password is
# refused when it is one of these, or one of these followed by digits and
# symbols ("Password2026!" is "password" plus decoration).
COMMON = frozenset("""
password passw0rd p@ssw0rd p@ssword password1 password12 password123 password1234
passwordpassword mypassword newpassword secret secretpassword letmein letmeinnow
welcome welcome1 welcomehome iloveyou iloveyouso trustno1 changeme changemenow
default admin administrator root qwerty qwertyuiop qwertyuiopas qwertyuiopasdf
asdfghjkl asdfghjkl; zxcvbnm zxcvbnmasdf 1q2w3e4r 1q2w3e4r5t 1q2w3e4r5t6y 1qaz2wsx
1qaz2wsx3edc zaq12wsx zaq12wsxcde3 abc123 abcdefghijkl abcdefghijklm monkey dragon
football baseball basketball soccer superman batman sunshine princess shadow
master michael jennifer jordan23 starwars whatever freedom hello helloworld
hellohello 123456789012 1234567890123 12345678901234 123123123123 123412341234
111111111111 000000000000 121212121212 987654321098 098765432109 qwerty123456
123456qwerty 123qweasdzxc qweasdzxc123 computer internet summer winter spring
autumn behavioral therapy recovery counseling clinic portal patient billing
cairn cairnportal cairnbilling health healthcare wellness insurance
""".split())

_DECORATION = "0123456789!@#$%^&*()-_=+.,?~ "


class PolicyError(ValueError):
    """The password breaks a rule; the message names the rule."""


def normalize(password: str) -> str:
    """NFKC, as NIST asks, so the same characters typed on another device
    hash the same."""
    return unicodedata.normalize("NFKC", password)


def policy_problem(password, username: str = "") -> str | None:
    """The broken rule, in words for the person choosing, or None."""
    if not isinstance(password, str):
        return "The password must be text."
    password = normalize(password)
    if len(password) < MIN_LENGTH:
        return f"The password is too short: use at least {MIN_LENGTH} characters."
    if len(password) > MAX_LENGTH:
        return f"The password is too long: use at most {MAX_LENGTH} characters."
    lowered = password.lower()
    if len(set(lowered)) == 1:
        return "The password must not be one character repeated."
    if lowered in COMMON or lowered.strip(_DECORATION) in COMMON:
        return "The password is too common: choose one that is harder to guess."
    local_part = str(username or "").lower().split("@")[0]
    if len(local_part) >= 3 and local_part in lowered:
        return "The password must not contain your username or the name part of your email."
    return None


def check(password, username: str = "") -> str:
    """The normalized password, or PolicyError naming the broken rule."""
    problem = policy_problem(password, username)
    if problem:
        raise PolicyError(problem)
    return normalize(password)


def hash_password(password: str) -> str:
    return _hasher.hash(normalize(password))


def matches(password_hash: str, password) -> bool:
    """True if `password` is the one hashed. An empty hash (no password set
    yet) is checked against DUMMY_HASH, so it costs the same, and fails."""
    if not isinstance(password, str) or len(password) > 4 * MAX_LENGTH:
        password = ""
    try:
        matched = _hasher.verify(password_hash or DUMMY_HASH, normalize(password))
    except (VerificationError, InvalidHashError):
        return False
    return matched and bool(password_hash)


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except (InvalidHashError, ValueError):
        return False


# A real hash of a random secret: verified when there is no account (or no
# password yet), so every failure costs the same argon2 work.
DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))
