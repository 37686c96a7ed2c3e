"""The Appointments tab of a client's profile, with stand-ins behind the
gateway: upcoming and past, schedule (the location's name and address come
from the organization), errors next to their fields with what was typed
kept, reschedule, cancel after a confirmation with a reason, mark completed
or no-show; another client's appointment is not found and audited; a role
without the permission is refused."""
import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, Conflict, InvalidFields, NotFound
from tests.support.processes import free_port

CALLS: list = []
LATER = "2099-01-01T00:00:00.000000Z"
PERMISSIONS = {"frontdesk": ["clients.read", "appointments.read", "appointments.write"],
               "biller": ["clients.read", "billing.read"]}


def appointment(id_, client_id, starts_at, mode="in_person", status="scheduled", **extra):
    return {"id": id_, "client_id": client_id, "starts_at": starts_at,
            "ends_at": starts_at.replace("T15", "T16"), "mode": mode,
            "location_id": "loc_main" if mode == "in_person" else None,
            "location_name": "Main Campus" if mode == "in_person" else "",
            "clinician_name": "Casey Clinician", "status": status, "cancelled_reason": None,
            "join_url": None, "local_date": starts_at[:10], "local_start": "09:00",
            "local_end": "09:50", "duration_minutes": 50,
            "when": f"{starts_at[:10]}, 9:00 AM – 9:50 AM CST", **extra}


APPOINTMENTS = {
    "apt_next": appointment("apt_next", "cl_1", "2098-12-03T15:00:00.000000Z", "telehealth",
                            join_url="https://video.example/room/r4nd0m"),
    "apt_done": appointment("apt_done", "cl_1", "2026-11-03T15:00:00.000000Z"),
    "apt_gone": appointment("apt_gone", "cl_1", "2026-10-03T15:00:00.000000Z",
                            status="cancelled", cancelled_reason="Client moved away"),
    "apt_other": appointment("apt_other", "cl_2", "2098-12-04T15:00:00.000000Z"),
}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER,
                "name": "Riley Front Desk", "kind": "staff", "subject_id": "st_1",
                "role": token, "permissions": PERMISSIONS[token]}

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", action, client_id, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "locations": [
            {"id": "loc_main", "name": "Main Campus", "address": "100 Cedar Ridge Rd"}]}

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, client_id, actor=None, purpose=None):
        CALLS.append(("get_client", client_id, purpose))
        if client_id not in ("cl_1", "cl_2"):
            raise NotFound("client not found")
        return {"id": client_id, "name": "Avery Lindqvist", "kind": "client"}


def _mine(appointment_id, client_id):
    found = APPOINTMENTS.get(appointment_id)
    if found is None or (client_id is not None and found["client_id"] != client_id):
        raise NotFound("We could not find that appointment.")
    return found


class Scheduling:
    name = "scheduling"

    @rpc(expected_exceptions=EXPECTED)
    def list_appointments(self, client_id):
        mine = [a for a in APPOINTMENTS.values() if a["client_id"] == client_id]
        return {"upcoming": [a for a in mine if a["starts_at"] > "2090"],
                "past": [a for a in mine if a["starts_at"] < "2090"]}

    @rpc(expected_exceptions=EXPECTED)
    def get_appointment(self, appointment_id, client_id=None):
        return {**_mine(appointment_id, client_id), "join": None}

    @rpc(expected_exceptions=EXPECTED)
    def schedule(self, client_id, payload, by, request_key):
        CALLS.append(("schedule", client_id, payload, by, request_key))
        if not payload["clinician_name"]:
            raise InvalidFields({"clinician_name": "Enter the clinician's name.",
                                 "start_time": "Casey Clinician already has an appointment "
                                               "at that time."})
        return appointment("apt_new", client_id, "2098-12-05T15:00:00.000000Z")

    @rpc(expected_exceptions=EXPECTED)
    def reschedule(self, appointment_id, payload, by, client_id=None):
        CALLS.append(("reschedule", appointment_id, payload, client_id))
        return _mine(appointment_id, client_id)

    @rpc(expected_exceptions=EXPECTED)
    def cancel(self, appointment_id, reason, by, client_id=None):
        found = _mine(appointment_id, client_id)
        if not reason.strip():
            raise InvalidFields({"reason": "Enter why the appointment is cancelled."})
        if found["status"] != "scheduled":
            raise Conflict("This appointment is already cancelled.")
        CALLS.append(("cancel", appointment_id, reason, client_id))
        return found

    @rpc(expected_exceptions=EXPECTED)
    def mark(self, appointment_id, status, by, client_id=None):
        found = _mine(appointment_id, client_id)
        CALLS.append(("mark", appointment_id, status, client_id))
        return found


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    for service in (Clients, Scheduling, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    return f"http://127.0.0.1:{port}/staff/clients"


def get(url, who="frontdesk"):
    return requests.get(url, cookies={"cairn_staff_session": who}, timeout=10,
                        allow_redirects=False)


def post(url, data, who="frontdesk"):
    return requests.post(url, data={"csrf": "c", **data}, cookies={"cairn_staff_session": who},
                         timeout=10, allow_redirects=False)


FORM = {"date": "2098-12-05", "start_time": "09:00", "duration_minutes": "50",
        "mode": "in_person", "location_id": "loc_main", "clinician_name": "Casey Clinician",
        "request_key": "rk_1"}


def test_the_tab_lists_upcoming_and_past_with_the_schedule_form(gateway):
    page = get(f"{gateway}/cl_1/appointments")
    assert page.status_code == 200
    upcoming, past = page.text.split('data-testid="past-appointments"')
    assert "2098-12-03, 9:00 AM" in upcoming and "Telehealth" in upcoming
    assert 'href="https://video.example/room/r4nd0m"' in upcoming     # staff join the room too
    assert "Reschedule the appointment on 2098-12-03" in upcoming
    assert "2026-11-03" in past and "In person · Main Campus" in past
    assert "Cancelled" in past and "Client moved away" in past
    assert "Mark no-show" in past and "2098-12-04" not in page.text   # not another client's
    assert "Not marked yet" in past
    assert '<h2 id="schedule">Schedule an appointment</h2>' in page.text
    assert '<option value="loc_main" >Main Campus</option>' in page.text
    assert ("get_client", "cl_1", "appointment.read") in CALLS
    assert 'aria-current="page">Appointments</a>' in page.text


def test_a_role_without_appointments_is_refused(gateway):
    assert get(f"{gateway}/cl_1/appointments", "biller").status_code == 403
    assert post(f"{gateway}/cl_1/appointments", FORM, "biller").status_code == 403
    assert not any(call[0] == "schedule" for call in CALLS)


def test_an_unknown_client_gets_no_appointment(gateway):
    assert post(f"{gateway}/cl_nobody/appointments", FORM).status_code == 404
    assert not any(call[0] == "schedule" for call in CALLS)


def test_scheduling_sends_the_location_from_the_organization(gateway):
    done = post(f"{gateway}/cl_1/appointments", FORM)
    assert done.status_code == 303
    assert done.headers["Location"] == "/staff/clients/cl_1/appointments?notice=scheduled"
    [(_, client_id, payload, by, key)] = [c for c in CALLS if c[0] == "schedule"]
    assert (client_id, key, by) == ("cl_1", "rk_1", {"kind": "staff", "id": "st_1",
                                                     "name": "Riley Front Desk"})
    assert payload == {"date": "2098-12-05", "start_time": "09:00", "duration_minutes": "50",
                       "mode": "in_person", "clinician_name": "Casey Clinician",
                       "location_id": "loc_main", "location_name": "Main Campus",
                       "location_address": "100 Cedar Ridge Rd"}
    assert "Appointment scheduled." in get(f"{gateway}/cl_1/appointments?notice=scheduled").text


def test_problems_are_shown_next_to_their_fields_and_what_was_typed_is_kept(gateway):
    page = post(f"{gateway}/cl_1/appointments", {**FORM, "clinician_name": ""})
    assert page.status_code == 400
    assert '<p class="field-error" id="clinician_name-error">Enter the clinician' in page.text
    assert 'id="start_time-error">Casey Clinician already has an appointment' in page.text
    assert 'aria-invalid="true" aria-describedby="clinician_name-error"' in page.text
    assert 'value="2098-12-05"' in page.text and 'value="rk_1"' in page.text
    unknown = post(f"{gateway}/cl_1/appointments", {**FORM, "location_id": "loc_gone"})
    assert unknown.status_code == 400
    assert 'id="location_id-error">Choose one of the clinic&#39;s locations.' in unknown.text


def test_cancel_asks_for_a_reason_first(gateway):
    confirm = get(f"{gateway}/cl_1/appointments/apt_next/cancel")
    assert confirm.status_code == 200 and "Cancel this appointment?" in confirm.text
    assert '<label for="reason">Why is it cancelled?</label>' in confirm.text
    refused = post(f"{gateway}/cl_1/appointments/apt_next/cancel", {"reason": " "})
    assert refused.status_code == 400
    assert 'id="reason-error">Enter why the appointment is cancelled.' in refused.text
    done = post(f"{gateway}/cl_1/appointments/apt_next/cancel", {"reason": "Client is unwell"})
    assert done.headers["Location"] == "/staff/clients/cl_1/appointments?notice=cancelled"
    assert ("cancel", "apt_next", "Client is unwell", "cl_1") in CALLS
    again = post(f"{gateway}/cl_1/appointments/apt_gone/cancel", {"reason": "x"})
    assert again.status_code == 409 and "already cancelled" in again.text


def test_reschedule_starts_from_the_current_time_and_mark_records_the_outcome(gateway):
    page = get(f"{gateway}/cl_1/appointments/apt_next/reschedule")
    assert page.status_code == 200 and 'value="2098-12-03"' in page.text
    assert 'value="09:00"' in page.text and 'value="telehealth" checked' in page.text
    done = post(f"{gateway}/cl_1/appointments/apt_next/reschedule",
                {**FORM, "mode": "telehealth", "start_time": "10:30"})
    assert done.headers["Location"] == "/staff/clients/cl_1/appointments?notice=rescheduled"
    [(_, _, payload, client_id)] = [c for c in CALLS if c[0] == "reschedule"]
    assert client_id == "cl_1" and payload["start_time"] == "10:30"
    assert "location_name" not in payload              # telehealth: no location sent
    marked = post(f"{gateway}/cl_1/appointments/apt_done/mark", {"status": "no_show"})
    assert marked.headers["Location"] == "/staff/clients/cl_1/appointments?notice=no_show"
    assert ("mark", "apt_done", "no_show", "cl_1") in CALLS


def test_another_clients_appointment_is_not_found_and_audited(gateway):
    for response in (get(f"{gateway}/cl_1/appointments/apt_other/cancel"),
                     get(f"{gateway}/cl_1/appointments/apt_other/reschedule"),
                     post(f"{gateway}/cl_1/appointments/apt_other/cancel", {"reason": "x"}),
                     post(f"{gateway}/cl_1/appointments/apt_other/mark", {"status": "completed"})):
        assert response.status_code == 404
        assert "We could not find that appointment." in response.text
    denied = [c for c in CALLS if c[0] == "record_access"]
    assert denied == [("record_access", "denied:appointment", "cl_1", "denied")] * 4
    assert not any(c[0] in ("cancel", "mark") and c[1] == "apt_other" for c in CALLS)


# ---- the page against the real scheduling service ------------------------------
@pytest.fixture
def gateway_and_scheduling(container_factory, rabbit_config, database_url):
    from scheduling.service import SchedulingService
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}",
              "DATABASE_URL": database_url("scheduling"), "CLINIC_TIMEZONE": "America/Chicago"}
    for service in (Clients, SchedulingService, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    return f"http://127.0.0.1:{port}/staff/clients"


def test_booking_through_the_page_with_the_real_service(gateway_and_scheduling):
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    base = gateway_and_scheduling
    day = (datetime.now(ZoneInfo("America/Chicago")) + timedelta(days=3)).date().isoformat()
    form = {**FORM, "date": day, "start_time": "14:00"}
    assert post(f"{base}/cl_1/appointments", form).status_code == 303
    again = post(f"{base}/cl_1/appointments", form)           # the same form twice: one
    assert again.status_code == 303
    page = get(f"{base}/cl_1/appointments")
    upcoming = page.text.split('data-testid="past-appointments"')[0]
    assert upcoming.count('<td data-label="When">') == 1 and "2:00 PM – 2:50 PM CST" in upcoming
    assert "In person · Main Campus" in upcoming and "Casey Clinician" in upcoming
    # the clinician is busy then: said next to the start time, for another client too
    clash = post(f"{base}/cl_2/appointments", {**form, "request_key": "rk_2",
                                                "start_time": "14:30", "mode": "telehealth"})
    assert clash.status_code == 400
    assert 'id="start_time-error">Casey Clinician already has an appointment at that time' \
        in clash.text
    # cancel it with a reason: it moves to the past with the reason
    apt_id = upcoming.split("/appointments/")[1].split("/")[0]
    assert post(f"{base}/cl_1/appointments/{apt_id}/cancel",
                {"reason": "Client asked to cancel"}).status_code == 303
    listed = get(f"{base}/cl_1/appointments").text
    past = listed.split('data-testid="past-appointments"')[1]
    assert "Cancelled" in past and "Client asked to cancel" in past
    assert post(f"{base}/cl_2/appointments/{apt_id}/cancel", {"reason": "x"}).status_code == 404
