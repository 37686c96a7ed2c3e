"""Staff pages for client records: the client list, client / inquiry /
account profiles, third-party contacts, insurance and portal access. The
clients service checks permissions again and writes the audit log."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from portal_gateway import web
from portal_gateway.access import actor_of, signed_in

KINDS = [("client", "Client"), ("inquiry", "Inquiry"), ("account", "Account (guarantor)")]


PER_PAGE = 50
# after a change, the profile tab it belongs to
TAB_OF_NOTICE = {"contact": "contacts", "insurance": "insurance", "invited": "portal"}


def page_number(raw) -> int:
    """A page number from the address or a form; anything odd is page 1."""
    try:
        number = int(str(raw or "1").strip())
    except ValueError:
        return 1
    return number if 1 <= number <= 100_000 else 1


def fields(form) -> dict:
    return {key: value.strip() for key, value in form.items() if key != "csrf"}


class StaffClientPages:

    @http("GET", "/staff")
    @signed_in("staff", "clients.read")
    def staff_home(self, request, session):
        return self._client_list(request, session, request.args.get("kind") or None, None,
                                 request.args.get("page"))

    @http("POST", "/staff")
    @signed_in("staff", "clients.read")
    def search_clients(self, request, session):
        """A search is posted, not put in the URL: a name in a URL ends up in
        browser history and server logs."""
        return self._client_list(request, session, request.form.get("kind") or None,
                                 request.form.get("q", "").strip() or None, request.form.get("page"))

    @http("GET", "/staff/clients/new")
    @signed_in("staff", "clients.write")
    def new_client(self, request, session):
        return web.page("staff/client_form.html", session=session, kinds=KINDS,
                        form={"kind": request.args.get("kind", "client")})

    @http("POST", "/staff/clients")
    @signed_in("staff", "clients.write")
    def create_client(self, request, session):
        try:
            client = self.clients.create_client(fields(request.form), actor_of(session, request))
        except RemoteError as error:
            return self._refused(error, "staff/client_form.html", session, kinds=KINDS,
                                 form=fields(request.form))
        return web.redirect(f"/staff/clients/{client['id']}")

    @http("GET", "/staff/clients/<client_id>")
    @signed_in("staff", "clients.read")
    def client_profile(self, request, session, client_id):
        return self._profile(request, session, client_id, notice=request.args.get("notice", ""))

    # ---- profile tabs: each a server-rendered page of the same record (1 RPC) ----
    @http("GET", "/staff/clients/<client_id>/contacts")
    @signed_in("staff", "clients.read")
    def client_contacts(self, request, session, client_id):
        return self._profile(request, session, client_id, tab="contacts",
                             notice=request.args.get("notice", ""))

    @http("GET", "/staff/clients/<client_id>/insurance")
    @signed_in("staff", "clients.read")
    def client_insurance(self, request, session, client_id):
        return self._profile(request, session, client_id, tab="insurance",
                             notice=request.args.get("notice", ""))

    @http("GET", "/staff/clients/<client_id>/portal")
    @signed_in("staff", "portal.invite")
    def client_portal_access(self, request, session, client_id):
        return self._profile(request, session, client_id, tab="portal",
                             notice=request.args.get("notice", ""))

    @http("GET", "/staff/clients/<client_id>/edit")
    @signed_in("staff", "clients.write")
    def edit_client(self, request, session, client_id):
        client = self.clients.get_client(client_id, actor_of(session, request))
        return web.page("staff/client_form.html", session=session, kinds=KINDS, client=client, form=client)

    @http("POST", "/staff/clients/<client_id>/edit")
    @signed_in("staff", "clients.write")
    def update_client(self, request, session, client_id):
        try:
            self.clients.update_client(client_id, fields(request.form), actor_of(session, request))
        except RemoteError as error:
            client = self.clients.get_client(client_id)
            return self._refused(error, "staff/client_form.html", session, kinds=KINDS, client=client,
                                 form=fields(request.form))
        return web.redirect(f"/staff/clients/{client_id}?notice=saved")

    @http("POST", "/staff/clients/<client_id>/convert")
    @signed_in("staff", "clients.write")
    def convert_inquiry(self, request, session, client_id):
        self.clients.convert_inquiry(client_id, actor_of(session, request))
        return web.redirect(f"/staff/clients/{client_id}?notice=converted")

    @http("POST", "/staff/clients/<client_id>/contacts")
    @signed_in("staff", "contacts.write")
    def add_contact(self, request, session, client_id):
        return self._change(request, session, client_id, "contact-added",
                            lambda actor: self.clients.add_contact(client_id, fields(request.form), actor))

    @http("POST", "/staff/clients/<client_id>/contacts/<contact_id>")
    @signed_in("staff", "contacts.write")
    def update_contact(self, request, session, client_id, contact_id):
        return self._change(request, session, client_id, "contact-saved",
                            lambda actor: self.clients.update_contact(contact_id, fields(request.form), actor))

    @http("POST", "/staff/clients/<client_id>/contacts/<contact_id>/inactivate")
    @signed_in("staff", "contacts.write")
    def inactivate_contact(self, request, session, client_id, contact_id):
        return self._change(request, session, client_id, "contact-inactivated",
                            lambda actor: self.clients.inactivate_contact(contact_id, actor))

    @http("POST", "/staff/clients/<client_id>/insurance")
    @signed_in("staff", "insurance.write")
    def add_insurance(self, request, session, client_id):
        return self._change(request, session, client_id, "insurance-added",
                            lambda actor: self.clients.add_insurance(client_id, fields(request.form), actor))

    @http("POST", "/staff/clients/<client_id>/invite")
    @signed_in("staff", "portal.invite")
    def invite(self, request, session, client_id):
        form = fields(request.form)
        return self._change(request, session, client_id, "invited",
                            lambda actor: self.clients.invite_to_portal(
                                client_id, form.get("email", ""), form.get("name", ""),
                                form.get("relationship", "self"), actor))

    def _client_list(self, request, session, kind, query, page):
        listing = self.clients.search_clients(actor=actor_of(session, request), kind=kind,
                                              query=query, page=page_number(page), per_page=PER_PAGE)
        return web.page("staff/clients.html", session=session, kinds=KINDS, kind=kind, q=query or "",
                        clients=listing["clients"], page=listing["page"],
                        has_next=listing["has_next"])

    def _change(self, request, session, client_id, notice, call):
        tab = TAB_OF_NOTICE.get(notice.split("-")[0], "details")
        try:
            call(actor_of(session, request))
        except RemoteError as error:
            if error.exc_type != "InvalidInput":
                raise
            return self._profile(request, session, client_id, status=400, error=error.value,
                                 form=fields(request.form), tab=tab)
        path = "" if tab == "details" else f"/{tab}"
        return web.redirect(f"/staff/clients/{client_id}{path}?notice={notice}")

    def _profile(self, request, session, client_id, status=200, **context):
        record = self.clients.client_record(client_id, actor_of(session, request))
        return web.page("staff/client.html", status=status, session=session, client=record["client"],
                        contacts=record["contacts"], policies=record["insurance"], **context)

    def _refused(self, error, template, session, **context):
        if error.exc_type != "InvalidInput":
            raise error
        return web.page(template, status=400, session=session, error=error.value, **context)
