"""Administrator pages: the audit log (read-only), organization settings with
locations, and staff users. The client handbook and the portal's resources
are the documents service's (pages/staff_documents.py, /staff/settings/resources)."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from portal_gateway import web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.pages.staff_clients import fields

AUDIT_PAGE = 100
ROLES = [("front_desk", "Front desk"), ("biller", "Biller"), ("clinician", "Clinician"),
         ("administrator", "Administrator")]


class AdminPages:

    @http("GET", "/staff/audit")
    @signed_in("staff", "audit.read")
    def audit_log(self, request, session):
        client_id = request.args.get("client_id", "").strip() or None
        before = request.args.get("before", "").strip()
        try:
            entries = self.clients.list_audit(actor=actor_of(session, request),
                                              client_id=client_id, limit=AUDIT_PAGE + 1,
                                              before_id=int(before) if before.isdigit() else None)
        except RemoteError as error:   # the filter is not an id
            if error.exc_type != "InvalidInput":
                raise
            return web.page("staff/audit.html", status=400, session=session, entries=[],
                            client_id=client_id, older=None,
                            error="Enter a client id as it is shown, such as cl_1a2b3c4d.")
        return web.page("staff/audit.html", session=session, entries=entries[:AUDIT_PAGE],
                        client_id=client_id or "",
                        older=entries[AUDIT_PAGE - 1]["id"] if len(entries) > AUDIT_PAGE else None)

    @http("GET", "/staff/settings")
    @signed_in("staff", "org.admin")
    def settings_page(self, request, session):
        return self._settings(session, notice=request.args.get("notice", ""))

    @http("POST", "/staff/settings/<part>")
    @signed_in("staff", "org.admin")
    def save_settings(self, request, session, part):
        actor = actor_of(session, request)
        try:
            if part == "organization":
                self.clients.update_organization(actor=actor, payload=fields(request.form))
            elif part == "location":
                self.clients.upsert_location(actor=actor, payload=fields(request.form))
            else:
                return web.error_page(404, "There is no such setting.", session=session, area="staff")
        except RemoteError as error:
            if error.exc_type != "InvalidInput":
                raise
            return self._settings(session, status=400, error=error.value)
        self._forget_organization()   # the other copies hear OrganizationChanged
        return web.redirect(f"/staff/settings?notice={part}")

    @http("GET", "/staff/team")
    @signed_in("staff", "staff.admin")
    def team(self, request, session):
        return self._team(request, session, notice=request.args.get("notice", ""))

    @http("POST", "/staff/team")
    @signed_in("staff", "staff.admin")
    def add_staff(self, request, session):
        form = fields(request.form)
        payload = {"email": form.get("email", ""), "name": form.get("name", ""),
                   "role": form.get("role", ""), "location_ids": request.form.getlist("location_ids")}
        try:
            self.clients.create_staff(actor=actor_of(session, request), payload=payload)
        except RemoteError as error:
            if error.exc_type != "InvalidInput":
                raise
            return self._team(request, session, status=400, error=error.value)
        return web.redirect("/staff/team?notice=added")

    def _settings(self, session, status=200, **context):
        return web.page("staff/settings.html", status=status, session=session,
                        organization=self._organization(), **context)

    def _team(self, request, session, status=200, **context):
        return web.page("staff/team.html", status=status, session=session, roles=ROLES,
                        staff=self.clients.list_staff(actor=actor_of(session, request)),
                        locations=self._organization()["locations"], **context)
