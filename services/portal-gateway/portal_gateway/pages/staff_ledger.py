"""Staff pages of the ledger: an adjustment, a write-off (confirmed first) or
a credit note on an invoice, and credit on the account applied to an
invoice. Each form carries a request key, so posting it twice (a double
click, a reload) changes nothing more. Errors come back next to their
fields, all at once."""
from __future__ import annotations

import secrets

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.errors import InvalidInput

from portal_gateway import web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.forms import MONEY

# (value on the form, kind for invoicing, sign, words on the form): invoicing takes
# an adjustment signed, a write-off or credit note as the amount taken off
CHOICES = [("increase", "adjustment", 1, "Adjustment: increase what is owed"),
           ("decrease", "adjustment", -1, "Adjustment: decrease what is owed"),
           ("write_off", "write_off", 1, "Write-off (cannot be collected)"),
           ("credit_note", "credit_note", 1, "Credit note (what was paid over goes to the account's credit)")]
NEEDS_REFUND_RIGHT = ("write_off", "credit_note")
NOTICE = {"adjustment": "adjusted", "write_off": "written-off", "credit_note": "credit-noted"}


def amount_of(text: str, errors: dict, required: bool = True) -> int | None:
    match = MONEY.match(text or "")
    if not (text or "").strip() and not required:
        return None
    if not match:
        errors["amount"] = "Enter an amount like 25.00."
        return None
    whole, fraction = match.groups()
    return int(whole) * 100 + int((fraction or "0").ljust(2, "0"))


def adjustment_form(form, session) -> tuple[dict, dict, dict | None]:
    """(what was typed, errors, payload for invoicing)."""
    kept = {key: form.get(key, "").strip() for key in ("invoice", "choice", "amount", "reason",
                                                        "request_key", "confirmed")}
    errors: dict[str, str] = {}
    if not kept["invoice"]:
        errors["invoice"] = "Choose the invoice."
    choice = next((c for c in CHOICES if c[0] == kept["choice"]), None)
    if choice is None:
        errors["choice"] = "Choose what to do: an adjustment, a write-off or a credit note."
    elif choice[0] in NEEDS_REFUND_RIGHT and "payments.refund" not in session["permissions"]:
        errors["choice"] = "Your role cannot write off or issue credit notes. Ask a biller."
    amount = amount_of(kept["amount"], errors)
    if amount == 0:
        errors["amount"] = "Enter an amount over $0.00."
    if not kept["reason"]:
        errors["reason"] = "Enter the reason (the ledger keeps it)."
    if errors:
        return kept, errors, None
    return kept, errors, {"kind": choice[1], "amount": choice[2] * amount,
                          "reason": kept["reason"], "request_key": kept["request_key"]}


FIELDS = {"kind": "choice", "amount": "amount", "reason": "reason", "form": "form",
          "invoice": "invoice"}


def field_errors(error: RemoteError) -> dict | None:
    """What invoicing refused, by form field (None: not the person's to fix)."""
    errors = getattr(error, "errors", None)
    if errors:
        return {FIELDS.get(name, "form"): message for name, message in errors.items()}
    known = web.expected_error(error) if isinstance(error, RemoteError) else None
    if known and known[0] in (400, 409):
        return {"form": known[1]}
    return None


class StaffLedgerPages:

    @http("GET", "/staff/clients/<client_id>/adjustments/new")
    @signed_in("staff", "billing.write")
    def new_adjustment(self, request, session, client_id):
        return self._adjustment_page(request, session, client_id,
                                     {"invoice": request.args.get("invoice", "")})

    @http("POST", "/staff/clients/<client_id>/adjustments")
    @signed_in("staff", "billing.write")
    def add_adjustment(self, request, session, client_id):
        form, errors, payload = adjustment_form(request.form, session)
        if errors:
            return self._adjustment_page(request, session, client_id, form, errors, 400)
        if payload["kind"] == "write_off" and form["confirmed"] != "yes":
            return self._adjustment_page(request, session, client_id, form,
                                         confirm=abs(payload["amount"]))
        try:
            self.invoicing.adjust_invoice(form["invoice"], {**payload, "client_id": client_id},
                                          session["subject_id"])
        except (RemoteError, InvalidInput) as error:     # InvalidFields crosses RPC as itself
            refused = field_errors(error)
            if refused is None:
                raise
            return self._adjustment_page(request, session, client_id, form, refused, 400)
        self.clients.record_access(actor_of(session, request), f"invoice.{payload['kind']}",
                                   client_id)
        return web.redirect(f"/staff/clients/{client_id}/financial?notice={NOTICE[payload['kind']]}")

    @http("GET", "/staff/clients/<client_id>/credit")
    @signed_in("staff", "billing.write")
    def credit_page(self, request, session, client_id):
        return self._credit_page(request, session, client_id,
                                 {"invoice": request.args.get("invoice", "")})

    @http("POST", "/staff/clients/<client_id>/credit")
    @signed_in("staff", "billing.write")
    def apply_credit(self, request, session, client_id):
        form = {key: request.form.get(key, "").strip() for key in ("invoice", "amount",
                                                                   "request_key")}
        errors: dict[str, str] = {}
        if not form["invoice"]:
            errors["invoice"] = "Choose the invoice to pay from the credit."
        amount = amount_of(form["amount"], errors, required=False)
        if errors:
            return self._credit_page(request, session, client_id, form, errors, 400)
        try:
            self.invoicing.apply_credit(client_id, form["invoice"], amount, session["subject_id"],
                                        form["request_key"])
        except (RemoteError, InvalidInput) as error:
            refused = field_errors(error)
            if refused is None:
                raise
            return self._credit_page(request, session, client_id, form, refused, 400)
        self.clients.record_access(actor_of(session, request), "invoice.apply_credit", client_id)
        return web.redirect(f"/staff/clients/{client_id}/financial?notice=credit-applied")

    def _adjustment_page(self, request, session, client_id, form, errors=None, status=200,
                         confirm=0):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        invoices = [i for i in self.invoicing.list_invoices(client_id) if i["status"] != "void"]
        choices = [c for c in CHOICES if c[0] not in NEEDS_REFUND_RIGHT
                   or "payments.refund" in session["permissions"]]
        chosen = next((i for i in invoices if i["id"] == form.get("invoice")), None)
        return web.page("staff/adjustment.html", status=status, session=session,
                        client=client.result(), invoices=invoices, choices=choices, form=form,
                        errors=errors or {}, confirm=confirm, chosen=chosen,
                        request_key=form.get("request_key") or secrets.token_urlsafe(18))

    def _credit_page(self, request, session, client_id, form, errors=None, status=200):
        client = self.clients.get_client.call_async(client_id, actor_of(session, request))
        summary = self.invoicing.financial_summary(client_id)
        invoices = [i for i in reversed(summary["invoices"])
                    if i["status"] in ("draft", "sent", "partially_paid") and i["available"] > 0]
        return web.page("staff/credit_apply.html", status=status, session=session,
                        client=client.result(), credit=summary["credit"], invoices=invoices,
                        form=form, errors=errors or {},
                        request_key=form.get("request_key") or secrets.token_urlsafe(18))
