"""Who is asking, and may they: server-side sessions (the clients service
keeps them; the cookie holds only a random token), CSRF on every form, and
the permission each staff page needs."""
from __future__ import annotations

import functools
import hmac
import secrets

from nameko.exceptions import RemoteError

from servicekit import config
from servicekit.db import iso, utcnow

from portal_gateway import portal_scope, web
from portal_gateway.reads import MISSING, session_key

STAFF_COOKIE = "cairn_staff_session"
PORTAL_COOKIE = "cairn_portal_session"
ANON_CSRF_COOKIE = "cairn_form"
AREAS = {"staff": STAFF_COOKIE, "portal": PORTAL_COOKIE}


def client_ip(request) -> str:
    return request.remote_addr or ""


def actor_of(session: dict, request) -> dict:
    actor = {"kind": session["kind"], "id": session["subject_id"], "ip": client_ip(request)}
    if session["kind"] == "portal":
        actor["client_id"] = session.get("acting_for")
    return actor


def same(a: str | None, b: str | None) -> bool:
    """Constant-time comparison of two tokens; anything typed into a form
    (non-ASCII included) is compared as bytes, never raises."""
    if not a or not b:
        return False
    return hmac.compare_digest(a.encode("utf-8", "surrogatepass"), b.encode("utf-8", "surrogatepass"))


def set_cookie(gateway, response, name: str, value: str, max_age: int | None = None) -> None:
    secure = config.setting(gateway.settings, "PUBLIC_URL", "").startswith("https")
    response.set_cookie(name, value, httponly=True, samesite="Lax", secure=secure,
                        max_age=max_age, path="/")


def load_session(gateway, request, area: str) -> dict | None:
    """The live session of the request's cookie. The clients service decides;
    its answer is reused for a few seconds (reads.CachedReads), never past
    the session's own idle or absolute expiry, and dropped at once when the
    session ends or changes anywhere."""
    token = request.cookies.get(AREAS[area])
    if not token:
        return None
    key = session_key(token)
    session = gateway.session_cache.get(key)
    if session is MISSING or _lapsed(session):
        # a sign-out heard while this check is on its way must win over its answer
        asked_at = gateway.session_cache.generation
        try:
            session = gateway.clients.get_session(token, client_ip(request))
        except RemoteError as error:
            if error.exc_type == "Unauthorized":
                gateway.session_cache.drop(key)
                return None
            raise
        gateway.session_cache.put(key, session, loaded_at=asked_at)
    return session if session["kind"] == area else None


def _lapsed(session: dict) -> bool:
    return min(session["idle_expires_at"], session["expires_at"]) <= iso(utcnow())


def forget_session(gateway, request, area: str) -> None:
    """This copy forgets the request's session at once (the others hear SessionEnded)."""
    token = request.cookies.get(AREAS[area])
    if token:
        gateway.session_cache.drop(session_key(token))


def remember_session(gateway, request, area: str, session: dict) -> None:
    """A session the clients service has just described after changing it."""
    token = request.cookies.get(AREAS[area])
    if token:
        gateway.session_cache.put(session_key(token), session)


def signed_in(area: str, permission: str | None = None):
    """Require a live session of `area` (and `permission` for staff); on POST
    also the session's CSRF token. Expected RPC errors become pages."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, request, **kwargs):
            session = None
            try:
                session = load_session(self, request, area)
                if session is None:
                    return web.redirect(f"/{area}/login")
                if request.method == "POST" and not same(session["csrf"], request.form.get("csrf")):
                    return web.error_page(403, "This form has expired. Go back, reload and try again.")
                if area == "portal":        # a third-party contact sees what its release allows
                    # and only reads: every write is the client's (or a guardian's)
                    session, refused = portal_scope.scoped(self, request.method, request.path, session)
                    if refused:
                        status, action, words = refused
                        self.clients.record_access(actor_of(session, request), action,
                                                   session.get("acting_for"), outcome="denied")
                        return web.error_page(status, words, session=session, area=area)
                if permission and permission not in session.get("permissions", ()):
                    self.clients.record_access(actor_of(session, request), f"denied:{permission}", None)
                    return web.error_page(403, "Your role does not allow this. Ask an administrator.",
                                          session=session, area=area)
                return method(self, request, session=session, **kwargs)
            except RemoteError as error:
                known = web.expected_error(error)
                if not known:
                    return web.unexpected(error)
                return web.error_page(*known, session=session, area=area)
        return wrapper
    return decorate


def anonymous_form(method):
    """Forms used before sign-in (sign in, forgot password, set password) are
    protected by a double-submit token: a cookie and a matching hidden field."""
    @functools.wraps(method)
    def wrapper(self, request, **kwargs):
        token = request.cookies.get(ANON_CSRF_COOKIE) or secrets.token_urlsafe(24)
        if request.method == "POST" and not same(token, request.form.get("csrf")):
            return web.error_page(403, "This form has expired. Go back, reload and try again.")
        try:
            response = method(self, request, form_token=token, **kwargs)
        except RemoteError as error:
            known = web.expected_error(error)
            response = web.error_page(*known) if known else web.unexpected(error)
        if request.cookies.get(ANON_CSRF_COOKIE) != token:
            set_cookie(self, response, ANON_CSRF_COOKIE, token)
        return response
    return wrapper
