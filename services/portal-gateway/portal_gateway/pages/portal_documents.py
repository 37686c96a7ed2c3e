"""The portal's Documents area (seed step 6): Forms and Surveys, Additional
Surveys, Notes / Assessments / Treatment Plans, Consents (the red badge with
the number to sign), Resources and Upload. Every read and write names the
client the session acts for; the documents service answers NotFound for
anything of another client's, which becomes the same 404 as a missing id,
audited. A page asks documents for its own list and, in parallel, the
summary behind the sub-menu's badge (2 RPCs)."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError

from portal_gateway import documents_web as dw
from portal_gateway import web
from portal_gateway.access import client_ip, signed_in
from portal_gateway.web import http

MAX_SCORE = {"phq9": 27, "gad7": 21}
NOTE_KINDS = {"note": "Note", "assessment": "Assessment", "treatment_plan": "Treatment plan"}
NOTICES = {"uploaded": "Your file was uploaded. The clinic can see it now.",
           "signed": "Thank you. Your consent is signed and saved.",
           "revoked": "The release is revoked. That contact can no longer see your information.",
           "completed": "Thank you. Your answers are saved.",
           "already-completed": "This form was already completed; here are the answers you gave."}
ALREADY_SIGNED = "This consent is already signed."


def revocable(consent: dict) -> bool:
    """Only a release that is signed (or still waiting) can be revoked."""
    return consent.get("kind") == "release" and consent.get("status") in ("signed", "outstanding")


def may_see_consent(session: dict, consent: dict) -> bool:
    """A third-party contact does not see releases (other contacts' names,
    what each may receive): the session does not say which contact it is,
    so none of them (fail closed); the client or a guardian sees all."""
    return session.get("scope", "full") == "full" or consent.get("kind") != "release"


def as_seen_by(session: dict, consent: dict) -> dict:
    """What a consent shows: a contact is not shown where and on what the
    client signed (the signature's internet address and browser)."""
    if session.get("scope", "full") == "full" or not consent.get("signature"):
        return consent
    signature = {k: v for k, v in consent["signature"].items() if k not in ("ip", "user_agent")}
    return {**consent, "signature": signature}


def answers_of(form) -> dict:
    """The answers as posted: fields named a-<question id>."""
    return {name[2:]: value.strip() for name, value in form.items()
            if name.startswith("a-") and value.strip()}


class PortalDocumentPages:

    # ---- overview -----------------------------------------------------------------
    @http("GET", "/portal/documents")
    @signed_in("portal")
    def portal_documents(self, request, session):
        """What is waiting: the forms to fill in and the consents to sign (the
        two lists make the badge's count; no summary needed)."""
        client_id = session["acting_for"]
        forms = self.documents.list_forms.call_async(client_id)
        consents = [c for c in self.documents.list_consents(client_id) if c["status"] == "outstanding"]
        to_do = [f for f in forms.result() if f["status"] != "completed"]
        return self._doc_page("portal/documents.html", session, "overview",
                              {"consents_outstanding": len(consents),
                               "forms_outstanding": len(to_do)},
                              to_do=to_do, to_sign=consents)

    # ---- forms and surveys ----------------------------------------------------------
    @http("GET", "/portal/documents/forms")
    @signed_in("portal")
    def portal_forms(self, request, session):
        client_id = session["acting_for"]
        summary = self.documents.portal_summary.call_async(client_id)
        forms = self.documents.list_forms(client_id)
        return self._doc_page(
            "portal/documents_forms.html", session, "forms", summary.result(),
            to_do=[f for f in forms if f["status"] != "completed"],
            done=[f for f in forms if f["status"] == "completed"])

    @http("GET", "/portal/documents/forms/<assignment_id>")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_form(self, request, session, assignment_id):
        return self._doc_form_page(session, assignment_id, notice=request.args.get("notice", ""))

    @http("POST", "/portal/documents/forms/<assignment_id>")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    @dw.acts_for_the_client
    def portal_submit_form(self, request, session, assignment_id):
        answers = answers_of(request.form)
        try:
            self.documents.submit_form(assignment_id, session["acting_for"], answers,
                                       dw.by_of(session))
        except Exception as error:   # InvalidFields crosses RPC as itself
            if isinstance(error, RemoteError) and error.exc_type == "Conflict":
                return web.redirect(f"/portal/documents/forms/{assignment_id}?notice=already-completed")
            errors = dw.field_errors(error)
            if errors is None:
                raise
            return self._doc_form_page(session, assignment_id, errors=errors, answers=answers,
                                   status=400)
        return web.redirect(f"/portal/documents/forms/{assignment_id}?notice=completed")

    @http("GET", "/portal/documents/surveys")
    @signed_in("portal")
    def portal_surveys(self, request, session):
        summary = self.documents.portal_summary.call_async(session["acting_for"])
        surveys = [t for t in self._doc_form_templates() if t.get("self_start")]
        return self._doc_page("portal/documents_surveys.html", session, "surveys",
                                    summary.result(), surveys=surveys)

    @http("POST", "/portal/documents/surveys/<form_key>/start")
    @signed_in("portal")
    @dw.acts_for_the_client
    def portal_start_survey(self, request, session, form_key):
        assignment = self.documents.start_survey(session["acting_for"], form_key, dw.by_of(session))
        return web.redirect(f"/portal/documents/forms/{assignment['id']}")

    # ---- notes, assessments and treatment plans ---------------------------------------
    @http("GET", "/portal/documents/notes")
    @signed_in("portal")
    def portal_notes(self, request, session):
        client_id = session["acting_for"]
        summary = self.documents.portal_summary.call_async(client_id)
        notes = self.documents.list_shared_notes(client_id)
        return self._doc_page("portal/documents_notes.html", session, "notes",
                                    summary.result(), notes=notes, kinds=NOTE_KINDS)

    @http("GET", "/portal/documents/notes/<note_id>")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_note(self, request, session, note_id):
        client_id = session["acting_for"]
        summary = self.documents.portal_summary.call_async(client_id)
        note = self.documents.get_shared_note(note_id, client_id)
        return self._doc_page("portal/documents_note.html", session, "notes",
                                    summary.result(), note=note, kinds=NOTE_KINDS)

    # ---- consents -----------------------------------------------------------------------
    @http("GET", "/portal/documents/consents")
    @signed_in("portal")
    def portal_consents(self, request, session):
        consents = [c for c in self.documents.list_consents(session["acting_for"])
                    if may_see_consent(session, c)]
        outstanding = [c for c in consents if c["status"] == "outstanding"]
        summary = {"consents_outstanding": len(outstanding)}
        return self._doc_page("portal/documents_consents.html", session, "consents", summary,
                                    outstanding=outstanding,
                                    others=[c for c in consents if c["status"] != "outstanding"],
                                    notice=request.args.get("notice", ""))

    @http("GET", "/portal/documents/consents/<consent_id>")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_consent(self, request, session, consent_id):
        return self._doc_consent_page(request, session, consent_id)

    @http("POST", "/portal/documents/consents/<consent_id>")
    @dw.capped(dw.form_limit)
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    @dw.acts_for_the_client
    def portal_sign_consent(self, request, session, consent_id):
        signature = {"typed_name": " ".join(request.form.get("typed_name", "").split()),
                     "drawing": dw.drawing_of(request.form)}
        try:
            self.documents.sign_consent(consent_id, session["acting_for"], signature,
                                        dw.by_of(session), client_ip(request),
                                        request.headers.get("User-Agent", "")[:300])
        except Exception as error:
            if isinstance(error, RemoteError) and error.exc_type == "Conflict":
                return self._doc_already_signed(session, error.value)
            errors = dw.field_errors(error)
            if errors is None:
                raise
            return self._doc_consent_page(request, session, consent_id, errors=errors,
                                      typed_name=signature["typed_name"], status=400)
        return web.redirect("/portal/documents/consents?notice=signed")

    @http("GET", "/portal/documents/consents/<consent_id>/signed.pdf")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_signed_consent(self, request, session, consent_id):
        client_id = session["acting_for"]
        if not may_see_consent(session, self.documents.get_consent(consent_id, client_id)):
            return dw.deny(self, request, session, client_id, "portal")
        return dw.audited_download(self, request, session,
                                   self.documents.open_signed_consent(consent_id, client_id),
                                   client_id)

    @http("GET", "/portal/documents/consents/<consent_id>/revoke")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_confirm_revoke(self, request, session, consent_id):
        consent = self.documents.get_consent(consent_id, session["acting_for"])
        if not revocable(consent):
            return web.redirect(f"/portal/documents/consents/{consent_id}")
        return self._doc_page("portal/documents_revoke.html", session, "consents", None,
                                    consent=consent)

    @http("POST", "/portal/documents/consents/<consent_id>/revoke")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    @dw.acts_for_the_client
    def portal_revoke(self, request, session, consent_id):
        if not revocable(self.documents.get_consent(consent_id, session["acting_for"])):
            return web.error_page(404, dw.NOT_FOUND, session=session, area="portal")
        try:
            self.documents.revoke_consent(consent_id, session["acting_for"], dw.by_of(session))
        except RemoteError as error:
            if error.exc_type != "Conflict":
                raise
            return web.error_page(409, error.value, session=session, area="portal")
        return web.redirect("/portal/documents/consents?notice=revoked")

    # ---- resources --------------------------------------------------------------------
    @http("GET", "/portal/documents/resources")
    @signed_in("portal")
    def portal_resources(self, request, session):
        summary = self.documents.portal_summary.call_async(session["acting_for"])
        resources = self.documents.list_resources()
        return self._doc_page("portal/documents_resources.html", session, "resources",
                                    summary.result(), resources=resources)

    @http("GET", "/portal/documents/resources/<resource_id>")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_resource(self, request, session, resource_id):
        return dw.download(self.documents.open_resource(resource_id))

    # ---- upload -----------------------------------------------------------------------
    @http("GET", "/portal/documents/upload")
    @signed_in("portal")
    def portal_upload_page(self, request, session):
        return self._doc_upload_page(session, notice=request.args.get("notice", ""))

    @http("POST", "/portal/documents/upload")
    @dw.capped(dw.upload_limit)
    @signed_in("portal")
    @dw.acts_for_the_client
    def portal_upload(self, request, session):
        filename, content_b64, problem = dw.read_upload(request, "file",
                                                         dw.upload_max_bytes(self.settings))
        request_key = request.form.get("request_key", "")[:80]
        if problem:
            return self._doc_upload_page(session, errors={"file": problem}, request_key=request_key,
                                     status=400)
        try:
            self.documents.upload(session["acting_for"], filename, content_b64, dw.by_of(session),
                                  request_key or None)
        except Exception as error:
            errors = dw.field_errors(error)
            if errors is None:
                raise
            return self._doc_upload_page(session, errors=errors, request_key=request_key, status=400)
        return web.redirect("/portal/documents/upload?notice=uploaded")

    @http("GET", "/portal/documents/upload/<document_id>")
    @signed_in("portal")
    @dw.not_found_is_denied("portal")
    def portal_open_upload(self, request, session, document_id):
        client_id = session["acting_for"]
        return dw.audited_download(self, request, session,
                                   self.documents.open_document(document_id, client_id), client_id)

    # ---- the pieces -------------------------------------------------------------------
    def _doc_form_templates(self) -> list:
        return self.reference_cache.get_or_load("form_templates",
                                                self.documents.list_form_templates)

    def _doc_page(self, template, session, section, summary, status=200, **context):
        context.setdefault("notice", "")
        return web.page(template, status=status, session=session,
                        organization=self._organization(), section=section,
                        summary=summary or {}, notices=NOTICES,
                        may_act=session.get("scope", "full") == "full", **context)

    def _doc_form_page(self, session, assignment_id, errors=None, answers=None, notice="",
                   status=200):
        client_id = session["acting_for"]
        summary = self.documents.portal_summary.call_async(client_id)
        form = self.documents.get_form(assignment_id, client_id)
        shown = form.get("answers") or {} if form["status"] == "completed" else (answers or {})
        return self._doc_page("portal/documents_form.html", session, "forms",
                                    summary.result(), status=status, form=form, errors=errors or {},
                                    answers=shown, notice=notice,
                                    max_score=form.get("max_score") or MAX_SCORE.get(form["form_key"]))

    def _doc_consent_page(self, request, session, consent_id, errors=None, typed_name="", status=200):
        client_id = session["acting_for"]
        summary = self.documents.portal_summary.call_async(client_id)
        consent = self.documents.get_consent(consent_id, client_id)
        if not may_see_consent(session, consent):
            summary.result()
            return dw.deny(self, request, session, client_id, "portal")
        consent = as_seen_by(session, consent)
        return self._doc_page("portal/documents_consent.html", session, "consents",
                                    summary.result(), status=status, consent=consent,
                                    errors=errors or {}, typed_name=typed_name)

    def _doc_already_signed(self, session, message):
        return self._doc_page("portal/documents_already.html", session, "consents", None,
                                    status=409, message=message or ALREADY_SIGNED)

    def _doc_upload_page(self, session, errors=None, request_key="", notice="", status=200):
        client_id = session["acting_for"]
        summary = self.documents.portal_summary.call_async(client_id)
        uploads = self.documents.list_documents(client_id)
        return self._doc_page("portal/documents_upload.html", session, "upload",
                                    summary.result(), status=status, uploads=uploads,
                                    errors=errors or {}, notice=notice,
                                    request_key=request_key or secrets.token_urlsafe(18),
                                    accept=dw.ALLOWED_UPLOADS)
