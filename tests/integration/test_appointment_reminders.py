"""Appointments across the running stack: the front desk books one on the
client's Appointments tab, scheduling announces it, notifications keeps its
copy and its timer sends the reminder — once, with a neutral subject and no
clinician; the demo's telehealth appointment is reminded too."""
import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from nameko.standalone.rpc import ClusterRpcProxy

from tests.support.processes import wait_until

# reminders looked for every second; no quiet hours, so the test does not
# depend on the time of day it runs
STACK_ENV = {"CAIRN_REMINDER_POLL_SECONDS": "1", "CAIRN_QUIET_HOURS": "off"}
CLINIC = ZoneInfo("America/New_York")        # the default clinic zone


def reminders_to(cairn, address):
    return [m for m in cairn.mail.messages() if address in str(m["To"])
            and m["Subject"] == "Reminder: you have an upcoming appointment"]


def test_a_booked_appointment_is_reminded_once(cairn):
    staff = cairn.staff()
    page = staff.get("/staff/clients/cl_demo_jordan/appointments")
    assert page.status_code == 200 and "Schedule an appointment" in page.text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    key = re.search(r'name="request_key" value="([^"]+)"', page.text).group(1)
    at = (datetime.now(CLINIC) + timedelta(hours=3)).replace(second=0, microsecond=0)
    form = {"csrf": csrf, "request_key": key, "date": at.date().isoformat(),
            "start_time": f"{at:%H:%M}", "duration_minutes": "50", "mode": "in_person",
            "location_id": "loc_north", "clinician_name": "Dana Doctor"}
    booked = staff.post("/staff/clients/cl_demo_jordan/appointments", data=form)
    assert booked.url.endswith("/appointments?notice=scheduled"), booked.status_code
    assert "Appointment scheduled." in booked.text and "Dana Doctor" in booked.text

    [message] = wait_until(lambda: reminders_to(cairn, "jordan@demo.cairn.test") or None,
                           timeout=30, what="the appointment reminder")
    body = message.get_body(("plain",)).get_content()
    assert "42 Birch St, Shelbyville" in body                  # the address, not the name
    assert "North Clinic" not in body and "Dana" not in body and "Doctor" not in body
    with ClusterRpcProxy({"AMQP_URI": cairn.stack.env["CAIRN_AMQP_URI"]}, timeout=30) as rpc:
        sent = [d for d in rpc.notifications.list_deliveries(200)
                if d["kind"] == "appointment_reminder" and d["client_id"] == "cl_demo_jordan"]
    assert [d["status"] for d in sent] == ["sent"]


def test_the_demo_telehealth_appointment_is_reminded_without_the_link(cairn):
    [message] = wait_until(
        lambda: [m for m in reminders_to(cairn, "avery@demo.cairn.test")
                 if "Telehealth" in m.get_body(("plain",)).get_content()] or None,
        timeout=30, what="the demo appointment's reminder")
    body = message.get_body(("plain",)).get_content()
    assert "Telehealth (join from the portal)" in body and "telehealth.example" not in body
