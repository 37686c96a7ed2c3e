"""The portal's Estimates area: the estimates sent to the client the session
acts for, each with everything a Good Faith Estimate says (provider,
facility, services, diagnoses, the CMS notice and disclaimer), approve or
decline signed with a typed name (kept with the time and the address it came
from), and the PDF. Another client's estimate, or a draft, is "not found"."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.errors import InvalidFields

from portal_gateway import estimate_forms, web
from portal_gateway.access import actor_of, client_ip, signed_in
from portal_gateway.pages.statements import pdf_response

NOT_FOUND = "That estimate was not found."


class PortalEstimatePages:

    @http("GET", "/portal/estimates")
    @signed_in("portal")
    def portal_estimates(self, request, session):
        estimates = self.invoicing.list_estimates(session["acting_for"])
        return web.page("portal/estimates.html", session=session,
                        organization=self._organization(),
                        estimates=[e for e in estimates if e["status"] != "draft"])

    @http("GET", "/portal/estimates/<estimate_id>")
    @signed_in("portal")
    def portal_estimate(self, request, session, estimate_id):
        return self._portal_estimate(request, session, estimate_id,
                                     notice=request.args.get("notice", ""))

    @http("POST", "/portal/estimates/<estimate_id>/decision")
    @signed_in("portal")
    def portal_decide_estimate(self, request, session, estimate_id):
        signer = estimate_forms.signer(request.form, client_ip(request),
                                       request.headers.get("User-Agent", ""))
        account = {"id": session["subject_id"], "client_id": session["acting_for"]}
        decision = request.form.get("decision", "")
        try:
            estimate = self.invoicing.decide_estimate(estimate_id, decision, signer, account)
        except InvalidFields as refused:
            return self._portal_estimate(request, session, estimate_id, errors=refused.errors,
                                         form=dict(request.form.items()), status=400)
        return web.redirect(f"/portal/estimates/{estimate_id}?notice={estimate['status']}")

    @http("GET", "/portal/estimates/<estimate_id>/pdf")
    @signed_in("portal")
    def portal_estimate_pdf(self, request, session, estimate_id):
        try:
            reply = self.invoicing.estimate_pdf(estimate_id, session["acting_for"])
        except RemoteError as error:      # another client's or a draft: 404, audited (issue 9)
            return self._portal_refused(request, session, error, "estimate.read", NOT_FOUND)
        self.clients.record_access(actor_of(session, request), "estimate.read", session["acting_for"])
        return pdf_response(reply)

    def _portal_estimate(self, request, session, estimate_id, notice="", errors=None, form=None,
                         status=200):
        try:
            estimate = self.invoicing.get_estimate(estimate_id)
        except RemoteError as error:
            return self._portal_refused(request, session, error, "estimate.read", NOT_FOUND)
        if estimate["client_id"] != session["acting_for"] or estimate["status"] == "draft":
            # another client's (or not sent yet): 404, audited (issue 9)
            return self._portal_not_found(request, session, "estimate.read", NOT_FOUND)
        return web.page("portal/estimate.html", status=status, session=session,
                        organization=self._organization(), estimate=estimate,
                        location=self._location(estimate["location_id"]), notice=notice,
                        errors=errors or {}, form=form or {})
