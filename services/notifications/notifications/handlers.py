"""What notifications does when it learns a fact. Each use case takes its
collaborators as one bundle, so tests can pass a real database and
hand-written fakes.

One email is delivered in three steps, none of which holds a database
transaction open across network I/O:
1. gather (RPC) and render (`compose.py`); nothing is written;
2. claim the delivery row (attempts + 1, a lease) and commit: the attempt is
   on record even if the send then fails, and a concurrent copy of the same
   event sees the lease and backs off;
3. send, then mark the row sent (or failed) and record NotificationDelivered
   (or NotificationFailed) inside `handle_once`, in one transaction with the
   event's `processed_events` row.
A transient failure releases the lease, notes the error and raises, so the
reliable handler retries later and finally dead-letters. A redelivered event
finds its delivery final and sends nothing. A reminder to a person who turned
reminders off, and a decline the payer already saw, are recorded `skipped`."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any, Callable

import eventlet
from sqlalchemy.orm import Session

from servicekit.cache import TtlCache
from servicekit.inbox import handle_once

from notifications import compose, domain, store
from notifications.domain import Undeliverable
from notifications.mailer import OutgoingEmail, PermanentMailError
from notifications.settings import NotificationSettings
from notifications.store import Notice

log = logging.getLogger(__name__)


class CollaboratorTimeout(Exception):
    """A service we asked did not answer in time; the event is retried."""


@dataclass
class Collaborators:
    db: Session
    clients: Any       # get_contact, get_account_contact, get_staff_contact,
                       # get_organization, issue_password_link
    invoicing: Any     # get_invoice
    payments: Any      # issue_payment_link
    postman: Any       # send(OutgoingEmail, key) -> provider message id
    settings: NotificationSettings
    # what this process keeps of the organization (none unless given)
    organizations: TtlCache = field(default_factory=lambda: TtlCache(0, max_entries=0))


def invoice_sent(c: Collaborators, envelope: dict, handler: str) -> None:
    data = envelope["data"]
    kind = domain.email_kind_for_invoice(data["channel"])
    if data["channel"] == domain.PORTAL_CHANNEL:
        if store.post_inbox(c.db, envelope["id"], data["client_id"],
                            domain.inbox_message_for_invoice(data)):
            log.info("event %s: invoice %s posted to the portal inbox of %s",
                     envelope["id"], data["invoice_id"], data["client_id"])
        deliver_email(c, envelope, handler, _for_client(envelope, kind),
                      lambda: compose.portal_notice(c, envelope))
    else:
        deliver_email(c, envelope, handler, _for_client(envelope, kind),
                      lambda: compose.invoice_email(c, envelope))


def estimate_issued(c: Collaborators, envelope: dict, handler: str) -> None:
    """Posted to the portal: an inbox message. By email: the estimate email
    (with the link into the portal); posted only: the neutral notice. One
    email at most, whatever the channels."""
    data = envelope["data"]
    if domain.PORTAL_CHANNEL in data["channels"]:
        if store.post_inbox(c.db, envelope["id"], data["client_id"],
                            domain.inbox_message_for_estimate(data), kind=domain.ESTIMATE_POSTED):
            log.info("event %s: estimate %s posted to the portal inbox of %s",
                     envelope["id"], data["estimate_id"], data["client_id"])
    if domain.EMAIL_CHANNEL in data["channels"]:
        deliver_email(c, envelope, handler, _for_client(envelope, domain.ESTIMATE_ISSUED),
                      lambda: compose.estimate_email(c, envelope))
    else:
        deliver_email(c, envelope, handler, _for_client(envelope, domain.PORTAL_NOTICE),
                      lambda: compose.portal_notice(c, envelope))


def payment_captured(c: Collaborators, envelope: dict, handler: str) -> None:
    deliver_email(c, envelope, handler, _for_client(envelope, domain.RECEIPT),
                  lambda: compose.receipt(c, envelope))


def payment_processing(c: Collaborators, envelope: dict, handler: str) -> None:
    """A bank payment accepted: "we received it, it clears in a few days"
    (not a receipt: it may still come back)."""
    notice = _for_client(envelope, domain.PAYMENT_PENDING)
    if envelope["data"]["method"] != "us_bank_account":
        skip(c, envelope, handler, notice, "not a bank payment")
        return
    deliver_email(c, envelope, handler, notice, lambda: compose.payment_pending(c, envelope))


def payment_failed(c: Collaborators, envelope: dict, handler: str) -> None:
    """Emailed when the payer was not looking at the page: an autopay or
    staff charge of a method on file, or a bank payment returned days after
    it was accepted. A payer who started the payment saw the decline."""
    data = envelope["data"]
    if data.get("after_processing"):
        deliver_email(c, envelope, handler, _for_client(envelope, domain.PAYMENT_RETURNED),
                      lambda: compose.payment_returned(c, envelope))
        return
    notice = _for_client(envelope, domain.PAYMENT_FAILED)
    if data.get("initiated_by") != "autopay" and not data.get("off_session"):
        skip(c, envelope, handler, notice, "payer saw the decline")
        return
    if data.get("installment_attempt"):
        skip(c, envelope, handler, notice, "told by InstallmentFailed (payment plan)")
        return
    deliver_email(c, envelope, handler, notice, lambda: compose.payment_failed(c, envelope))


def installment_failed(c: Collaborators, envelope: dict, handler: str) -> None:
    """Payment plans: an installment's autopay failed; the email says when
    it is tried again and links to the portal to pay now."""
    deliver_email(c, envelope, handler, _for_client(envelope, domain.INSTALLMENT_FAILED),
                  lambda: compose.installment_failed(c, envelope))


def payment_refunded(c: Collaborators, envelope: dict, handler: str) -> None:
    deliver_email(c, envelope, handler, _for_client(envelope, domain.REFUND_ISSUED),
                  lambda: compose.refund_issued(c, envelope))


def portal_invite(c: Collaborators, envelope: dict, handler: str) -> None:
    data = envelope["data"]
    notice = Notice(envelope["id"], domain.WELCOME, data["account_id"], data["client_id"])
    deliver_email(c, envelope, handler, notice, lambda: compose.welcome(c, envelope))


def portal_password_reset(c: Collaborators, envelope: dict, handler: str) -> None:
    notice = Notice(envelope["id"], domain.PASSWORD_RESET, envelope["data"]["account_id"])
    deliver_email(c, envelope, handler, notice, lambda: compose.portal_password_reset(c, envelope))


def staff_password_reset(c: Collaborators, envelope: dict, handler: str) -> None:
    kind = (domain.STAFF_WELCOME if envelope["data"].get("purpose") == "welcome"
            else domain.STAFF_PASSWORD_RESET)
    notice = Notice(envelope["id"], kind, envelope["data"]["staff_id"])
    deliver_email(c, envelope, handler, notice, lambda: compose.staff_password_reset(c, envelope))


def statement_issued(c: Collaborators, envelope: dict, handler: str) -> None:
    """A statement: the portal inbox message (committed on its own), then
    "Your statement from <sender> is ready" with the sign-in link (a
    reminder kind: not sent to a person who turned reminders off)."""
    data = envelope["data"]
    if store.post_inbox(c.db, envelope["id"], data["client_id"],
                        domain.inbox_message_for_statement(data), kind=domain.STATEMENT_POSTED):
        log.info("event %s: statement %s posted to the portal inbox of %s",
                 envelope["id"], data["statement_id"], data["client_id"])
    deliver_email(c, envelope, handler, _for_client(envelope, domain.STATEMENT_READY),
                  lambda: compose.statement_ready(c, envelope))


def form_assigned(c: Collaborators, envelope: dict, handler: str) -> None:
    """A form or screening to complete: the inbox message (committed on its
    own), then "You have a form to complete" — neither names the form."""
    data = envelope["data"]
    if store.post_inbox(c.db, envelope["id"], data["client_id"], domain.inbox_message_for_form(),
                        kind=domain.FORM_POSTED):
        log.info("event %s: form %s posted to the portal inbox of %s",
                 envelope["id"], data["assignment_id"], data["client_id"])
    deliver_email(c, envelope, handler, _for_client(envelope, domain.FORM_ASSIGNED),
                  lambda: compose.form_assigned(c, envelope))


def consent_requested(c: Collaborators, envelope: dict, handler: str) -> None:
    """A document to sign: the inbox message, then "A document is waiting
    for your signature" — neither names the document."""
    data = envelope["data"]
    if store.post_inbox(c.db, envelope["id"], data["client_id"],
                        domain.inbox_message_for_consent(), kind=domain.CONSENT_POSTED):
        log.info("event %s: consent %s posted to the portal inbox of %s",
                 envelope["id"], data["consent_id"], data["client_id"])
    deliver_email(c, envelope, handler, _for_client(envelope, domain.CONSENT_REQUESTED),
                  lambda: compose.consent_requested(c, envelope))


def _for_client(envelope: dict, kind: str) -> Notice:
    client_id = envelope["data"]["client_id"]
    return Notice(envelope["id"], kind, client_id, client_id)


# ---- the delivery machinery ----------------------------------------------

def deliver_email(c: Collaborators, envelope: dict, handler: str, notice: Notice,
                  compose_email: Callable[[], OutgoingEmail]) -> None:
    """Send the email `compose_email` makes, at most once per (event, kind)."""
    cause, kind = notice.cause_event_id, notice.kind
    if store.status_of(c.db, cause, kind) in store.FINAL:
        log.info("event %s: %s already delivered, failed or skipped; nothing to do", cause, kind)
        return
    if domain.can_be_turned_off(kind) and not store.preferences(c.db, notice.person_id).reminders:
        skip(c, envelope, handler, notice, "reminders turned off")
        return
    try:
        with eventlet.Timeout(c.settings.rpc_timeout_seconds,
                              CollaboratorTimeout(f"no answer within {c.settings.rpc_timeout_seconds}s")):
            email = compose_email()
    except Undeliverable as exc:
        log.warning("event %s: %s for %s cannot be delivered: %s", cause, kind,
                    notice.person_id, exc)
        reason = str(exc)
        handle_once(c.db, envelope, handler,
                    lambda _: store.record_undeliverable(c.db, notice, reason))
        return
    try:
        claim = store.claim(c.db, notice, email.to, c.settings.lease_seconds)
    except store.AlreadyFinal:
        return
    try:
        provider_id = c.postman.send(email, claim.id)
    except PermanentMailError as exc:
        log.warning("delivery %s (%s) failed for good: %s", claim.id, kind, exc)
        reason = str(exc)
        handle_once(c.db, envelope, handler, lambda _: store.finish(c.db, claim.id, error=reason))
        return
    except Exception as exc:
        log.warning("delivery %s (%s) attempt %d failed; will retry: %s",
                    claim.id, kind, claim.attempt, domain.scrub(exc))
        store.release(c.db, claim.id, str(exc))
        raise
    handle_once(c.db, envelope, handler,
                lambda _: store.finish(c.db, claim.id, provider_message_id=provider_id))
    log.info("delivery %s (%s) sent for event %s, attempt %d", claim.id, kind, cause, claim.attempt)


def skip(c: Collaborators, envelope: dict, handler: str, notice: Notice, reason: str) -> None:
    """Deliberately send nothing, on record (status `skipped`), once."""
    if store.status_of(c.db, notice.cause_event_id, notice.kind) in store.FINAL:
        return
    log.info("event %s: %s for %s skipped: %s", notice.cause_event_id, notice.kind,
             notice.person_id, reason)
    handle_once(c.db, envelope, handler, lambda _: store.record_skipped(c.db, notice, reason))
