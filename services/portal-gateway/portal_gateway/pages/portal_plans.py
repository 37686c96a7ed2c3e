"""The portal's payment plans: the patient sees a plan (status, next charge,
schedule), reads the agreement, types their name and authorizes autopay
with their default card or bank account on file, once."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.errors import InvalidFields

from portal_gateway import web
from portal_gateway.access import client_ip, signed_in

NOT_FOUND = "That payment plan was not found."


class PortalPlanPages:

    @http("GET", "/portal/billing/plans/<plan_id>")
    @signed_in("portal")
    def portal_plan(self, request, session, plan_id):
        return self._portal_plan(request, session, plan_id, notice=request.args.get("notice", ""))

    @http("POST", "/portal/billing/plans/<plan_id>/sign")
    @signed_in("portal")
    def portal_sign_plan(self, request, session, plan_id):
        client_id = session["acting_for"]
        methods = self.payments.payment_form_context(client_id)["methods"]
        default = next((m for m in methods if m["is_default"]), None)
        signer = {"typed_name": request.form.get("typed_name", ""), "ip": client_ip(request),
                  "user_agent": request.headers.get("User-Agent", "")[:300]}
        errors = {}
        if request.form.get("agree") != "yes":
            errors["agree"] = "Tick the box to agree to the plan and its automatic payments."
        try:
            if not errors:
                self.invoicing.sign_plan(plan_id, signer, default["id"] if default else None,
                                         client_id)
        except InvalidFields as problems:
            errors = problems.errors
        except RemoteError as error:
            if error.exc_type != "Conflict":      # another client's: 404, audited (issue 9)
                return self._portal_refused(request, session, error, "financial.read", NOT_FOUND)
            errors = {"form": error.value}       # signed already (a second click), or cancelled
        if errors:
            return self._portal_plan(request, session, plan_id, errors=errors,
                                     typed_name=signer["typed_name"], status=400)
        return web.redirect(f"/portal/billing/plans/{plan_id}?notice=signed")

    def _portal_plan(self, request, session, plan_id, errors=None, typed_name="", notice="",
                     status=200):
        client_id = session["acting_for"]
        context = self.payments.payment_form_context.call_async(client_id)
        try:
            plan = self.invoicing.get_plan(plan_id, client_id)
        except RemoteError as error:      # another client's: 404, audited (issue 9)
            context.result()
            return self._portal_refused(request, session, error, "financial.read", NOT_FOUND)
        methods = context.result()["methods"]
        return web.page("portal/plan.html", status=status, session=session, plan=plan,
                        default=next((m for m in methods if m["is_default"]), None),
                        errors=errors or {}, typed_name=typed_name, notice=notice,
                        organization=self._organization())
