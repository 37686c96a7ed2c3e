"""What a portal session may see of the client it acts for. A patient, a
guardian or a responsible party ("full") sees every area; a third-party
contact under a release of information sees only what the release allows
(`scope` of the session's `clients` entry: "billing" or
"billing_and_clinical"; a missing scope means "full"), and every page it
sees carries the 42 CFR Part 2 no-redisclosure notice. The notice's text is
the documents service's (`part2_notice()`), kept like the organization."""
from __future__ import annotations

FULL = "full"
AREAS = ("home", "appointments", "documents", "billing", "contacts", "insurance", "messages")
SCOPE_AREAS = {
    FULL: frozenset(AREAS),
    "billing": frozenset({"home", "billing", "messages"}),
    "billing_and_clinical": frozenset({"home", "appointments", "documents", "billing", "messages"}),
}
# the area a portal path belongs to; a path of none of them (home, the
# handbook, the account, sign-out, switching) is open to every scope
PATH_AREAS = (("/portal/appointments", "appointments"), ("/portal/documents", "documents"),
              ("/portal/billing", "billing"), ("/portal/estimates", "billing"),
              ("/portal/contacts", "contacts"), ("/portal/insurance", "insurance"),
              ("/portal/messages", "messages"))
NOT_SHARED = "This part of the portal is not shared with you."


def scope_of(session: dict) -> str:
    """The session's scope for the client it acts for (unknown -> the narrowest)."""
    for client in session.get("clients", ()):
        if client.get("id") == session.get("acting_for"):
            scope = client.get("scope") or FULL
            return scope if scope in SCOPE_AREAS else "billing"
    return FULL


def area_of(path: str) -> str | None:
    for prefix, area in PATH_AREAS:
        if path == prefix or path.startswith(prefix + "/"):
            return area
    return None


def may_see(scope: str, area: str) -> bool:
    return area in SCOPE_AREAS.get(scope, SCOPE_AREAS["billing"])


def part2_notice(gateway) -> str:
    return gateway.reference_cache.get_or_load("part2_notice", gateway.documents.part2_notice)


def scoped(gateway, path: str, session: dict) -> tuple[dict, str | None]:
    """(the session as pages see it, the refused area or None). A contact's
    session gains `scope` and `part2_notice`; a full one is left as it is."""
    scope = scope_of(session)
    if scope == FULL:
        return session, None
    session = {**session, "scope": scope, "part2_notice": part2_notice(gateway)}
    area = area_of(path)
    return session, (area if area is not None and not may_see(scope, area) else None)
