"""Composing one email: gather what it needs from the other services by RPC,
build its context and render it. Nothing is written here. A fact that makes
the message impossible (no address, unknown person, an invoice of somebody
else) raises `Undeliverable`; anything else (a service down) propagates and
the event is retried. `c` is a `handlers.Collaborators`.

Asked only when the event does not say it already: the organization is kept
in `c.organizations` (until `OrganizationChanged` or its TTL); an invoice's
number, balance and due date come with `InvoiceSent`, the paid invoices'
numbers with the payment events (events recorded before those fields existed
still get them from invoicing)."""
from __future__ import annotations

from nameko.exceptions import RemoteError

from notifications import contexts, domain
from notifications.domain import Undeliverable
from notifications.mailer import OutgoingEmail
from notifications.render import render_message

ORGANIZATION = "organization"
# what a collaborator's expected error means for the message it was asked for
_REFUSALS = ("NotFound", "Gone", "Conflict", "Forbidden", "InvalidInput")


def invoice_email(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact = client_contact(c, data["client_id"])
    invoice = sent_invoice(c, data)
    org = organization(c)
    link = c.payments.issue_payment_link(invoice_id=data["invoice_id"],
                                         client_id=data["client_id"], request_key=envelope["id"])
    context = contexts.invoice_email_context(contact, org, invoice, link, c.settings.public_url)
    return email(domain.INVOICE_EMAIL, contact, org, context)


def portal_notice(c, envelope: dict) -> OutgoingEmail:
    contact = client_contact(c, envelope["data"]["client_id"])
    org = organization(c)
    context = contexts.portal_notice_context(contact, org, c.settings.public_url)
    return email(domain.PORTAL_NOTICE, contact, org, context)


def estimate_email(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.estimate_issued_context(contact, org, c.settings.public_url, estimate=data)
    return email(domain.ESTIMATE_ISSUED, contact, org, context)


def receipt(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.receipt_context(contact, org, paid_invoices(c, data), data,
                                       c.settings.public_url, c.settings.timezone)
    return email(domain.RECEIPT, contact, org, context)


def payment_pending(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.payment_pending_context(contact, org, paid_invoices(c, data), data,
                                               c.settings.public_url, c.settings.timezone)
    return email(domain.PAYMENT_PENDING, contact, org, context)


def payment_failed(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.payment_failed_context(contact, org, paid_invoices(c, data), data,
                                              c.settings.public_url)
    return email(domain.PAYMENT_FAILED, contact, org, context)


def installment_failed(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.installment_failed_context(contact, org, data, c.settings.public_url)
    return email(domain.INSTALLMENT_FAILED, contact, org, context)


def payment_returned(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.payment_returned_context(contact, org, paid_invoices(c, data), data,
                                                c.settings.public_url)
    return email(domain.PAYMENT_RETURNED, contact, org, context)


def refund_issued(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.refund_context(contact, org, data, c.settings.public_url)
    return email(domain.REFUND_ISSUED, contact, org, context)


def statement_ready(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact, org = client_contact(c, data["client_id"]), organization(c)
    context = contexts.statement_ready_context(contact, org, c.settings.public_url,
                                               amount_due=data["amount_due"],
                                               statement_date=data["period_end"])
    return email(domain.STATEMENT_READY, contact, org, context)


def form_assigned(c, envelope: dict) -> OutgoingEmail:
    contact, org = client_contact(c, envelope["data"]["client_id"]), organization(c)
    return email(domain.FORM_ASSIGNED, contact, org,
                 contexts.form_assigned_context(contact, org, c.settings.public_url))


def consent_requested(c, envelope: dict) -> OutgoingEmail:
    contact, org = client_contact(c, envelope["data"]["client_id"]), organization(c)
    return email(domain.CONSENT_REQUESTED, contact, org,
                 contexts.consent_requested_context(contact, org, c.settings.public_url))


def appointment_reminder(c, due) -> OutgoingEmail:
    """`due`: a claimed reminder (`reminders.Due`). When (clinic time) and
    where: the location's address (never its name, which can name the
    treatment), or telehealth."""
    contact, org = client_contact(c, due.client_id), organization(c)
    telehealth = due.mode == "telehealth"
    context = contexts.appointment_reminder_context(
        contact, org, c.settings.public_url, c.settings.clinic_timezone,
        starts_at=due.starts_at.isoformat() + "Z", telehealth=telehealth,
        address="" if telehealth else contexts.location_address(org, due.location_id))
    return email(domain.APPOINTMENT_REMINDER, contact, org, context)


def welcome(c, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    account = with_email(fetch(c.clients.get_account_contact, data["account_id"],
                               missing="portal account not found"))
    org = organization(c)
    link = password_link(c, envelope, "portal", data["account_id"], "welcome")
    context = contexts.welcome_context(account, org, data["invited_by_name"], link,
                                       envelope["occurred_at"], c.settings.public_url,
                                       c.settings.timezone)
    return email(domain.WELCOME, account, org, context)


def portal_password_reset(c, envelope: dict) -> OutgoingEmail:
    account_id = envelope["data"]["account_id"]
    account = with_email(fetch(c.clients.get_account_contact, account_id,
                               missing="portal account not found"))
    org = organization(c)
    link = password_link(c, envelope, "portal", account_id, "reset")
    context = contexts.password_reset_context(account, org, link, envelope["occurred_at"],
                                              c.settings.public_url, c.settings.timezone)
    return email(domain.PASSWORD_RESET, account, org, context)


def staff_password_reset(c, envelope: dict) -> OutgoingEmail:
    staff_id = envelope["data"]["staff_id"]
    staff = with_email(fetch(c.clients.get_staff_contact, staff_id,
                             missing="staff member not found"))
    org = organization(c)
    welcome = envelope["data"].get("purpose") == "welcome"
    link = password_link(c, envelope, "staff", staff_id, "welcome" if welcome else "reset")
    context = contexts.password_reset_context(staff, org, link, envelope["occurred_at"],
                                              c.settings.public_url, c.settings.timezone,
                                              staff=True, welcome=welcome)
    return email(domain.STAFF_WELCOME if welcome else domain.STAFF_PASSWORD_RESET, staff, org, context)


# ---- pieces ---------------------------------------------------------------

def email(kind: str, person: dict, org: dict, context: dict) -> OutgoingEmail:
    rendered = render_message(kind, context)
    return OutgoingEmail(to=person["email"].strip(), subject=rendered.subject,
                         text=rendered.text, html=rendered.html,
                         sender_name=domain.sender_name(org), reply_to=org.get("email") or "")


def password_link(c, envelope: dict, kind: str, subject_id: str, purpose: str) -> dict:
    """A single-use set-password link from clients, idempotent by event id
    (a retried event gets the same link, not a second one)."""
    try:
        return c.clients.issue_password_link(kind=kind, subject_id=subject_id, purpose=purpose,
                                             request_key=envelope["id"])
    except RemoteError as exc:
        if exc.exc_type in _REFUSALS:
            raise Undeliverable(f"password link refused: {exc.exc_type}") from None
        raise


def organization(c) -> dict:
    return c.organizations.get_or_load(ORGANIZATION, c.clients.get_organization)


def client_contact(c, client_id: str) -> dict:
    return with_email(fetch(c.clients.get_contact, client_id, missing="client not found"))


def with_email(person: dict) -> dict:
    if not (person.get("email") or "").strip():
        raise Undeliverable("no email address on file")
    return person


def client_invoice(c, data: dict) -> dict:
    invoice = fetch(c.invoicing.get_invoice, data["invoice_id"], missing="invoice not found")
    if invoice.get("client_id") != data["client_id"]:
        raise Undeliverable("invoice belongs to another client")  # never mail it to this one
    return invoice


def sent_invoice(c, data: dict) -> dict:
    """What the invoice email shows, as InvoiceSent says it (invoicing wrote
    it with the invoice's own client); an older event without `due_on` (the
    key, even null) is looked up."""
    if "due_on" not in data:
        return client_invoice(c, data)
    return {"number": data["invoice_number"], "balance": data["balance"]["amount"],
            "currency": data["balance"]["currency"], "due_on": data["due_on"]}


def paid_invoices(c, data: dict) -> list[dict]:
    """The invoices a payment pays. Their numbers come with the event
    (invoicing checked each is this client's before the payment was taken);
    an older event without them is looked up, each checked to be this client's."""
    allocations = data["allocations"]
    if all(allocation.get("invoice_number") for allocation in allocations):
        return [{"number": allocation["invoice_number"]} for allocation in allocations]
    return [client_invoice(c, {"invoice_id": allocation["invoice_id"],
                               "client_id": data["client_id"]})
            for allocation in allocations]


def fetch(method, *args, missing: str):
    try:
        return method(*args)
    except RemoteError as exc:
        if exc.exc_type == "NotFound":
            raise Undeliverable(missing) from None
        raise
