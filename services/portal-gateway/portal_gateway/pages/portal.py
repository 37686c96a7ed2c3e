"""The patient/guardian portal: home, the handbook, and switching between the
clients a guardian may act for. Every object is checked against the client
the session is acting for."""
from __future__ import annotations

import logging
from datetime import datetime, timezone

from nameko.exceptions import RemoteError, UnknownService

from servicekit.errors import RpcTimeout

from portal_gateway import documents_web, web
from portal_gateway.access import AREAS, client_ip, remember_session, signed_in
from portal_gateway.pages.portal_appointments import appointment_view
from portal_gateway.portal_scope import FULL, may_see
from portal_gateway.web import http

log = logging.getLogger(__name__)
HANDBOOK_MISSING = "The clinic has not published a client handbook yet."


class Missing:
    """The reply of a call that could not even be sent (its service is not running)."""

    def result(self):
        raise UnknownService("not running")


def ask(method, *args):
    """method.call_async(*args), or a reply that fails when asked for."""
    try:
        return method.call_async(*args)
    except UnknownService:
        return Missing()


def answer_or_none(reply, what: str):
    """A part of a page that may be left out when its service does not answer."""
    try:
        return reply.result()
    except (RemoteError, RpcTimeout, UnknownService) as error:
        log.warning("portal home without %s (%s)", what, type(error).__name__)
        return None


class PortalPages:

    @http("GET", "/portal")
    @signed_in("portal")
    def portal_home(self, request, session):
        """Welcome, the clinic's contact details, the handbook, what is waiting
        (consents and forms to sign, the next appointment): two RPCs at most,
        in parallel; the organization is cached."""
        client_id = session["acting_for"]
        scope = session.get("scope", FULL)
        summary = ask(self.documents.portal_summary, client_id)
        upcoming = ask(self.scheduling.list_appointments, client_id) \
            if may_see(scope, "appointments") else None
        summary = answer_or_none(summary, "the documents summary")
        listing = answer_or_none(upcoming, "the appointments") if upcoming else None
        next_appointment = None
        if listing and listing.get("upcoming"):
            next_appointment = appointment_view(listing["upcoming"][0], self._clinic_zone(),
                                                self._join_opens_minutes(), datetime.now(timezone.utc))
        acting_for = [c for c in session["clients"] if c["id"] == client_id]
        return web.page("portal/home.html", session=session, organization=self._organization(),
                        client=acting_for[0] if acting_for else None, summary=summary,
                        show_documents=may_see(scope, "documents"),
                        show_appointments=may_see(scope, "appointments"),
                        appointments_known=listing is not None, next_appointment=next_appointment,
                        consents_outstanding=(summary or {}).get("consents_outstanding", 0)
                        if may_see(scope, "documents") else 0)

    @http("GET", "/portal/handbook")
    @signed_in("portal")
    def portal_handbook(self, request, session):
        """The client handbook, from the documents service."""
        try:
            answer = self.documents.open_handbook()
        except RemoteError as error:
            if error.exc_type != "NotFound":
                raise
            return web.error_page(404, HANDBOOK_MISSING, session=session, area="portal")
        return documents_web.download(answer)

    @http("POST", "/portal/switch")
    @signed_in("portal")
    def portal_switch(self, request, session):
        switched = self.clients.switch_client(request.cookies.get(AREAS["portal"]),
                                              request.form.get("client_id", ""), client_ip(request))
        remember_session(self, request, "portal", switched)
        return web.redirect("/portal")
