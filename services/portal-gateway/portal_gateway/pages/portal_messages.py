"""The portal's Messages: the inbox the notifications service keeps for the
client (invoices, statements, estimates, forms and consents posted to the
portal). Opening a message marks it read; each links to what it is about
when there is something to link to. Another client's message is a 404,
audited. A third-party contact's reading leaves a message unread for the
client, and a contact whose release covers billing only sees the billing
messages."""
from __future__ import annotations

from nameko.exceptions import RemoteError

from portal_gateway import clinic_time, web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.web import http

NOT_FOUND = "We could not find that message."
# where a message of a kind points when it names no object of its own
KIND_LINKS = {
    "statement_posted": ("/portal/billing/statements", "See your statements"),
    "statement_ready": ("/portal/billing/statements", "See your statements"),
    "estimate_posted": ("/portal/estimates", "See your estimates"),
    "form_assigned": ("/portal/documents/forms", "Open your forms"),
    "form_posted": ("/portal/documents/forms", "Open your forms"),
    "consent_requested": ("/portal/documents/consents", "Open your consents"),
    "consent_posted": ("/portal/documents/consents", "Open your consents"),
    "appointment_reminder": ("/portal/appointments", "See your appointments"),
    "appointment_scheduled": ("/portal/appointments", "See your appointments"),
    "appointment_changed": ("/portal/appointments", "See your appointments"),
}


# what a contact whose release covers billing only may read of the inbox
BILLING_KINDS = frozenset({"invoice_posted", "statement_posted", "statement_ready", "estimate_posted"})


def may_read(message: dict, scope: str) -> bool:
    return scope != "billing" or message.get("kind") in BILLING_KINDS


def message_link(message: dict) -> tuple[str, str] | None:
    """(path, words) of what the message is about, or None. Only paths of the
    portal itself are followed (a `link` the service adds must start /portal/)."""
    link = message.get("link") or ""
    if isinstance(link, str) and link.startswith("/portal/") and "//" not in link:
        return link, "Open"
    if message.get("estimate_id"):
        return f"/portal/estimates/{message['estimate_id']}", "Review the estimate"
    if message.get("invoice_id"):
        return f"/portal/billing/invoices/{message['invoice_id']}", "See the invoice"
    return KIND_LINKS.get(message.get("kind") or "")


def message_view(message: dict, zone) -> dict:
    view = dict(message)
    when = clinic_time.local(message["created_at"], zone)
    view["when"] = f"{when:%B} {when.day}, {when.year}"
    view["about"] = message_link(message)
    return view


class PortalMessagePages:

    @http("GET", "/portal/messages")
    @signed_in("portal")
    def portal_messages(self, request, session):
        zone = clinic_time.clinic_zone(self.settings)
        scope = session.get("scope", "full")
        messages = [message_view(m, zone) for m in self.notifications.list_inbox(session["acting_for"])
                    if may_read(m, scope)]
        return web.page("portal/messages.html", session=session, organization=self._organization(),
                        messages=messages, unread=sum(1 for m in messages if not m.get("read_at")))

    @http("GET", "/portal/messages/<message_id>")
    @signed_in("portal")
    def portal_message(self, request, session, message_id):
        """Opening a message marks it read (the first read time stays)."""
        try:
            scope = session.get("scope", "full")
            if scope != "full":          # a contact reads it without marking it read for the client
                message = next((m for m in self.notifications.list_inbox(session["acting_for"])
                                if m["id"] == message_id and may_read(m, scope)), None)
            else:
                message = self.notifications.mark_inbox_read(session["acting_for"], message_id)
        except RemoteError as error:
            if error.exc_type not in ("NotFound", "InvalidInput"):
                raise
            message = None
        if message is None:
            self.clients.record_access(actor_of(session, request), "denied:message.read",
                                       session["acting_for"])
            return web.error_page(404, NOT_FOUND, session=session, area="portal")
        return web.page("portal/message.html", session=session, organization=self._organization(),
                        message=message_view(message, clinic_time.clinic_zone(self.settings)))
