"""The staff profile's Documents tab (documents.read; changes need
documents.write) and the resources settings (org.admin). Uploads from the
portal and from staff; forms and screenings assigned and their status — the
score, severity and the PHQ-9 item-9 flag only for clinical.read (a front
desk sees that a form was completed, not its answers); notes, assessments and
treatment plans shared to the portal (clinical.read / clinical.write);
consents requested from a template, or a release of information for one of
the client's contacts, their signed copies, and revoking a release (after a
confirmation page). Every id is asked for with the page's client: another
client's is a 404, audited."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError

from portal_gateway import documents_web as dw
from portal_gateway import web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.web import http

CLINICAL_KEYS = ("score", "severity", "severity_label", "flagged", "answers", "item9")
NOTE_KINDS = [("note", "Note"), ("assessment", "Assessment"), ("treatment_plan", "Treatment plan")]
NOTICES = {"uploaded": "File uploaded. The client sees it in the portal under Upload.",
           "assigned": "Form assigned. The client is told by email and sees it in the portal.",
           "shared": "Shared to the portal.", "unshared": "No longer shared to the portal.",
           "requested": "Consent requested. The client is told by email and signs in the portal.",
           "revoked": "Release revoked. The contact's access ended at once.",
           "resource-added": "Resource published in the portal.",
           "resource-removed": "Resource no longer shown in the portal.",
           "handbook": "Handbook saved. Patients download it from the portal home page."}
ITEM9_IDS = ("9", "q9", "item9", "item_9", "phq9_9")


def without_clinical(form: dict) -> dict:
    return {key: value for key, value in form.items() if key not in CLINICAL_KEYS}


def item9_answer(form: dict) -> str:
    """The words of the PHQ-9's item 9 answer (thoughts of self-harm)."""
    questions = form.get("questions") or []
    answers = form.get("answers") or {}
    question = next((q for q in questions if str(q.get("id")) in ITEM9_IDS), None)
    if question is None and len(questions) >= 9:
        question = questions[8]
    if question is None:
        return "above 0"
    given = str(answers.get(str(question["id"]), ""))
    for choice in question.get("choices") or []:
        if str(choice.get("value")) == given:
            return choice.get("label") or given
    return given or "above 0"


def form_fields(form, names) -> dict:
    return {name: (form.get(name) or "").strip() for name in names}


class StaffDocumentPages:

    # ---- the tab ----------------------------------------------------------------------
    @http("GET", "/staff/clients/<client_id>/documents")
    @signed_in("staff", "documents.read")
    def staff_documents(self, request, session, client_id):
        return self._doc_tab(request, session, client_id,
                                   notice=request.args.get("notice", ""))

    # ---- uploads ----------------------------------------------------------------------
    @http("POST", "/staff/clients/<client_id>/documents/upload")
    @dw.capped(dw.upload_limit)
    @signed_in("staff", "documents.write")
    def staff_upload(self, request, session, client_id):
        filename, content_b64, problem = dw.read_upload(request, "file",
                                                         dw.upload_max_bytes(self.settings))
        request_key = request.form.get("request_key", "")[:80]
        if problem:
            return self._doc_again(request, session, client_id, "upload",
                                         {"file": problem}, {"request_key": request_key})
        try:
            self.documents.upload(client_id, filename, content_b64, dw.by_of(session),
                                  request_key or None)
        except Exception as error:
            return self._doc_refused(request, session, client_id, "upload", error,
                                 {"request_key": request_key})
        return web.redirect(f"/staff/clients/{client_id}/documents?notice=uploaded#uploads")

    @http("GET", "/staff/clients/<client_id>/documents/uploads/<document_id>")
    @signed_in("staff", "documents.read")
    @dw.not_found_is_denied("staff")
    def staff_open_upload(self, request, session, client_id, document_id):
        return dw.audited_download(self, request, session,
                                   self.documents.open_document(document_id, client_id), client_id)

    # ---- forms and screenings ---------------------------------------------------------
    @http("POST", "/staff/clients/<client_id>/documents/forms")
    @signed_in("staff", "documents.write")
    def staff_assign_form(self, request, session, client_id):
        form = form_fields(request.form, ("form_key", "request_key"))
        if not form["form_key"]:
            return self._doc_again(request, session, client_id, "assign",
                                         {"form_key": "Choose the form or screening to send."}, form)
        try:
            self.documents.assign_form(client_id, form["form_key"], dw.by_of(session),
                                       form["request_key"] or None)
        except Exception as error:
            return self._doc_refused(request, session, client_id, "assign", error, form)
        return web.redirect(f"/staff/clients/{client_id}/documents?notice=assigned#forms")

    @http("GET", "/staff/clients/<client_id>/documents/forms/<assignment_id>")
    @signed_in("staff", "documents.read")
    @dw.not_found_is_denied("staff")
    def staff_form(self, request, session, client_id, assignment_id):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        form = self.documents.get_form(assignment_id, client_id)
        clinical = "clinical.read" in session["permissions"]
        if clinical and form.get("flagged"):
            form = {**form, "item9": item9_answer(form)}
        return web.page("staff/documents_form.html", session=session, client=client.result(),
                        form=form if clinical else without_clinical(form), clinical=clinical)

    # ---- shared notes -----------------------------------------------------------------
    @http("POST", "/staff/clients/<client_id>/documents/notes")
    @signed_in("staff", "clinical.write")
    def staff_share_note(self, request, session, client_id):
        form = form_fields(request.form, ("kind", "title", "body", "written_on", "author_name"))
        try:
            self.documents.share_note(client_id, form, dw.by_of(session))
        except Exception as error:
            return self._doc_refused(request, session, client_id, "note", error, form)
        return web.redirect(f"/staff/clients/{client_id}/documents?notice=shared#notes")

    @http("GET", "/staff/clients/<client_id>/documents/notes/<note_id>")
    @signed_in("staff", "clinical.read")
    @dw.not_found_is_denied("staff")
    def staff_note(self, request, session, client_id, note_id):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        note = self.documents.get_shared_note(note_id, client_id)
        return web.page("staff/documents_note.html", session=session, client=client.result(),
                        note=note, kinds=dict(NOTE_KINDS))

    @http("POST", "/staff/clients/<client_id>/documents/notes/<note_id>/unshare")
    @signed_in("staff", "clinical.write")
    @dw.not_found_is_denied("staff")
    def staff_unshare_note(self, request, session, client_id, note_id):
        self.documents.get_shared_note(note_id, client_id)   # this client's, or 404
        self.documents.unshare_note(note_id, dw.by_of(session))
        return web.redirect(f"/staff/clients/{client_id}/documents?notice=unshared#notes")

    # ---- consents ---------------------------------------------------------------------
    @http("POST", "/staff/clients/<client_id>/documents/consents")
    @signed_in("staff", "documents.write")
    def staff_request_consent(self, request, session, client_id):
        form = form_fields(request.form, ("template_key", "contact_id", "request_key"))
        template = next((t for t in self._doc_consent_templates() if t["key"] == form["template_key"]),
                        None)
        if template is None:
            return self._doc_again(request, session, client_id, "consent",
                                         {"template_key": "Choose the consent to request."}, form)
        contact = None
        if template["kind"] == "release":
            contact, problem = self._doc_release_contact(request, session, client_id, form["contact_id"])
            if problem:
                return self._doc_again(request, session, client_id, "consent",
                                             {"contact_id": problem}, form)
        try:
            self.documents.request_consent(client_id, template["key"], dw.by_of(session),
                                           form["request_key"] or None, contact=contact)
        except Exception as error:
            return self._doc_refused(request, session, client_id, "consent", error, form)
        return web.redirect(f"/staff/clients/{client_id}/documents?notice=requested#consents")

    @http("GET", "/staff/clients/<client_id>/documents/consents/<consent_id>")
    @signed_in("staff", "documents.read")
    @dw.not_found_is_denied("staff")
    def staff_consent(self, request, session, client_id, consent_id):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        consent = self.documents.get_consent(consent_id, client_id)
        return web.page("staff/documents_consent.html", session=session, client=client.result(),
                        consent=consent)

    @http("GET", "/staff/clients/<client_id>/documents/consents/<consent_id>/signed.pdf")
    @signed_in("staff", "documents.read")
    @dw.not_found_is_denied("staff")
    def staff_signed_consent(self, request, session, client_id, consent_id):
        return dw.audited_download(self, request, session,
                                   self.documents.open_signed_consent(consent_id, client_id),
                                   client_id)

    @http("GET", "/staff/clients/<client_id>/documents/consents/<consent_id>/revoke")
    @signed_in("staff", "documents.write")
    @dw.not_found_is_denied("staff")
    def staff_confirm_revoke(self, request, session, client_id, consent_id):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        consent = self.documents.get_consent(consent_id, client_id)
        if consent["kind"] != "release" or consent["status"] == "revoked":
            client.result()
            return web.redirect(f"/staff/clients/{client_id}/documents#consents")
        return web.page("staff/documents_revoke.html", session=session, client=client.result(),
                        consent=consent)

    @http("POST", "/staff/clients/<client_id>/documents/consents/<consent_id>/revoke")
    @signed_in("staff", "documents.write")
    @dw.not_found_is_denied("staff")
    def staff_revoke(self, request, session, client_id, consent_id):
        try:   # scoped to the page's client: another client's consent is not found
            self.documents.revoke_consent(consent_id, client_id, dw.by_of(session))
        except RemoteError as error:
            if error.exc_type != "Conflict":
                raise
            return web.error_page(409, error.value, session=session, area="staff")
        return web.redirect(f"/staff/clients/{client_id}/documents?notice=revoked#consents")

    # ---- the pieces -------------------------------------------------------------------
    def _doc_consent_templates(self) -> list:
        return self.reference_cache.get_or_load("consent_templates",
                                                self.documents.list_consent_templates)

    def _doc_release_contact(self, request, session, client_id, contact_id):
        """(the contact a release covers, as documents wants it, None) or (None, words)."""
        if not contact_id:
            return None, "Choose the contact this release covers."
        contacts = self.clients.list_contacts(client_id, actor_of(session, request))
        found = next((c for c in contacts if c["id"] == contact_id and c.get("active", True)), None)
        if found is None:
            return None, "Choose one of this client's active contacts."
        if found.get("may_receive") not in ("billing", "billing_and_clinical"):
            return None, (f"Set what {found['name']} may receive (billing, or billing and clinical) "
                          "on the Contacts tab first.")
        return {"id": found["id"], "name": found["name"], "may_receive": found["may_receive"],
                "until": found.get("roi_end")}, None

    def _doc_refused(self, request, session, client_id, part, error, form):
        errors = dw.field_errors(error)
        if errors is None:
            if isinstance(error, RemoteError) and error.exc_type == "Conflict":
                errors = {"form": error.value}
            else:
                raise error
        return self._doc_again(request, session, client_id, part, errors, form)

    def _doc_again(self, request, session, client_id, part, errors, form):
        return self._doc_tab(request, session, client_id, status=400,
                                   errors={part: errors}, forms_typed={part: form})

    def _doc_tab(self, request, session, client_id, status=200, notice="", errors=None,
                       forms_typed=None):
        """Who, and everything the documents service keeps of them, asked at
        once (the clients service audits the read)."""
        clinical = "clinical.read" in session["permissions"]
        record = self.clients.client_record.call_async(client_id, actor_of(session, request))
        overview = self.documents.client_overview(client_id, clinical)
        record = record.result()
        forms = overview["forms"]
        if clinical:
            # the item-9 answer of a flagged PHQ-9 (thoughts of self-harm), in words
            forms = [{**f, "item9": item9_answer(f["detail"])} if f.get("flagged") else f
                     for f in forms]
        else:
            forms = [without_clinical(f) for f in forms]
        typed = forms_typed or {}
        keys = {part: (typed.get(part) or {}).get("request_key") or secrets.token_urlsafe(18)
                for part in ("upload", "assign", "consent")}
        return web.page("staff/documents.html", status=status, session=session,
                        client=record["client"],
                        contacts=[c for c in record["contacts"] if c.get("active", True)],
                        uploads=overview["uploads"], forms=forms, consents=overview["consents"],
                        notes=overview["notes"], clinical=clinical,
                        form_templates=self._doc_form_templates(),
                        consent_templates=self._doc_consent_templates(), note_kinds=NOTE_KINDS,
                        notice=notice, notices=NOTICES, errors=errors or {}, typed=typed,
                        keys=keys, accept=dw.ALLOWED_UPLOADS)


class ResourceSettingsPages:
    """/staff/settings/resources (org.admin): resources the portal shows
    (a link, a file, a survey to start) and the client handbook (PDF)."""

    @http("GET", "/staff/settings/resources")
    @signed_in("staff", "org.admin")
    def resources_settings(self, request, session):
        return self._doc_resources_page(session, notice=request.args.get("notice", ""))

    @http("POST", "/staff/settings/resources")
    @dw.capped(dw.upload_limit)
    @signed_in("staff", "org.admin")
    def add_resource(self, request, session):
        form = form_fields(request.form, ("kind", "title", "description", "url", "form_key"))
        payload = {key: form[key] for key in ("kind", "title", "description")}
        if form["kind"] == "link":
            payload["url"] = form["url"]
        elif form["kind"] == "survey":
            payload["form_key"] = form["form_key"]
        elif form["kind"] == "file":
            filename, content_b64, problem = dw.read_upload(request, "file",
                                                             dw.upload_max_bytes(self.settings))
            if problem:
                return self._doc_resources_page(session, status=400, errors={"file": problem},
                                            form=form)
            payload.update(filename=filename, content_b64=content_b64)
        try:
            self.documents.add_resource(payload, dw.by_of(session))
        except Exception as error:
            errors = dw.field_errors(error)
            if errors is None:
                raise
            return self._doc_resources_page(session, status=400, errors=errors, form=form)
        return web.redirect("/staff/settings/resources?notice=resource-added")

    @http("POST", "/staff/settings/resources/<resource_id>/remove")
    @signed_in("staff", "org.admin")
    def remove_resource(self, request, session, resource_id):
        self.documents.remove_resource(resource_id, dw.by_of(session))
        return web.redirect("/staff/settings/resources?notice=resource-removed")

    @http("POST", "/staff/settings/handbook")
    @dw.capped(dw.upload_limit)
    @signed_in("staff", "org.admin")
    def save_handbook(self, request, session):
        filename, content_b64, problem = dw.read_upload(request, "handbook",
                                                         dw.upload_max_bytes(self.settings))
        if problem:
            return self._doc_resources_page(session, status=400, errors={"handbook": problem})
        try:
            self.documents.set_handbook(filename, content_b64, dw.by_of(session))
        except Exception as error:
            errors = dw.field_errors(error)
            if errors is None:
                raise
            return self._doc_resources_page(session, status=400,
                                        errors={"handbook": " ".join(errors.values())})
        self._forget_organization()   # the portal home shows the handbook's link
        return web.redirect("/staff/settings/resources?notice=handbook")

    def _doc_resources_page(self, session, status=200, notice="", errors=None, form=None):
        handbook = self.documents.handbook.call_async()
        resources = self.documents.list_resources()
        return web.page("staff/resources.html", status=status, session=session,
                        resources=resources, handbook=handbook.result(),
                        form_templates=self._doc_form_templates(), notice=notice, notices=NOTICES,
                        errors=errors or {}, form=form or {"kind": "link"},
                        accept=dw.ALLOWED_UPLOADS)
