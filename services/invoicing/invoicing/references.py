"""Are an invoice's client and location real? Clients owns both; its answers
are kept where they are read, so saving an invoice usually asks nothing:

- the organization (with its `locations`) for `ORGANIZATION_CACHE_SECONDS`,
  dropped at once by the `OrganizationChanged` broadcast. A location missing
  from the cached copy is asked for once more before the save is refused (it
  may have been added a moment ago, its broadcast still on the way).
- every client id found. A client is never deleted and its id never reused,
  so "this client exists" stays true: the first save for a client in this
  process asks clients once, later saves ask nothing. An id not found is
  never remembered.
Locations are never deleted either, so a cached location is never wrong."""
from __future__ import annotations

from nameko.exceptions import RemoteError

from servicekit.cache import MISSING, TtlCache
from servicekit.errors import InvalidInput
from servicekit.text import FieldChecks

ORGANIZATION = "organization"


def check(clients, organizations: TtlCache, known_clients: TtlCache, client_id: str | None,
          location_id: str | None, checks: FieldChecks) -> None:
    """Adds to `checks` what is not there, as the form's fields say it
    (`location_id`: "Pick a location from the list."); nothing is written first."""
    if location_id:
        checks.run("location_id", check_location, clients, organizations, location_id)
    if client_id:
        checks.run("client_id", check_client, clients, known_clients, client_id)


def check_location(clients, organizations: TtlCache, location_id: str) -> None:
    if _has_location(organization(clients, organizations), location_id):
        return
    organizations.drop(ORGANIZATION)
    if not _has_location(organization(clients, organizations), location_id):
        raise InvalidInput("Pick a location from the list (that one was not found).")


def check_client(clients, known_clients: TtlCache, client_id: str) -> None:
    if known_clients.get(client_id) is not MISSING:
        return
    try:
        clients.get_client(client_id)
    except RemoteError as error:
        if error.exc_type == "NotFound":
            raise InvalidInput("This client or account was not found.") from None
        raise
    known_clients.put(client_id, True)


def organization(clients, organizations: TtlCache) -> dict:
    """The organization as clients describes it (an empty one before it is set up)."""
    def load() -> dict:
        try:
            return clients.get_organization()
        except RemoteError as error:
            if error.exc_type == "NotFound":
                return {"locations": []}
            raise
    return organizations.get_or_load(ORGANIZATION, load)


def _has_location(org: dict, location_id: str) -> bool:
    return any(location.get("id") == location_id for location in org.get("locations") or ())
