"""The patient/guardian portal: home, billing, and switching between the
clients a guardian may act for. Every object is checked against the client
the session is acting for."""
from __future__ import annotations

import base64

from nameko.web.handlers import http
from werkzeug.wrappers import Response

from portal_gateway import web
from portal_gateway.access import AREAS, client_ip, signed_in

VISIBLE_STATUSES = ("sent", "partially_paid", "paid")


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

    @http("GET", "/portal/billing")
    @signed_in("portal")
    def portal_billing(self, request, session):
        invoices = [i for i in self.invoicing.list_invoices(session["acting_for"])
                    if i["status"] in VISIBLE_STATUSES]
        return web.page("portal/billing.html", session=session, organization=self.clients.get_organization(),
                        outstanding=[i for i in invoices if i["balance"] > 0],
                        paid=[i for i in invoices if i["balance"] == 0])

    @http("POST", "/portal/invoices/<invoice_id>/pay")
    @signed_in("portal")
    def portal_pay(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        if invoice["client_id"] != session["acting_for"] or invoice["status"] not in VISIBLE_STATUSES:
            return web.error_page(404, "That invoice was not found.", session=session, area="portal")
        link = self.payments.issue_payment_link(
            invoice_id, session["acting_for"], f"portal:{invoice_id}:{session['csrf']}")
        return web.redirect(link["path"])
