"""Invoicing service: the service catalog and invoices."""
from __future__ import annotations

from nameko.exceptions import RemoteError
from nameko.rpc import RpcProxy, rpc
from sqlalchemy import select

from servicekit.db import Database
from servicekit.errors import EXPECTED, InvalidInput
from servicekit.events import handles
from servicekit.inbox import handle_once
from servicekit.outbox import OutboxRelay

from invoicing import schemas, usecases
from invoicing.models import Invoice, ServiceItem


class InvoicingService:
    name = "invoicing"
    db = Database()
    relay = OutboxRelay()
    clients = RpcProxy("clients")

    @rpc(expected_exceptions=EXPECTED)
    def list_services(self):
        items = self.db.scalars(select(ServiceItem).where(ServiceItem.active).order_by(ServiceItem.code))
        return [schemas.service_out(item) for item in items]

    @rpc(expected_exceptions=EXPECTED)
    def create_invoice(self, payload, actor):
        data = schemas.invoice_input(payload)
        self._check_references(data)
        invoice = usecases.save_invoice(self.db, data, actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def update_invoice(self, invoice_id, payload, actor):
        data = schemas.invoice_input(payload)
        self._check_references(data)
        invoice = usecases.save_invoice(self.db, data, actor, invoice_id=invoice_id)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def get_invoice(self, invoice_id):
        return self._out(usecases.load_invoice(self.db, invoice_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_invoices(self, client_id):
        invoices = self.db.scalars(select(Invoice).where(Invoice.client_id == str(client_id))
                                   .order_by(Invoice.created_at.desc()))
        return [schemas.invoice_out(invoice) for invoice in invoices]

    @rpc(expected_exceptions=EXPECTED)
    def send_invoice(self, invoice_id, channel, actor):
        invoice = usecases.send_invoice(self.db, invoice_id, channel, actor)
        self.db.commit()
        return self._out(invoice)

    @rpc(expected_exceptions=EXPECTED)
    def void_invoice(self, invoice_id, actor):
        invoice = usecases.void_invoice(self.db, invoice_id, actor)
        self.db.commit()
        return self._out(invoice)

    @handles("payments", "PaymentCaptured")
    def on_payment_captured(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_captured",
                    lambda data: usecases.apply_payment(self.db, data))

    @handles("payments", "PaymentFailed")
    def on_payment_failed(self, envelope):
        handle_once(self.db, envelope, "invoicing.on_payment_failed",
                    lambda data: usecases.note_failed_payment(self.db, data))

    def _out(self, invoice):
        return schemas.invoice_out(invoice, usecases.activity(self.db, invoice.id))

    def _check_references(self, data):
        try:
            self.clients.get_client(data["client_id"])
            self.clients.get_location(data["location_id"])
        except RemoteError as error:
            if error.exc_type == "NotFound":
                raise InvalidInput(error.value) from None
            raise
