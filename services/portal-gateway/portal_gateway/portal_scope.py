"""What a portal session may see of the client it acts for. A patient, a
guardian or a responsible party ("full") sees every area; a third-party
contact under a release of information sees only what the release allows
(`scope` of the session's `clients` entry: "billing" or
"billing_and_clinical"; a missing scope means "full"), and every page it
sees carries the 42 CFR Part 2 no-redisclosure notice. The notice's text is
the documents service's (`part2_notice()`), kept like the organization."""
from __future__ import annotations

import re

FULL = "full"
# "billing_clinical": the parts of Billing that name diagnoses (superbills,
# good-faith estimates) -- not for a contact whose release covers billing only
AREAS = ("home", "appointments", "documents", "billing", "billing_clinical", "contacts",
         "insurance", "messages")
SCOPE_AREAS = {
    FULL: frozenset(AREAS),
    "billing": frozenset({"home", "billing", "messages"}),
    "billing_and_clinical": frozenset({"home", "appointments", "documents", "billing",
                                       "billing_clinical", "messages"}),
}
# the area a portal path belongs to (the first prefix that matches); a path
# of none of them (home, the handbook, the account, sign-out, switching) is
# open to every scope
PATH_AREAS = (("/portal/billing/superbill", "billing_clinical"), ("/portal/estimates", "billing_clinical"),
              ("/portal/appointments", "appointments"), ("/portal/documents", "documents"),
              ("/portal/billing", "billing"),
              ("/portal/contacts", "contacts"), ("/portal/insurance", "insurance"),
              ("/portal/messages", "messages"))
NOT_SHARED = "This part of the portal is not shared with you."
NO_CLIENT = "This part of the portal is not shared with you. Sign out and sign in again."
WRITE_REFUSED = "Only the client or their guardian can do this."
DOCUMENTS_READ_ONLY = ("A contact under a release of information can read what it allows, but only the "
                       "client or a guardian can sign, upload or fill in forms.")
# A release lets a contact READ. What a non-full scope may still post: its
# own account (password, two-step sign-in), signing out, switching clients.
OWN_POSTS = ("/portal/logout", "/portal/switch")
OWN_POST_PREFIX = "/portal/account/"
# GETs that act for the client rather than read: the Make a Payment form,
# coming back from 3-D Secure after saving a card (it completes the setup)
# and joining a session
ACTING_GETS = (re.compile(r"/portal/billing/pay"), re.compile(r"/portal/billing/methods/setup/[^/]+"),
               re.compile(r"/portal/appointments/[^/]+/join"))


def scope_of(session: dict) -> str | None:
    """The session's scope for the client it acts for (an unknown scope ->
    the narrowest); None when it acts for no client of its own (fail closed)."""
    acting_for = session.get("acting_for")
    if not acting_for:
        return None
    for client in session.get("clients") or ():
        if client.get("id") == acting_for:
            scope = client.get("scope") or FULL
            return scope if scope in SCOPE_AREAS else "billing"
    return None


def is_full(session: dict) -> bool:
    return scope_of(session) == FULL


def acts_for_the_client(method: str, path: str) -> bool:
    """Does this request change something of the client's (pay, sign, approve,
    save a card, join a session...)? Every portal POST does, but the few on
    the person's own account."""
    if method == "POST":
        return not (path in OWN_POSTS or path.startswith(OWN_POST_PREFIX))
    return any(pattern.fullmatch(path) for pattern in ACTING_GETS)


def area_of(path: str) -> str | None:
    for prefix, area in PATH_AREAS:
        if path == prefix or path.startswith(prefix + "/"):
            return area
    return None


def may_see(scope: str, area: str) -> bool:
    return area in SCOPE_AREAS.get(scope, SCOPE_AREAS["billing"])


def part2_notice(gateway) -> str:
    return gateway.reference_cache.get_or_load("part2_notice", gateway.documents.part2_notice)


def scoped(gateway, method: str, path: str, session: dict) -> tuple[dict, tuple | None]:
    """(the session as pages see it, the refusal or None). A refusal is
    (status, audited action, words). A contact's session gains `scope` and
    `part2_notice`; a full one is left as it is. A session acting for no
    client of its own is refused everything (fail closed)."""
    scope = scope_of(session)
    if scope is None:
        return session, (403, "denied:portal.no_client", NO_CLIENT)
    if scope == FULL:
        return session, None
    session = {**session, "scope": scope, "part2_notice": part2_notice(gateway)}
    area = area_of(path)
    if area is not None and not may_see(scope, area):
        return session, (403, f"denied:portal.{area}", NOT_SHARED)
    if acts_for_the_client(method, path):
        if area == "documents":
            return session, (403, "denied:document.write", DOCUMENTS_READ_ONLY)
        return session, (403, "denied:portal.write", WRITE_REFUSED)
    return session, None
