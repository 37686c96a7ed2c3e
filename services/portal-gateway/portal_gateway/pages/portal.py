"""The patient/guardian portal: home, the handbook, and switching between the
clients a guardian may act for. Every object is checked against the client
the session is acting for."""
from __future__ import annotations

import base64

from portal_gateway.web import http
from werkzeug.wrappers import Response

from portal_gateway import web
from portal_gateway.access import AREAS, client_ip, signed_in

class PortalPages:

    @http("GET", "/portal")
    @signed_in("portal")
    def portal_home(self, request, session):
        return web.page("portal/home.html", session=session, organization=self.clients.get_organization(),
                        client=self.clients.get_client(session["acting_for"]))

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
        self.clients.switch_client(request.cookies.get(AREAS["portal"]),
                                   request.form.get("client_id", ""), client_ip(request))
        return web.redirect("/portal")
