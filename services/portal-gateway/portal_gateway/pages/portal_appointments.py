"""The portal's Appointments: upcoming and past visits in the clinic's time
zone, the telehealth Join (a button while the session is open, else when it
opens), and Add to calendar (an .ics the scheduling service writes, with a
neutral summary). Every appointment is asked for with the client the
session acts for; another client's id is a 404, audited."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from nameko.exceptions import RemoteError
from werkzeug.wrappers import Response

from servicekit.config import setting

from portal_gateway import clinic_time, web
from portal_gateway.access import actor_of, signed_in
from portal_gateway.web import http

NOT_FOUND = "We could not find that appointment."
JOIN_OPENS_MINUTES = 10   # as the scheduling service's CAIRN_JOIN_OPENS_MINUTES
STATUS_WORDS = {"scheduled": "Scheduled", "cancelled": "Cancelled", "completed": "Completed",
                "no_show": "Missed"}


def join_state(appointment: dict, opens_minutes: int, now: datetime) -> dict:
    """The scheduling service's answer when it gave one (get_appointment),
    else the same rule: open from N minutes before the start until the end."""
    if appointment.get("join"):
        return appointment["join"]
    starts = clinic_time.moment(appointment["starts_at"])
    ends = clinic_time.moment(appointment.get("ends_at") or appointment["starts_at"])
    opens = starts - timedelta(minutes=opens_minutes)
    is_open = appointment.get("status") == "scheduled" and opens <= now < ends
    return {"open": is_open, "opens_at": opens.strftime("%Y-%m-%dT%H:%M:%SZ"), "url": None}


def appointment_view(appointment: dict, zone, opens_minutes: int, now: datetime) -> dict:
    """What a row shows: when (clinic time), where, with whom, status, Join."""
    view = dict(appointment)
    view.update(clinic_time.span(appointment["starts_at"], appointment.get("ends_at"), zone))
    view["telehealth"] = appointment.get("mode") == "telehealth"
    place = ", ".join(part for part in (appointment.get("location_name"),
                                        appointment.get("location_address")) if part)
    view["where"] = "Telehealth (online)" if view["telehealth"] else (place or "At the clinic")
    view["status_words"] = STATUS_WORDS.get(appointment.get("status"), str(appointment.get("status", "")))
    ends = clinic_time.moment(appointment.get("ends_at") or appointment["starts_at"])
    view["join"] = None
    if view["telehealth"] and appointment.get("status") == "scheduled" and now < ends:
        join = join_state(appointment, opens_minutes, now)
        view["join"] = {"open": bool(join.get("open")),
                        "words": clinic_time.opens_words(join["opens_at"], zone, now)
                        if join.get("opens_at") else "Join opens a few minutes before the start"}
    return view


class PortalAppointmentPages:

    def _clinic_zone(self):
        return clinic_time.clinic_zone(self.settings)

    def _join_opens_minutes(self) -> int:
        return int(setting(self.settings, "JOIN_OPENS_MINUTES", JOIN_OPENS_MINUTES))

    def _appointment_or_404(self, request, session, appointment_id, fetch):
        """fetch() or, when it is not the client's, a 404 page after auditing the refusal."""
        try:
            return fetch(), None
        except RemoteError as error:
            if error.exc_type != "NotFound":
                raise
        self.clients.record_access(actor_of(session, request), "denied:appointment.read",
                                   session["acting_for"])
        return None, web.error_page(404, NOT_FOUND, session=session, area="portal")

    @http("GET", "/portal/appointments")
    @signed_in("portal")
    def portal_appointments(self, request, session):
        listing = self.scheduling.list_appointments(session["acting_for"])
        zone, minutes, now = self._clinic_zone(), self._join_opens_minutes(), datetime.now(timezone.utc)
        return web.page("portal/appointments.html", session=session, organization=self._organization(),
                        upcoming=[appointment_view(a, zone, minutes, now) for a in listing["upcoming"]],
                        past=[appointment_view(a, zone, minutes, now) for a in listing["past"]])

    @http("GET", "/portal/appointments/<appointment_id>")
    @signed_in("portal")
    def portal_appointment(self, request, session, appointment_id):
        appointment, refusal = self._appointment_or_404(
            request, session, appointment_id,
            lambda: self.scheduling.get_appointment(appointment_id, session["acting_for"]))
        if refusal:
            return refusal
        now = datetime.now(timezone.utc)
        return web.page("portal/appointment.html", session=session, organization=self._organization(),
                        appointment=appointment_view(appointment, self._clinic_zone(),
                                                     self._join_opens_minutes(), now))

    @http("GET", "/portal/appointments/<appointment_id>/join")
    @signed_in("portal")
    def portal_appointment_join(self, request, session, appointment_id):
        """302 to the session link while it is open (audited); before that a
        page that says when it opens."""
        appointment, refusal = self._appointment_or_404(
            request, session, appointment_id,
            lambda: self.scheduling.get_appointment(appointment_id, session["acting_for"]))
        if refusal:
            return refusal
        join = appointment.get("join") or {}
        if appointment.get("mode") == "telehealth" and join.get("open") and join.get("url"):
            self.clients.record_access(actor_of(session, request), "appointment.join",
                                       session["acting_for"])
            return web.redirect(join["url"], status=302)
        now = datetime.now(timezone.utc)
        return web.page("portal/appointment.html", session=session, organization=self._organization(),
                        appointment=appointment_view(appointment, self._clinic_zone(),
                                                     self._join_opens_minutes(), now),
                        not_yet=True)

    @http("GET", "/portal/appointments/<appointment_id>/calendar.ics")
    @signed_in("portal")
    def portal_appointment_ics(self, request, session, appointment_id):
        organization = self._organization()
        ics, refusal = self._appointment_or_404(
            request, session, appointment_id,
            lambda: self.scheduling.appointment_ics(appointment_id, session["acting_for"],
                                                    organization["name"]))
        if refusal:
            return refusal
        name = (ics.get("filename") or "appointment.ics").replace('"', "")
        return Response(ics["content"].encode("utf-8"), mimetype="text/calendar",
                        headers={**web.SECURITY_HEADERS,
                                 "Content-Disposition": f'attachment; filename="{name}"'})
