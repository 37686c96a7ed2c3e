"""Notifications service: turns facts (an invoice sent, a payment captured or
failed, a portal invitation, a password reset) into emails and portal inbox
messages, and keeps the delivery log and people's preferences."""
from __future__ import annotations

from nameko.timer import timer

from servicekit import config
from servicekit.cache import Cache
from servicekit.db import Database
from servicekit.errors import EXPECTED, NotFound
from servicekit.events import broadcast, handles
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy, rpc

from notifications import compose, handlers, reminders, schemas, store
from notifications.mailer import Mailer
from notifications.settings import Settings

SOURCE = "notifications"


class NotificationsService:
    name = SOURCE
    db = Database()
    relay = OutboxRelay()
    mailer = Mailer()
    settings = Settings()
    clients = TimedRpcProxy("clients")
    invoicing = TimedRpcProxy("invoicing")
    payments = TimedRpcProxy("payments")
    organizations = Cache("ORGANIZATION_CACHE_SECONDS", 300)

    @handles("invoicing", "InvoiceSent")
    def on_invoice_sent(self, envelope):
        handlers.invoice_sent(self._collaborators(), envelope, f"{SOURCE}.on_invoice_sent")

    @handles("invoicing", "StatementIssued")  # b8-statements
    def on_statement_issued(self, envelope):
        handlers.statement_issued(self._collaborators(), envelope, f"{SOURCE}.on_statement_issued")
    @handles("invoicing", "EstimateIssued")
    def on_estimate_issued(self, envelope):
        handlers.estimate_issued(self._collaborators(), envelope, f"{SOURCE}.on_estimate_issued")

    @handles("payments", "PaymentCaptured", version=2)
    def on_payment_captured(self, envelope):
        handlers.payment_captured(self._collaborators(), envelope, f"{SOURCE}.on_payment_captured")

    @handles("payments", "PaymentProcessing")
    def on_payment_processing(self, envelope):
        handlers.payment_processing(self._collaborators(), envelope,
                                    f"{SOURCE}.on_payment_processing")

    @handles("payments", "PaymentFailed", version=2)
    def on_payment_failed(self, envelope):
        handlers.payment_failed(self._collaborators(), envelope, f"{SOURCE}.on_payment_failed")

    @handles("invoicing", "InstallmentFailed")     # payment plans
    def on_installment_failed(self, envelope):
        handlers.installment_failed(self._collaborators(), envelope,
                                    f"{SOURCE}.on_installment_failed")

    @handles("payments", "PaymentRefunded")
    def on_payment_refunded(self, envelope):
        handlers.payment_refunded(self._collaborators(), envelope,
                                  f"{SOURCE}.on_payment_refunded")

    @handles("clients", "PortalInviteRequested")
    def on_portal_invite_requested(self, envelope):
        handlers.portal_invite(self._collaborators(), envelope,
                               f"{SOURCE}.on_portal_invite_requested")

    @handles("clients", "PortalPasswordResetRequested")
    def on_portal_password_reset_requested(self, envelope):
        handlers.portal_password_reset(self._collaborators(), envelope,
                                       f"{SOURCE}.on_portal_password_reset_requested")

    @handles("clients", "StaffPasswordResetRequested")
    def on_staff_password_reset_requested(self, envelope):
        handlers.staff_password_reset(self._collaborators(), envelope,
                                      f"{SOURCE}.on_staff_password_reset_requested")

    @handles("documents", "FormAssigned")
    def on_form_assigned(self, envelope):
        handlers.form_assigned(self._collaborators(), envelope, f"{SOURCE}.on_form_assigned")

    @handles("documents", "ConsentRequested")
    def on_consent_requested(self, envelope):
        handlers.consent_requested(self._collaborators(), envelope,
                                   f"{SOURCE}.on_consent_requested")

    @handles("scheduling", "AppointmentScheduled")
    def on_appointment_scheduled(self, envelope):
        """Keep our copy; its reminder is planned (see reminders.py)."""
        reminders.remember(self.db, envelope, f"{SOURCE}.on_appointment_scheduled", self.settings)

    @handles("scheduling", "AppointmentChanged")
    def on_appointment_changed(self, envelope):
        """Moved: a new reminder for the new time; cancelled, completed or
        no-show: none. An event older than our copy changes nothing."""
        reminders.remember(self.db, envelope, f"{SOURCE}.on_appointment_changed", self.settings)

    @timer(interval=float(config.env("REMINDER_POLL_SECONDS", "60")))
    def send_due_reminders(self):
        """Claim due appointment reminders (SKIP LOCKED) and send them."""
        reminders.send_due(self._collaborators())

    @broadcast("clients", "OrganizationChanged")
    def on_organization_changed(self, data):
        """New clinic details (name, logo, contact, welcome text, handbook):
        the next email reads them again."""
        self.organizations.drop(compose.ORGANIZATION)

    @rpc(expected_exceptions=EXPECTED)
    def list_deliveries(self, limit=50):
        """Newest first, for operators: no bodies, recipients masked."""
        return [schemas.delivery_out(row)
                for row in store.recent_deliveries(self.db, schemas.limit(limit))]

    @rpc(expected_exceptions=EXPECTED)
    def list_inbox(self, client_id):
        """A client's portal inbox, newest first."""
        return [schemas.inbox_message_out(row)
                for row in store.inbox_for(self.db, schemas.identifier("client_id", client_id))]

    @rpc(expected_exceptions=EXPECTED)
    def mark_inbox_read(self, client_id, message_id):
        """Mark one of the client's inbox messages read (the first read time stays)."""
        row = store.mark_read(self.db, schemas.identifier("client_id", client_id),
                              schemas.identifier("message_id", message_id))
        if row is None:
            raise NotFound("message not found")
        return schemas.inbox_message_out(row)

    @rpc(expected_exceptions=EXPECTED)
    def get_preferences(self, person_id):
        """A client's or portal account's email preferences."""
        person_id = schemas.identifier("person_id", person_id)
        return schemas.preferences_out(person_id, store.preferences(self.db, person_id))

    @rpc(expected_exceptions=EXPECTED)
    def set_preferences(self, person_id, preferences):
        """`{"reminders": bool}`; transactional mail cannot be turned off."""
        person_id = schemas.identifier("person_id", person_id)
        changes = schemas.preference_changes(preferences)
        return schemas.preferences_out(person_id,
                                       store.save_preferences(self.db, person_id, changes))

    def _collaborators(self) -> handlers.Collaborators:
        return handlers.Collaborators(db=self.db, clients=self.clients, invoicing=self.invoicing,
                                      payments=self.payments, postman=self.mailer,
                                      settings=self.settings, organizations=self.organizations)
