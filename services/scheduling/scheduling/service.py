"""Scheduling service: clients' appointments (in person at a location, or
by telehealth), the telehealth join window, calendar files, and the
AppointmentScheduled / AppointmentChanged events notifications reminds from.

The gateway decides who may ask (staff permission, the portal's session);
every portal read passes the client it acts for, and an appointment of
another client is NotFound."""
from __future__ import annotations

from servicekit.db import Database, utcnow
from servicekit.errors import EXPECTED
from servicekit.outbox import OutboxRelay
from servicekit.rpc import rpc

from scheduling import appointments, calendar_file, schemas
from scheduling.settings import Settings


class SchedulingService:
    name = "scheduling"
    db = Database()
    relay = OutboxRelay()
    settings = Settings()

    @rpc(expected_exceptions=EXPECTED)
    def schedule(self, client_id, payload, by, request_key):
        """A new appointment, in the clinic's time (`date`, `start_time`
        HH:MM, `duration_minutes`, `mode`, `location_id` + `location_name`
        (+ `location_address`) in person, `clinician_name`). The same
        `request_key` again: the first appointment."""
        client_id = schemas.identifier("client_id", client_id)
        who, key, now = schemas.by(by), schemas.request_key(request_key), utcnow()
        values = schemas.appointment_input(payload, self.settings.timezone, now)
        row = appointments.schedule(self.db, client_id, values, who, key, now,
                                    self.settings.timezone)
        self.db.commit()
        return self._out(row)

    @rpc(expected_exceptions=EXPECTED)
    def reschedule(self, appointment_id, payload, by, client_id=None):
        """New date, time, length, place or clinician (fields left out keep
        theirs). `client_id`: only that client's appointment."""
        who, now = schemas.by(by), utcnow()
        row = appointments.load(self.db, appointment_id, client_id, lock=True)
        values = schemas.appointment_input(payload, self.settings.timezone, now, current=row)
        appointments.reschedule(self.db, row, values, who, now, self.settings.timezone)
        self.db.commit()
        return self._out(row)

    @rpc(expected_exceptions=EXPECTED)
    def cancel(self, appointment_id, reason, by, client_id=None):
        who, reason = schemas.by(by), schemas.cancel_reason(reason)
        row = appointments.load(self.db, appointment_id, client_id, lock=True)
        appointments.cancel(self.db, row, reason, who, utcnow())
        self.db.commit()
        return self._out(row)

    @rpc(expected_exceptions=EXPECTED)
    def mark(self, appointment_id, status, by, client_id=None):
        """Completed or no-show, once it has started."""
        who, status = schemas.by(by), schemas.mark_status(status)
        row = appointments.load(self.db, appointment_id, client_id, lock=True)
        appointments.mark(self.db, row, status, who, utcnow())
        self.db.commit()
        return self._out(row)

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, client_id):
        """{"upcoming": soonest first, "past": newest first (cancelled too)};
        each with its `join` window, so a list can show Join without asking
        again."""
        rows = appointments.of_client(self.db, schemas.identifier("client_id", client_id))
        self.db.rollback()
        now = utcnow()
        upcoming, past = appointments.split(rows, now)
        return {name: [{**self._out(r), "join": schemas.join_out(r, self.settings, now)}
                       for r in group]
                for name, group in (("upcoming", upcoming), ("past", past))}

    @rpc(expected_exceptions=EXPECTED)
    def get_appointment(self, appointment_id, client_id=None):
        """The appointment and, for telehealth, its join window: `open`,
        `opens_at`, and the link only while open."""
        row = appointments.load(self.db, appointment_id,
                                schemas.optional_identifier("client_id", client_id))
        self.db.rollback()
        return {**self._out(row), "join": schemas.join_out(row, self.settings, utcnow())}

    @rpc(expected_exceptions=EXPECTED)
    def appointment_ics(self, appointment_id, client_id=None, organization_name=""):
        """{"filename": "appointment.ics", "content": the calendar file}."""
        row = appointments.load(self.db, appointment_id,
                                schemas.optional_identifier("client_id", client_id))
        self.db.rollback()
        return {"filename": "appointment.ics",
                "content": calendar_file.ics(row, organization_name)}

    def _out(self, row):
        return schemas.appointment_out(row, self.settings)
