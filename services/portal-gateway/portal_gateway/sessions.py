"""Signed, expiring session cookies and the CSRF token they carry.

The cookie holds only ids (who, which role, when it expires) and is signed
with HMAC-SHA256; it is HttpOnly and SameSite=Lax. Every form carries the
session's CSRF token, checked on every POST."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from dataclasses import dataclass

STAFF_COOKIE = "cairn_staff"
PORTAL_COOKIE = "cairn_portal"


@dataclass(frozen=True)
class Session:
    subject: str        # staff user id or portal client id
    name: str
    role: str
    csrf: str
    expires: int


class Signer:
    def __init__(self, secret: str, max_age_seconds: int):
        self.secret = secret.encode()
        self.max_age = max_age_seconds

    def issue(self, subject: str, name: str, role: str) -> tuple[str, Session]:
        session = Session(subject, name, role, secrets.token_urlsafe(24),
                          int(time.time()) + self.max_age)
        body = base64.urlsafe_b64encode(json.dumps(session.__dict__).encode()).decode()
        return f"{body}.{self._sign(body)}", session

    def read(self, cookie: str | None) -> Session | None:
        if not cookie or cookie.count(".") != 1:
            return None
        body, signature = cookie.split(".")
        if not hmac.compare_digest(self._sign(body), signature):
            return None
        try:
            session = Session(**json.loads(base64.urlsafe_b64decode(body.encode())))
        except (ValueError, TypeError):
            return None
        return session if session.expires > time.time() else None

    def _sign(self, body: str) -> str:
        return hmac.new(self.secret, body.encode(), hashlib.sha256).hexdigest()


def csrf_ok(session: Session | None, submitted: str | None) -> bool:
    return bool(session and submitted and hmac.compare_digest(session.csrf, submitted))
