"""Rules for people and access that need no I/O."""
from __future__ import annotations

import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()  # argon2id with the library's current defaults
STAFF_ROLES = ("front_desk", "biller", "clinician", "administrator")


def new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(8)}"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def password_matches(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


# A real hash of a random secret, verified when the account does not exist so
# a wrong email and a wrong password take the same time.
DUMMY_HASH = hash_password(secrets.token_urlsafe(16))
