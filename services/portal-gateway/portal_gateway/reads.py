"""What the gateway keeps for a few seconds so a page does not ask for it:
the session check, and the organization (with its locations), the payment
terms, the service catalog and the billing providers. Every copy drops a cached value on the event
that changes it (broadcast to every copy); the TTL only bounds staleness
when such an event is missed, and each (re)connection to the broker empties
every cache, since broadcasts sent while a copy was away are lost."""
from __future__ import annotations

import hashlib

from servicekit.cache import MISSING, Cache
from servicekit.events import broadcast

SESSION_CACHE_SECONDS = 15
REFERENCE_CACHE_SECONDS = 300


def session_key(token: str) -> str:
    """The clients service's own session id: SHA-256 of the token."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


class CachedReads:
    """Mixin of the gateway service."""
    session_cache = Cache("SESSION_CACHE_SECONDS", SESSION_CACHE_SECONDS)
    reference_cache = Cache("REFERENCE_CACHE_SECONDS", REFERENCE_CACHE_SECONDS)

    # ---- invalidation -------------------------------------------------------------
    @broadcast("clients", "SessionEnded")
    def forget_ended_session(self, data):
        self._forget_sessions(data)

    @broadcast("clients", "SessionChanged")
    def forget_changed_session(self, data):
        self._forget_sessions(data)

    @broadcast("clients", "OrganizationChanged")
    def forget_organization(self, data):
        self._forget_organization()

    def _forget_sessions(self, data):
        if data is None:   # (re)connected to the broker: an ending may have been missed
            self.session_cache.clear()
        elif data.get("session_id"):
            self.session_cache.drop(data["session_id"])
        else:
            self.session_cache.drop_where(lambda s: (s["kind"], s["subject_id"]) ==
                                          (data["kind"], data["subject_id"]))

    @broadcast("invoicing", "CatalogChanged")
    def forget_catalog(self, data):
        self._forget_catalog()

    def _forget_catalog(self):
        self.reference_cache.drop("catalog")
        self.reference_cache.drop("providers")

    def _forget_organization(self):
        self.reference_cache.drop("organization")
        self.reference_cache.drop("payment_terms")   # they name the clinic

    # ---- reads --------------------------------------------------------------------
    def _organization(self) -> dict:
        return self.reference_cache.get_or_load("organization", self.clients.get_organization)

    def _location(self, location_id: str) -> dict:
        for location in self._organization()["locations"]:
            if location["id"] == location_id:
                return location
        return self.clients.get_location(location_id)   # added a moment ago elsewhere

    def _payment_terms(self) -> dict:
        return self.reference_cache.get_or_load("payment_terms", self.payments.payment_terms)

    def _catalog(self) -> list:
        """The active services, with their fee per location."""
        return self.reference_cache.get_or_load("catalog", self.invoicing.list_services)

    def _providers(self) -> list:
        """The active billing providers."""
        return self.reference_cache.get_or_load("providers", self.invoicing.list_providers)


__all__ = ["CachedReads", "MISSING", "session_key"]
