"""Notifications service: turns facts (an invoice sent, a payment captured)
into emails and portal inbox messages, and keeps the delivery log."""
from __future__ import annotations

from nameko.rpc import RpcProxy, rpc

from servicekit.db import Database
from servicekit.errors import EXPECTED
from servicekit.events import handles
from servicekit.outbox import OutboxRelay

from notifications import handlers, schemas, store
from notifications.mailer import Mailer
from notifications.settings import Settings

SOURCE = "notifications"


class NotificationsService:
    name = SOURCE
    db = Database()
    relay = OutboxRelay()
    mailer = Mailer()
    settings = Settings()
    clients = RpcProxy("clients")
    invoicing = RpcProxy("invoicing")
    payments = RpcProxy("payments")

    @handles("invoicing", "InvoiceSent")
    def on_invoice_sent(self, envelope):
        handlers.invoice_sent(self._collaborators(), envelope, f"{SOURCE}.on_invoice_sent")

    @handles("payments", "PaymentCaptured")
    def on_payment_captured(self, envelope):
        handlers.payment_captured(self._collaborators(), envelope, f"{SOURCE}.on_payment_captured")

    @rpc(expected_exceptions=EXPECTED)
    def list_deliveries(self, limit=50):
        """Newest first, for operators: no bodies, recipients masked."""
        return [schemas.delivery_out(row)
                for row in store.recent_deliveries(self.db, schemas.limit(limit))]

    @rpc(expected_exceptions=EXPECTED)
    def list_inbox(self, client_id):
        """A client's portal inbox, newest first."""
        return [schemas.inbox_message_out(row)
                for row in store.inbox_for(self.db, schemas.client_id(client_id))]

    def _collaborators(self) -> handlers.Collaborators:
        return handlers.Collaborators(db=self.db, clients=self.clients, invoicing=self.invoicing,
                                      payments=self.payments, postman=self.mailer,
                                      settings=self.settings)
