"""The only HTTP ingress: staff pages, the patient portal, one-time payment
pages, Stripe webhooks and health. Stateless: sessions live in the clients
service, every page asks the service that owns the data."""
from __future__ import annotations

import json

from nameko.dependency_providers import Config
from portal_gateway.web import http

from servicekit.rpc import TimedRpcProxy

from portal_gateway import web
from portal_gateway.payments_config import StripeJsConfig
from portal_gateway.reads import CachedReads
from portal_gateway.pages.admin import AdminPages
from portal_gateway.pages.portal_documents import PortalDocumentPages       # documents (issue 9)
from portal_gateway.pages.staff_documents import ResourceSettingsPages, StaffDocumentPages
from portal_gateway.pages.auth import AuthPages
from portal_gateway.pages.billing import BillingPages
from portal_gateway.pages.staff_catalog import CatalogPages
from portal_gateway.pages.pay import PayPages
from portal_gateway.pages.portal import PortalPages
from portal_gateway.pages.portal_appointments import PortalAppointmentPages
from portal_gateway.pages.portal_messages import PortalMessagePages
from portal_gateway.pages.portal_billing import PortalBillingPages
from portal_gateway.pages.portal_billing_areas import PortalBillingAreaPages   # issue 9
from portal_gateway.pages.staff_clients import StaffClientPages
from portal_gateway.pages.staff_ledger import StaffLedgerPages
from portal_gateway.pages.staff_payments import StaffPaymentPages
from portal_gateway.pages.portal_plans import PortalPlanPages    # payment plans
from portal_gateway.pages.staff_plans import StaffPlanPages      # payment plans
from portal_gateway.pages.statements import StatementPages  # statements, superbills, PDFs
from portal_gateway.pages.portal_estimates import PortalEstimatePages
from portal_gateway.pages.staff_estimates import StaffEstimatePages
from portal_gateway.pages.portal_contacts import PortalContactPages   # contacts, insurance, releases
from portal_gateway.pages.staff_appointments import StaffAppointmentPages


class PortalGateway(CachedReads, AuthPages, StaffClientPages, BillingPages, StaffPaymentPages, AdminPages,
                    PortalDocumentPages, StaffDocumentPages, ResourceSettingsPages,
                    CatalogPages, StaffLedgerPages, StaffPlanPages, StatementPages, StaffEstimatePages,
                    PortalPages, PortalBillingPages, PortalBillingAreaPages, PayPages,
                    PortalPlanPages, PortalEstimatePages, PortalAppointmentPages, PortalMessagePages,
                    PortalContactPages, StaffAppointmentPages):
    name = "portal-gateway"
    # A page gives up on a read after 10 s: a person will not wait longer. A
    # payment may wait on Stripe (20 s per try in the payments service), so
    # the payer gets its real outcome rather than "try again" while it is
    # still running.
    clients = TimedRpcProxy("clients")
    invoicing = TimedRpcProxy("invoicing")
    payments = TimedRpcProxy("payments", timeout_setting="PAYMENTS_RPC_TIMEOUT_SECONDS",
                             default=30)
    documents = TimedRpcProxy("documents")
    scheduling = TimedRpcProxy("scheduling")
    notifications = TimedRpcProxy("notifications")
    settings = Config()
    stripe_js = StripeJsConfig()

    @http("GET", "/healthz")
    def health(self, request):
        return web.json_response(json.dumps({"status": "ok"}))

    @http("GET", "/")
    def home(self, request):
        return web.redirect("/portal")

    @http("GET", "/static/<name>")
    def static(self, request, name):
        return web.static_file(name)
