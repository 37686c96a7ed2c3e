"""Staff appointment pages, the Appointments tab of a client's profile:
upcoming and past appointments, the schedule form (date, time, length, in
person at a location or telehealth, clinician), reschedule, cancel with a
reason (a confirmation page), and marking completed or no-show. Every
problem is shown next to its field; an appointment of another client is
"not found" and the attempt audited."""
from __future__ import annotations

import uuid

from nameko.exceptions import RemoteError
from portal_gateway.web import http

from servicekit.db import iso, utcnow
from servicekit.errors import InvalidFields

from portal_gateway import web
from portal_gateway.access import actor_of, signed_in

LENGTHS = [30, 45, 50, 60, 90]
STATUS_WORDS = {"scheduled": "Scheduled", "cancelled": "Cancelled", "completed": "Completed",
                "no_show": "No-show"}
NOTICES = {"scheduled": "Appointment scheduled. A reminder goes by email before it (unless the "
                        "client turned reminders off).",
           "rescheduled": "Appointment moved. The reminder follows the new time.",
           "cancelled": "Appointment cancelled. No reminder will be sent.",
           "completed": "Marked completed.", "no_show": "Marked no-show."}
NOT_FOUND = "We could not find that appointment."


def appointment_form(form) -> dict:
    """What a schedule or reschedule form sent, kept to show it again."""
    return {name: (form.get(name) or "").strip()
            for name in ("date", "start_time", "duration_minutes", "mode", "location_id",
                         "clinician_name", "request_key")}


def form_of(appointment: dict) -> dict:
    return {"date": appointment["local_date"], "start_time": appointment["local_start"],
            "duration_minutes": str(appointment["duration_minutes"]), "mode": appointment["mode"],
            "location_id": appointment["location_id"] or "",
            "clinician_name": appointment["clinician_name"], "request_key": ""}


def by_of(session: dict) -> dict:
    return {"kind": "staff", "id": session["subject_id"], "name": session.get("name") or "Staff"}


class StaffAppointmentPages:

    @http("GET", "/staff/clients/<client_id>/appointments")
    @signed_in("staff", "appointments.read")
    def client_appointments(self, request, session, client_id):
        return self._appointments_page(request, session, client_id,
                                       notice=request.args.get("notice", ""))

    @http("POST", "/staff/clients/<client_id>/appointments")
    @signed_in("staff", "appointments.write")
    def schedule_appointment(self, request, session, client_id):
        form = appointment_form(request.form)
        self._client(request, session, client_id).result()   # an unknown client: 404
        try:
            payload = self._appointment_payload(form)
            self.scheduling.schedule(client_id, payload, by_of(session), form["request_key"])
        except InvalidFields as problems:
            return self._appointments_page(request, session, client_id, form=form,
                                           errors=problems.errors, status=400)
        return web.redirect(f"/staff/clients/{client_id}/appointments?notice=scheduled")

    @http("GET", "/staff/clients/<client_id>/appointments/<appointment_id>/<action>")
    @signed_in("staff", "appointments.write")
    def appointment_action_page(self, request, session, client_id, appointment_id, action):
        if action not in ("reschedule", "cancel"):
            return web.error_page(404, "That page was not found.", session=session, area="staff")
        appointment = self._appointment_of(request, session, client_id, appointment_id)
        if appointment is None:
            return web.error_page(404, NOT_FOUND, session=session, area="staff")
        return self._action_page(request, session, client_id, appointment, action,
                                 form_of(appointment) if action == "reschedule" else {})

    @http("POST", "/staff/clients/<client_id>/appointments/<appointment_id>/<action>")
    @signed_in("staff", "appointments.write")
    def change_appointment(self, request, session, client_id, appointment_id, action):
        form = appointment_form(request.form)
        form["reason"] = (request.form.get("reason") or "").strip()
        try:
            if action == "reschedule":
                self.scheduling.reschedule(appointment_id, self._appointment_payload(form),
                                           by_of(session), client_id=client_id)
                notice = "rescheduled"
            elif action == "cancel":
                self.scheduling.cancel(appointment_id, form["reason"], by_of(session),
                                       client_id=client_id)
                notice = "cancelled"
            elif action == "mark":
                notice = request.form.get("status", "")
                self.scheduling.mark(appointment_id, notice, by_of(session), client_id=client_id)
            else:
                return web.error_page(404, "That page was not found.", session=session,
                                      area="staff")
        except InvalidFields as problems:
            if action == "mark":
                return self._appointments_page(request, session, client_id, status=400,
                                               error=" ".join(problems.errors.values()))
            appointment = self._appointment_of(request, session, client_id, appointment_id)
            if appointment is None:
                return web.error_page(404, NOT_FOUND, session=session, area="staff")
            return self._action_page(request, session, client_id, appointment, action, form,
                                     problems.errors, status=400)
        except RemoteError as error:
            if error.exc_type == "NotFound":
                self._denied(request, session, client_id)
                return web.error_page(404, NOT_FOUND, session=session, area="staff")
            if error.exc_type == "Conflict":
                return self._appointments_page(request, session, client_id, status=409,
                                               error=error.value)
            raise
        return web.redirect(f"/staff/clients/{client_id}/appointments?notice={notice}")

    # ---- pieces -----------------------------------------------------------------
    def _appointment_payload(self, form: dict) -> dict:
        """The form as scheduling reads it, with the location's name and
        address from the organization (one the clinic does not have: said
        next to the field)."""
        payload = {"date": form["date"], "start_time": form["start_time"],
                   "duration_minutes": form["duration_minutes"], "mode": form["mode"],
                   "clinician_name": form["clinician_name"]}
        if form["mode"] == "in_person" and form["location_id"]:
            found = [loc for loc in self._organization()["locations"]
                     if loc["id"] == form["location_id"]]
            if not found:
                raise InvalidFields({"location_id": "Choose one of the clinic's locations."})
            payload.update(location_id=found[0]["id"], location_name=found[0]["name"],
                           location_address=found[0].get("address") or "")
        return payload

    def _appointment_of(self, request, session, client_id, appointment_id) -> dict | None:
        try:
            return self.scheduling.get_appointment(appointment_id, client_id)
        except RemoteError as error:
            if error.exc_type != "NotFound":
                raise
        self._denied(request, session, client_id)
        return None

    def _denied(self, request, session, client_id) -> None:
        self.clients.record_access(actor_of(session, request), "denied:appointment", client_id,
                                   outcome="denied")

    def _client(self, request, session, client_id):
        return self.clients.get_client.call_async(client_id, actor_of(session, request),
                                                  "appointment.read")

    def _appointments_page(self, request, session, client_id, form=None, errors=None,
                           status=200, notice="", error=""):
        client = self._client(request, session, client_id)
        listing = self.scheduling.list_appointments.call_async(client_id)
        locations = self._organization()["locations"]
        form = form or {"date": "", "start_time": "", "duration_minutes": "50",
                        "mode": "in_person", "location_id": "", "clinician_name": ""}
        form["request_key"] = form.get("request_key") or uuid.uuid4().hex
        return web.page("staff/appointments.html", status=status, session=session,
                        client=client.result(), listing=listing.result(), locations=locations,
                        form=form, errors=errors or {}, notice=NOTICES.get(notice, ""),
                        error=error, lengths=LENGTHS, status_words=STATUS_WORDS,
                        now=iso(utcnow()), view="list")

    def _action_page(self, request, session, client_id, appointment, action, form,
                     errors=None, status=200):
        client = self._client(request, session, client_id)
        return web.page("staff/appointments.html", status=status, session=session,
                        client=client.result(), appointment=appointment,
                        locations=self._organization()["locations"], form=form,
                        errors=errors or {}, lengths=LENGTHS, status_words=STATUS_WORDS,
                        now=iso(utcnow()), view=action, notice="", error="")
