"""What notifications does when it learns a fact. Each use case takes its
collaborators as one bundle, so tests can pass a real database and
hand-written fakes.

One email is delivered in three steps, none of which holds a database
transaction open across network I/O:
1. gather (RPC) and render; nothing is written;
2. claim the delivery row (attempts + 1, a lease) and commit: the attempt is
   on record even if the send then fails, and a concurrent copy of the same
   event sees the lease and backs off;
3. send, then mark the row sent (or failed) and record NotificationDelivered
   (or NotificationFailed) inside `handle_once`, in one transaction with the
   event's `processed_events` row.
A transient failure releases the lease, notes the error and raises, so the
reliable handler retries later and finally dead-letters. A redelivered event
finds its delivery final and sends nothing."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Callable

import eventlet
from nameko.exceptions import RemoteError
from sqlalchemy.orm import Session

from servicekit.inbox import handle_once

from notifications import domain, store
from notifications.domain import Undeliverable
from notifications.mailer import OutgoingEmail, PermanentMailError
from notifications.render import render
from notifications.settings import NotificationSettings

log = logging.getLogger(__name__)


class CollaboratorTimeout(Exception):
    """A service we asked did not answer in time; the event is retried."""


@dataclass
class Collaborators:
    db: Session
    clients: Any       # get_contact, get_organization
    invoicing: Any     # get_invoice
    payments: Any      # issue_payment_link
    postman: Any       # send(OutgoingEmail, key) -> provider message id
    settings: NotificationSettings


def invoice_sent(c: Collaborators, envelope: dict, handler: str) -> None:
    data = envelope["data"]
    kind = domain.email_kind_for_invoice(data["channel"])
    if data["channel"] == domain.PORTAL_CHANNEL:
        if store.post_inbox(c.db, envelope["id"], data["client_id"],
                            domain.inbox_message_for_invoice(data)):
            log.info("event %s: invoice %s posted to the portal inbox of %s",
                     envelope["id"], data["invoice_id"], data["client_id"])
        deliver_email(c, envelope, handler, kind, lambda: _portal_notice(c, data))
    else:
        deliver_email(c, envelope, handler, kind, lambda: _invoice_email(c, envelope))


def payment_captured(c: Collaborators, envelope: dict, handler: str) -> None:
    deliver_email(c, envelope, handler, domain.RECEIPT, lambda: _receipt(c, envelope["data"]))


def deliver_email(c: Collaborators, envelope: dict, handler: str, kind: str,
                  compose: Callable[[], OutgoingEmail]) -> None:
    cause, client_id = envelope["id"], envelope["data"]["client_id"]
    if store.status_of(c.db, cause, kind) in store.FINAL:
        log.info("event %s: %s already delivered or failed; nothing to do", cause, kind)
        return
    try:
        with eventlet.Timeout(c.settings.rpc_timeout_seconds,
                              CollaboratorTimeout(f"no answer within {c.settings.rpc_timeout_seconds}s")):
            email = compose()
    except Undeliverable as exc:
        log.warning("event %s: %s for client %s cannot be delivered: %s", cause, kind, client_id, exc)
        handle_once(c.db, envelope, handler,
                    lambda _: store.record_undeliverable(c.db, cause, kind, client_id, str(exc)))
        return
    try:
        claim = store.claim(c.db, cause, kind, client_id, email.to, c.settings.lease_seconds)
    except store.AlreadyFinal:
        return
    try:
        provider_id = c.postman.send(email, claim.id)
    except PermanentMailError as exc:
        log.warning("delivery %s (%s) failed for good: %s", claim.id, kind, exc)
        handle_once(c.db, envelope, handler, lambda _: store.finish(c.db, claim.id, error=str(exc)))
        return
    except Exception as exc:
        log.warning("delivery %s (%s) attempt %d failed; will retry: %s",
                    claim.id, kind, claim.attempt, domain.scrub(exc))
        store.release(c.db, claim.id, str(exc))
        raise
    handle_once(c.db, envelope, handler,
                lambda _: store.finish(c.db, claim.id, provider_message_id=provider_id))
    log.info("delivery %s (%s) sent for event %s, attempt %d", claim.id, kind, cause, claim.attempt)


# ---- composing: gather by RPC, then render -------------------------------

def _invoice_email(c: Collaborators, envelope: dict) -> OutgoingEmail:
    data = envelope["data"]
    contact = _contact(c, data["client_id"])
    invoice = _invoice(c, data)
    org = c.clients.get_organization()
    link = c.payments.issue_payment_link(invoice_id=data["invoice_id"],
                                         client_id=data["client_id"], request_key=envelope["id"])
    context = domain.invoice_email_context(contact, org, invoice, link, c.settings.public_url)
    return _email(domain.INVOICE_EMAIL, contact, org, context)


def _portal_notice(c: Collaborators, data: dict) -> OutgoingEmail:
    contact = _contact(c, data["client_id"])
    org = c.clients.get_organization()
    context = domain.portal_notice_context(contact, org, c.settings.public_url)
    return _email(domain.PORTAL_NOTICE, contact, org, context)


def _receipt(c: Collaborators, data: dict) -> OutgoingEmail:
    contact = _contact(c, data["client_id"])
    invoice = _invoice(c, data)
    org = c.clients.get_organization()
    context = domain.receipt_context(contact, org, invoice, data, c.settings.public_url,
                                     c.settings.timezone)
    return _email(domain.RECEIPT, contact, org, context)


def _email(kind: str, contact: dict, org: dict, context: dict) -> OutgoingEmail:
    text, html = render(kind, context)
    return OutgoingEmail(to=contact["email"].strip(), subject=domain.subject(kind, org),
                         text=text, html=html, sender_name=domain.sender_name(org),
                         reply_to=org.get("email") or "")


def _contact(c: Collaborators, client_id: str) -> dict:
    contact = _fetch(c.clients.get_contact, client_id, missing="client not found")
    if not (contact.get("email") or "").strip():
        raise Undeliverable("no email address on file")
    return contact


def _invoice(c: Collaborators, data: dict) -> dict:
    invoice = _fetch(c.invoicing.get_invoice, data["invoice_id"], missing="invoice not found")
    if invoice.get("client_id") != data["client_id"]:
        raise Undeliverable("invoice belongs to another client")  # never mail it to this one
    return invoice


def _fetch(method, *args, missing: str):
    try:
        return method(*args)
    except RemoteError as exc:
        if exc.exc_type == "NotFound":
            raise Undeliverable(missing) from None
        raise
