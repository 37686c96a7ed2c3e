"""The patient/guardian portal: home, the handbook, and switching between the
clients a guardian may act for. Every object is checked against the client
the session is acting for."""
from __future__ import annotations

import base64

from portal_gateway.web import http
from werkzeug.wrappers import Response

from portal_gateway import web
from portal_gateway.access import AREAS, client_ip, remember_session, signed_in

class PortalPages:

    @http("GET", "/portal")
    @signed_in("portal")
    def portal_home(self, request, session):
        acting_for = [c for c in session["clients"] if c["id"] == session["acting_for"]]
        return web.page("portal/home.html", session=session, organization=self._organization(),
                        client=acting_for[0] if acting_for else None)

    @http("GET", "/portal/handbook")
    @signed_in("portal")
    def portal_handbook(self, request, session):
        handbook = self.clients.get_handbook()
        name = handbook["filename"].replace('"', "")
        return Response(base64.b64decode(handbook["content_b64"]), mimetype=handbook["content_type"],
                        headers={**web.SECURITY_HEADERS,
                                 "Content-Disposition": f'attachment; filename="{name}"'})

    @http("POST", "/portal/switch")
    @signed_in("portal")
    def portal_switch(self, request, session):
        switched = self.clients.switch_client(request.cookies.get(AREAS["portal"]),
                                              request.form.get("client_id", ""), client_ip(request))
        remember_session(self, request, "portal", switched)
        return web.redirect("/portal")
