"""Time-based one-time passwords (RFC 6238 over RFC 4226 HOTP) with the
standard library: HMAC-SHA1, 30-second steps, 6 digits, one step of clock
drift either way. Pure functions; the caller keeps the last accepted step
so a code cannot be used twice."""
from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import struct
from urllib.parse import quote, urlencode

STEP_SECONDS = 30
DIGITS = 6
DRIFT_STEPS = 1


def new_secret() -> str:
    """160 random bits (RFC 4226's recommended key length), base32, no padding."""
    return base64.b32encode(secrets.token_bytes(20)).decode().rstrip("=")


def _key(secret_b32: str) -> bytes:
    cleaned = secret_b32.replace(" ", "").upper()
    return base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))


def hotp(key: bytes, counter: int, digits: int = DIGITS, digest=hashlib.sha1) -> str:
    """RFC 4226 section 5.3: HMAC, dynamic truncation, modulo 10^digits."""
    mac = hmac.new(key, struct.pack(">Q", counter), digest).digest()
    offset = mac[-1] & 0x0F
    value = struct.unpack(">I", mac[offset:offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10 ** digits).zfill(digits)


def step_at(unix_time: float) -> int:
    return int(unix_time // STEP_SECONDS)


def code_at(secret_b32: str, unix_time: float, digits: int = DIGITS) -> str:
    return hotp(_key(secret_b32), step_at(unix_time), digits)


def matching_step(secret_b32: str, code, unix_time: float, last_step: int | None = None) -> int | None:
    """The time step the code belongs to (now, or one step either side), or
    None. Steps at or before `last_step` are refused: no replay."""
    if not isinstance(code, str):
        return None
    code = code.replace(" ", "")
    if len(code) != DIGITS or not code.isascii() or not code.isdigit():
        return None
    key, now = _key(secret_b32), step_at(unix_time)
    found = None
    for step in range(now - DRIFT_STEPS, now + DRIFT_STEPS + 1):
        # compare every candidate, so the time taken does not tell which matched
        if hmac.compare_digest(hotp(key, step), code) and found is None:
            found = step
    if found is None or (last_step is not None and found <= last_step):
        return None
    return found


def provisioning_uri(secret_b32: str, account_name: str, issuer: str) -> str:
    """The otpauth:// URI authenticator apps read from a QR code."""
    label = quote(f"{issuer}:{account_name}", safe="@:")
    query = urlencode({"secret": secret_b32, "issuer": issuer, "algorithm": "SHA1",
                       "digits": DIGITS, "period": STEP_SECONDS}, quote_via=quote)
    return f"otpauth://totp/{label}?{query}"
