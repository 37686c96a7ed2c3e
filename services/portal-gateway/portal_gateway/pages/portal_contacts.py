"""The portal's Contacts and Insurance pages (walkthrough steps 8 and 9).

Contacts: Add New Contact at the top right, the current contacts with Edit
and Inactivate, inactive ones apart. A contact added or edited with "Ask for
a release of information" asks the documents service for the release
consent (naming the contact), notes it on the contact (pending) and sends
the person straight to its signature page.

Insurance: the client's policies and the large yellow Add Insurance button,
which opens a dialog (a link to /portal/insurance/new without JavaScript).

Only for the client, a guardian or a responsible party ("full" scope): a
third-party contact signed in on a release sees neither. Another client's
contact id is "not found", and the refusal is audited."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit import clock
from servicekit.errors import CairnError, InvalidFields

from portal_gateway import contact_forms, web
from portal_gateway.access import actor_of, signed_in

RELEASE_TEMPLATE = "release"   # the documents service's release consent
CONTACT_NOT_FOUND = "We could not find that contact."
CLIENT_ONLY = ("This page is for the client and their family. Ask the client or the clinic if you "
               "need something changed.")
NOTICES = {"added": "Contact added.", "saved": "Contact saved.",
           "inactivated": "Contact inactivated. It stays on file, listed under Inactive contacts.",
           "release-failed": "The contact was saved, but the release of information could not be "
                             "asked for just now. Open Edit and try again in a minute.",
           "insurance-added": "Insurance saved. The clinic can see it now."}


def _refused(error) -> bool:
    """An InvalidInput from the clients service (a field it refused)."""
    return isinstance(error, RemoteError) and error.exc_type == "InvalidInput"


class PortalContactPages:

    # ---- contacts ---------------------------------------------------------------
    @http("GET", "/portal/contacts")
    @signed_in("portal")
    def portal_contacts(self, request, session):
        if not self._full_scope(session):
            return self._client_only(session)
        contacts = self.clients.list_contacts(session["acting_for"], actor_of(session, request))
        return web.page("portal/contacts.html", session=session, organization=self._organization(),
                        active=[c for c in contacts if c["active"]],
                        inactive=[c for c in contacts if not c["active"]],
                        notice=NOTICES.get(request.args.get("notice", ""), ""))

    @http("GET", "/portal/contacts/new")
    @signed_in("portal")
    def portal_new_contact(self, request, session):
        if not self._full_scope(session):
            return self._client_only(session)
        return self._contact_form(session, None, {"may_receive": "billing"}, {})

    @http("POST", "/portal/contacts")
    @signed_in("portal")
    def portal_add_contact(self, request, session):
        if not self._full_scope(session):
            return self._client_only(session)
        actor = actor_of(session, request)
        payload = contact_forms.contact_payload(request.form, clock.today())
        errors = contact_forms.missing(payload, contact_forms.CONTACT_REQUIRED,
                                       contact_forms.CONTACT_WORDS)
        if errors:
            return self._contact_form(session, None, request.form, errors, status=400)
        try:
            contact = self.clients.add_contact(session["acting_for"], payload, actor)
        except (RemoteError, InvalidFields) as error:
            if not (_refused(error) or isinstance(error, InvalidFields)):
                raise
            return self._contact_form(session, None, request.form,
                                      contact_forms.field_errors(error, contact_forms.CONTACT_WORDS),
                                      status=400)
        return self._after_save(request, session, actor, contact, "added")

    @http("GET", "/portal/contacts/<contact_id>/edit")
    @signed_in("portal")
    def portal_edit_contact(self, request, session, contact_id):
        contact = self._own_contact(request, session, contact_id)
        if contact is None or not contact["active"]:
            return self._not_found(session)
        return self._contact_form(session, contact, contact, {})

    @http("POST", "/portal/contacts/<contact_id>/edit")
    @signed_in("portal")
    def portal_update_contact(self, request, session, contact_id):
        contact = self._own_contact(request, session, contact_id)
        if contact is None or not contact["active"]:
            return self._not_found(session)
        actor = actor_of(session, request)
        payload = contact_forms.contact_payload(request.form, clock.today(), existing=contact)
        errors = contact_forms.missing(payload, contact_forms.CONTACT_REQUIRED,
                                       contact_forms.CONTACT_WORDS)
        if errors:
            return self._contact_form(session, contact, request.form, errors, status=400)
        try:
            saved = self.clients.update_contact(contact["id"], payload, actor)
        except (RemoteError, InvalidFields) as error:
            if not (_refused(error) or isinstance(error, InvalidFields)):
                raise
            return self._contact_form(session, contact, request.form,
                                      contact_forms.field_errors(error, contact_forms.CONTACT_WORDS),
                                      status=400)
        return self._after_save(request, session, actor, saved, "saved")

    @http("GET", "/portal/contacts/<contact_id>/inactivate")
    @signed_in("portal")
    def portal_confirm_inactivate(self, request, session, contact_id):
        contact = self._own_contact(request, session, contact_id)
        if contact is None or not contact["active"]:
            return self._not_found(session)
        return web.page("portal/contact_inactivate.html", session=session,
                        organization=self._organization(), contact=contact)

    @http("POST", "/portal/contacts/<contact_id>/inactivate")
    @signed_in("portal")
    def portal_inactivate_contact(self, request, session, contact_id):
        contact = self._own_contact(request, session, contact_id)
        if contact is None:
            return self._not_found(session)
        self.clients.inactivate_contact(contact["id"], actor_of(session, request))
        return web.redirect("/portal/contacts?notice=inactivated")

    # ---- insurance --------------------------------------------------------------
    @http("GET", "/portal/insurance")
    @signed_in("portal")
    def portal_insurance(self, request, session):
        if not self._full_scope(session):
            return self._client_only(session)
        return self._insurance_page(request, session, notice=request.args.get("notice", ""))

    @http("GET", "/portal/insurance/new")
    @signed_in("portal")
    def portal_new_insurance(self, request, session):
        if not self._full_scope(session):
            return self._client_only(session)
        return web.page("portal/insurance_new.html", session=session,
                        organization=self._organization(), form={}, errors={})

    @http("POST", "/portal/insurance")
    @signed_in("portal")
    def portal_add_insurance(self, request, session):
        if not self._full_scope(session):
            return self._client_only(session)
        payload = contact_forms.policy_payload(request.form)
        errors = contact_forms.missing(payload, contact_forms.POLICY_REQUIRED,
                                       contact_forms.POLICY_WORDS)
        if not errors:
            try:
                self.clients.add_insurance(session["acting_for"], payload, actor_of(session, request))
                return web.redirect("/portal/insurance?notice=insurance-added")
            except (RemoteError, InvalidFields) as error:
                if not (_refused(error) or isinstance(error, InvalidFields)):
                    raise
                errors = contact_forms.field_errors(error, contact_forms.POLICY_WORDS)
        form = dict(request.form.items())
        if request.form.get("via") == "dialog":     # opened by the button's script
            return self._insurance_page(request, session, form=form, errors=errors, status=400)
        return web.page("portal/insurance_new.html", status=400, session=session,
                        organization=self._organization(), form=form, errors=errors)

    # ---- staff: portal access for a contact with an active release --------------
    @http("POST", "/staff/clients/<client_id>/contacts/<contact_id>/invite")
    @signed_in("staff", "portal.invite")
    def staff_invite_contact(self, request, session, client_id, contact_id):
        actor = actor_of(session, request)
        record = self.clients.client_record(client_id, actor)
        if contact_id not in {c["id"] for c in record["contacts"]}:
            self.clients.record_access(actor, "denied:contact", client_id, outcome="denied")
            return web.error_page(404, CONTACT_NOT_FOUND, session=session, area="staff")
        try:
            self.clients.invite_contact_to_portal(contact_id, actor)
        except RemoteError as error:
            if error.exc_type not in ("InvalidInput", "Conflict"):
                raise
            return web.page("staff/client.html", status=409, session=session,
                            client=record["client"], contacts=record["contacts"],
                            policies=record["insurance"], tab="contacts", error=error.value)
        return web.redirect(f"/staff/clients/{client_id}/contacts?notice=contact-invited")

    # ---- helpers ----------------------------------------------------------------
    def _full_scope(self, session) -> bool:
        """The client, a guardian or a responsible party; not a third-party
        contact signed in on a release."""
        for client in session.get("clients", ()):
            if client["id"] == session.get("acting_for"):
                return client.get("scope", "full") == "full"
        return False

    def _client_only(self, session):
        return web.error_page(403, CLIENT_ONLY, session=session, area="portal")

    def _not_found(self, session):
        return web.error_page(404, CONTACT_NOT_FOUND, session=session, area="portal")

    def _own_contact(self, request, session, contact_id) -> dict | None:
        """One of the acting-for client's contacts; anything else (another
        client's id, a made-up one) is audited as refused and is None."""
        if not self._full_scope(session):
            return None
        actor = actor_of(session, request)
        for contact in self.clients.list_contacts(session["acting_for"], actor):
            if contact["id"] == contact_id:
                return contact
        self.clients.record_access(actor, "denied:contact", session["acting_for"], outcome="denied")
        return None

    def _contact_form(self, session, contact, form, errors, status=200):
        return web.page("portal/contact_form.html", status=status, session=session,
                        organization=self._organization(), contact=contact, form=form,
                        errors=errors, may_receive=contact_forms.MAY_RECEIVE,
                        request_key=form.get("request_key") or secrets.token_urlsafe(18))

    def _after_save(self, request, session, actor, contact, notice):
        """With "Ask for a release of information" ticked: the consent, named
        for this contact, then its signature page; else the list."""
        if request.form.get("release") != "yes":
            return web.redirect(f"/portal/contacts?notice={notice}")
        by = {"kind": "portal", "id": session["subject_id"], "name": session.get("name", "")}
        key = (request.form.get("request_key") or "").strip()[:80] or secrets.token_urlsafe(18)
        try:
            consent = self.documents.request_consent(
                session["acting_for"], RELEASE_TEMPLATE, by, f"release:{contact['id']}:{key}",
                contact={"id": contact["id"], "name": contact["name"],
                         "may_receive": contact["may_receive"], "until": contact["roi_end"]})
            self.clients.mark_release_requested(contact["id"], consent["id"], actor)
        except (RemoteError, CairnError):
            return web.redirect("/portal/contacts?notice=release-failed")
        return web.redirect(f"/portal/documents/consents/{consent['id']}")

    def _insurance_page(self, request, session, form=None, errors=None, status=200, notice=""):
        policies = self.clients.list_insurance(session["acting_for"], actor_of(session, request))
        return web.page("portal/insurance.html", status=status, session=session,
                        organization=self._organization(), policies=policies,
                        form=form or {}, errors=errors or {},
                        notice=NOTICES.get(notice, ""), dialog_open=bool(errors))
