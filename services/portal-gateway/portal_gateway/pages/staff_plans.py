"""Staff payment plan pages: set up a plan from a client's invoices with
balances (installments, how often, first date; a preview of the schedule;
every field's problem next to it), and a plan's page (status, the schedule
with each installment's state and attempts, next charge, cancel, try again)."""
from __future__ import annotations

from portal_gateway.web import http

from servicekit.errors import InvalidFields, InvalidInput

from portal_gateway import forms, web
from portal_gateway.access import actor_of, signed_in

FREQUENCIES = [("monthly", "Monthly"), ("biweekly", "Every two weeks"), ("weekly", "Weekly")]


def plan_form(form) -> dict:
    """What the plan form submitted, kept to show it again."""
    return {"invoices": form.getlist("invoice"), "installments": form.get("installments", "").strip(),
            "frequency": form.get("frequency", ""), "first_due_on": form.get("first_due_on", "").strip(),
            "amounts": form.get("amounts", "").strip()}


def typed_amounts(text: str) -> list[int] | None:
    """"100.00, 100.00, 50.00" → cents; empty: split evenly. InvalidInput if unreadable."""
    if not text:
        return None
    try:
        return [forms.cents(part.strip().lstrip("$"), "Each installment")
                for part in text.split(",")]
    except InvalidInput:
        raise InvalidInput("Enter the amounts like 100.00, 100.00, 50.00 (one per installment), "
                           "or leave this empty to split the balance evenly.") from None


def plan_payload(form: dict, client_id: str) -> dict:
    return {"client_id": client_id, "invoice_ids": form["invoices"],
            "installments": form["installments"], "frequency": form["frequency"],
            "first_due_on": form["first_due_on"], "amounts": typed_amounts(form["amounts"])}


class StaffPlanPages:

    @http("GET", "/staff/clients/<client_id>/plans/new")
    @signed_in("staff", "billing.write")
    def new_plan(self, request, session, client_id):
        return self._plan_form(request, session, client_id,
                               {"invoices": None, "installments": "3", "frequency": "monthly",
                                "first_due_on": "", "amounts": ""})

    @http("POST", "/staff/clients/<client_id>/plans")
    @signed_in("staff", "billing.write")
    def create_plan(self, request, session, client_id):
        form = plan_form(request.form)
        if request.form.get("action") == "preview":
            return self._plan_form(request, session, client_id, form, preview=True)
        try:
            payload = plan_payload(form, client_id)
        except InvalidInput as problem:
            return self._plan_form(request, session, client_id, form, {"amounts": str(problem)},
                                   status=400)
        try:
            plan = self.invoicing.create_plan(payload, session["subject_id"])
        except InvalidFields as problems:
            return self._plan_form(request, session, client_id, form, problems.errors, status=400)
        return web.redirect(f"/staff/plans/{plan['id']}?notice=created")

    @http("GET", "/staff/plans/<plan_id>")
    @signed_in("staff", "billing.read")
    def show_plan(self, request, session, plan_id):
        plan = self.invoicing.get_plan(plan_id)
        client = self.clients.get_client(plan["client_id"], actor_of(session, request), "financial.read")
        return web.page("staff/plan.html", session=session, plan=plan, client=client,
                        notice=request.args.get("notice", ""))

    @http("POST", "/staff/plans/<plan_id>/<action>")
    @signed_in("staff", "billing.write")
    def change_plan(self, request, session, plan_id, action):
        if action == "cancel":
            self.invoicing.cancel_plan(plan_id, session["subject_id"],
                                       request.form.get("reason", ""))
        elif action == "retry":
            self.invoicing.retry_plan(plan_id, session["subject_id"])
        else:
            return web.error_page(404, "That page was not found.", session=session, area="staff")
        return web.redirect(f"/staff/plans/{plan_id}?notice={action}")

    def _plan_form(self, request, session, client_id, form, errors=None, status=200,
                   preview=False):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        invoices = self.invoicing.list_payable_invoices(client_id, "autopay")
        if form["invoices"] is None:
            form["invoices"] = [i["id"] for i in invoices]
        chosen = set(form["invoices"])
        total = sum(i["balance"] for i in invoices if i["id"] in chosen)
        schedule = None
        if preview and not errors:
            try:
                schedule = self.invoicing.preview_plan(
                    {"total": total, "installments": form["installments"],
                     "frequency": form["frequency"], "first_due_on": form["first_due_on"],
                     "amounts": typed_amounts(form["amounts"])})
            except InvalidFields as problems:
                errors, status = problems.errors, 400
            except InvalidInput as problem:
                errors, status = {"amounts": str(problem)}, 400
        return web.page("staff/plan_form.html", status=status, session=session,
                        client=client.result(), invoices=invoices, chosen=chosen, form=form,
                        errors=errors or {}, total=total, schedule=schedule,
                        frequencies=FREQUENCIES)
