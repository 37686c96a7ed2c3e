"""The only HTTP ingress: staff pages, one-time payment pages, the portal,
Stripe webhooks and health. Stateless; every page asks the owning service."""
from __future__ import annotations

import functools
import json
import logging

from nameko.exceptions import RemoteError
from nameko.dependency_providers import Config
from nameko.rpc import RpcProxy
from nameko.web.handlers import http

from servicekit import config
from servicekit.errors import InvalidInput

from portal_gateway import forms, web
from portal_gateway.sessions import PORTAL_COOKIE, STAFF_COOKIE, Signer, csrf_ok

log = logging.getLogger(__name__)
SANDBOX_CARDS = [("pm_card_visa", "Visa ending 4242 (test card that succeeds)"),
                 ("pm_card_chargeDeclined", "Card ending 0002 (test card that is declined)"),
                 ("pm_card_chargeDeclinedInsufficientFunds",
                  "Card ending 9995 (test card with insufficient funds)")]


def signed_in(cookie_name: str, login_path: str):
    """Require a valid session; on POST also a matching CSRF token. The
    session reaches the method as `session`; expected RPC errors become pages."""
    def decorate(method):
        @functools.wraps(method)
        def wrapper(self, request, **kwargs):
            session = self.signer.read(request.cookies.get(cookie_name))
            if session is None or (cookie_name == STAFF_COOKIE) != (session.role != "patient"):
                return web.redirect(login_path)
            if request.method == "POST" and not csrf_ok(session, request.form.get("csrf")):
                return web.error_page(403, "This form has expired. Go back, reload and try again.")
            try:
                return method(self, request, session=session, **kwargs)
            except RemoteError as error:
                known = web.expected_error(error)
                return web.error_page(*known, session=session) if known else web.unexpected(error)
        return wrapper
    return decorate


class PortalGateway:
    name = "portal-gateway"
    clients = RpcProxy("clients")
    invoicing = RpcProxy("invoicing")
    payments = RpcProxy("payments")
    settings = Config()

    @property
    def signer(self) -> Signer:
        secret = config.setting(self.settings, "SESSION_SECRET") or config.secret(
            "SESSION_SECRET", "cairn-development-session-secret")
        return Signer(secret, max_age_seconds=12 * 3600)

    # ---- health ------------------------------------------------------------
    @http("GET", "/healthz")
    def health(self, request):
        return web.json_response(json.dumps({"status": "ok"}))

    @http("GET", "/")
    def home(self, request):
        return web.redirect("/staff")

    # ---- staff sign-in ------------------------------------------------------
    @http("GET", "/staff/login")
    def staff_login_form(self, request):
        return web.page("staff/login.html")

    @http("POST", "/staff/login")
    def staff_login(self, request):
        email, password = request.form.get("email", ""), request.form.get("password", "")
        try:
            staff = self.clients.authenticate_staff(email.strip().lower(), password)
        except RemoteError as error:
            if error.exc_type != "Unauthorized":
                return web.unexpected(error)
            return web.page("staff/login.html", status=401, email=email,
                            error="That email and password do not match an account.")
        cookie, _ = self.signer.issue(staff["id"], staff["name"], staff["role"])
        response = web.redirect("/staff")
        self._set_cookie(response, STAFF_COOKIE, cookie)
        return response

    @http("POST", "/staff/logout")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def staff_logout(self, request, session):
        response = web.redirect("/staff/login")
        response.delete_cookie(STAFF_COOKIE)
        return response

    # ---- staff: clients and their Financial tab ------------------------------
    @http("GET", "/staff")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def staff_home(self, request, session):
        return web.page("staff/clients.html", session=session, clients=self.clients.list_clients())

    @http("GET", "/staff/clients/<client_id>/financial")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def financial_tab(self, request, session, client_id):
        client = self.clients.get_client(client_id)
        invoices = self.invoicing.list_invoices(client_id)
        return web.page("staff/financial.html", session=session, client=client, invoices=invoices,
                        balance=sum(i["balance"] for i in invoices if i["status"] != "void"))

    @http("GET", "/staff/clients/<client_id>/invoices/new")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def new_invoice(self, request, session, client_id):
        return self._invoice_form(session, self.clients.get_client(client_id), form={})

    @http("POST", "/staff/clients/<client_id>/invoices")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def create_invoice(self, request, session, client_id):
        client = self.clients.get_client(client_id)
        try:
            payload = forms.invoice_payload(request.form, client_id)
            invoice = self.invoicing.create_invoice(payload, session.subject)
        except (InvalidInput, RemoteError) as error:
            return self._form_error(error, session, client, request.form)
        return web.redirect(f"/staff/invoices/{invoice['id']}")

    @http("GET", "/staff/invoices/<invoice_id>")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def show_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        return web.page("staff/invoice.html", session=session, invoice=invoice,
                        client=self.clients.get_client(invoice["client_id"]),
                        location=self.clients.get_location(invoice["location_id"]),
                        notice=request.args.get("notice", ""))

    @http("GET", "/staff/invoices/<invoice_id>/edit")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def edit_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        return self._invoice_form(session, self.clients.get_client(invoice["client_id"]),
                                  form=forms.form_from_invoice(invoice), invoice=invoice)

    @http("POST", "/staff/invoices/<invoice_id>")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def update_invoice(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        client = self.clients.get_client(invoice["client_id"])
        try:
            payload = forms.invoice_payload(request.form, invoice["client_id"])
            self.invoicing.update_invoice(invoice_id, payload, session.subject)
        except (InvalidInput, RemoteError) as error:
            return self._form_error(error, session, client, request.form, invoice)
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=saved")

    @http("POST", "/staff/invoices/<invoice_id>/send")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def send_invoice(self, request, session, invoice_id):
        channel = request.form.get("channel", "email")
        self.invoicing.send_invoice(invoice_id, channel, session.subject)
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=sent-{channel}")

    @http("POST", "/staff/invoices/<invoice_id>/void")
    @signed_in(STAFF_COOKIE, "/staff/login")
    def void_invoice(self, request, session, invoice_id):
        self.invoicing.void_invoice(invoice_id, session.subject)
        return web.redirect(f"/staff/invoices/{invoice_id}?notice=voided")

    # ---- patient portal -------------------------------------------------------
    @http("GET", "/portal/login")
    def portal_login_form(self, request):
        return web.page("portal/login.html", organization=self._organization())

    @http("POST", "/portal/login")
    def portal_login(self, request):
        username, password = request.form.get("username", ""), request.form.get("password", "")
        try:
            account = self.clients.authenticate_portal(username.strip().lower(), password)
        except RemoteError as error:
            if error.exc_type != "Unauthorized":
                return web.unexpected(error)
            return web.page("portal/login.html", status=401, username=username,
                            organization=self._organization(),
                            error="That username and password do not match an account.")
        cookie, _ = self.signer.issue(account["client_id"], account["name"], "patient")
        response = web.redirect("/portal")
        self._set_cookie(response, PORTAL_COOKIE, cookie)
        return response

    @http("POST", "/portal/logout")
    @signed_in(PORTAL_COOKIE, "/portal/login")
    def portal_logout(self, request, session):
        response = web.redirect("/portal/login")
        response.delete_cookie(PORTAL_COOKIE)
        return response

    @http("GET", "/portal")
    @signed_in(PORTAL_COOKIE, "/portal/login")
    def portal_billing(self, request, session):
        invoices = [i for i in self.invoicing.list_invoices(session.subject)
                    if i["status"] in ("sent", "partially_paid", "paid")]
        return web.page("portal/billing.html", session=session, organization=self._organization(),
                        outstanding=[i for i in invoices if i["balance"] > 0],
                        paid=[i for i in invoices if i["balance"] == 0])

    @http("POST", "/portal/invoices/<invoice_id>/pay")
    @signed_in(PORTAL_COOKIE, "/portal/login")
    def portal_pay(self, request, session, invoice_id):
        invoice = self.invoicing.get_invoice(invoice_id)
        if invoice["client_id"] != session.subject or invoice["status"] == "draft":
            return web.error_page(404, "That invoice was not found.", session=session)
        link = self.payments.issue_payment_link(
            invoice_id, session.subject, f"portal:{invoice_id}:{session.csrf}")
        return web.redirect(link["path"])

    # ---- one-time payment (no sign-in) ---------------------------------------
    @http("GET", "/pay/<token>")
    def pay_page(self, request, token):
        return self._pay_view(token)

    @http("POST", "/pay/<token>")
    def pay(self, request, token):
        try:
            payment = self.payments.pay_with_link(token, request.form.get("payment_method", ""))
        except RemoteError as error:
            known = web.expected_error(error)
            if not known or error.exc_type in ("NotFound", "Gone"):
                return self._pay_view(token)
            return self._pay_view(token, status=known[0], error=known[1])
        return web.page("pay/done.html", payment=payment,
                        organization=self.clients.get_organization())

    # ---- Stripe webhooks -------------------------------------------------------
    @http("POST", "/webhooks/stripe")
    def stripe_webhook(self, request):
        raw = request.get_data(as_text=True)
        try:
            result = self.payments.handle_stripe_webhook(raw, request.headers.get("Stripe-Signature"))
        except RemoteError as error:
            if error.exc_type == "InvalidInput":
                return web.json_response(json.dumps({"error": error.value}), status=400)
            log.error("webhook processing failed (%s); Stripe will retry", error.exc_type)
            return web.json_response(json.dumps({"error": "processing failed"}), status=500)
        return web.json_response(json.dumps(result))

    # ---- helpers ---------------------------------------------------------------
    def _pay_view(self, token, status=200, error=None):
        try:
            link = self.payments.open_payment_link(token)
        except RemoteError as failure:
            known = web.expected_error(failure)
            if not known:
                return web.unexpected(failure)
            return web.page("pay/unavailable.html", status=known[0], message=known[1])
        invoice = self.invoicing.get_invoice(link["invoice_id"])
        return web.page("pay/invoice.html", status=status, token=token, link=link,
                        invoice=invoice, error=error, cards=SANDBOX_CARDS,
                        organization=self.clients.get_organization(),
                        location=self.clients.get_location(invoice["location_id"]))

    def _organization(self):
        return self.clients.get_organization()

    def _invoice_form(self, session, client, form, invoice=None, error=None, status=200):
        return web.page("staff/invoice_form.html", status=status, session=session, client=client,
                        form=form, invoice=invoice, error=error, rows=range(1, forms.LINE_ROWS + 1),
                        services=self.invoicing.list_services(),
                        locations=self.clients.get_organization()["locations"],
                        payment_types=PAYMENT_TYPES)

    def _form_error(self, error, session, client, form, invoice=None):
        if isinstance(error, RemoteError):
            known = web.expected_error(error)
            if not known or error.exc_type != "InvalidInput":
                raise error
            message = known[1]
        else:
            message = str(error)
        return self._invoice_form(session, client, dict(form.items()), invoice, message, 400)

    def _set_cookie(self, response, name, value):
        secure = config.setting(self.settings, "PUBLIC_URL", "").startswith("https")
        response.set_cookie(name, value, httponly=True, samesite="Lax", secure=secure,
                            max_age=12 * 3600, path="/")


PAYMENT_TYPES = [("private_pay", "Private pay"), ("copay", "Copay"), ("coinsurance", "Coinsurance"),
                 ("deductible", "Deductible"), ("sliding_scale", "Sliding scale")]
