"""The gateway's Documents pages against the real documents service (its
own PostgreSQL database and files, the `start_documents` fixture of this
folder's conftest) with a stand-in clients service: staff assign a PHQ-9,
the portal answers it (every missing answer named at once) and sees its
score in plain words with the crisis line, staff see the item-9 flag; a
survey started by the patient; a consent signed once (typed and drawn) and
the badge one lower; a release for a contact; uploads (a wrong file refused
by its bytes); resources, the handbook and a shared note; another client's
ids a 404."""
import base64
import html as markup
import re

import pytest
import requests
from nameko.rpc import rpc

pytest.importorskip("documents.service")      # with the documents service (issue 9)
pytest.importorskip("portal_gateway.service")

from portal_gateway.service import PortalGateway  # noqa: E402
from servicekit.errors import EXPECTED  # noqa: E402
from tests.support.processes import free_port  # noqa: E402


LATER = "2099-01-01T00:00:00.000000Z"
AUDIT = []
PERMS = ["clients.read", "documents.read", "documents.write", "clinical.read", "clinical.write", "org.admin"]


def session_of(token):
    common = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER}
    if token == "staff":
        return {**common, "kind": "staff", "subject_id": "st_1", "role": "administrator",
                "name": "Dr. Rivera", "permissions": PERMS}
    return {**common, "kind": "portal", "subject_id": "pa_1", "acting_for": token, "name": "Avery Lee",
            "clients": [{"id": token, "name": "Avery Lee"}], "permissions": []}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return session_of(token)

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        AUDIT.append((action, client_id, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "phone": "(555) 010-2000", "email": "", "locations": []}

    @rpc(expected_exceptions=EXPECTED)
    def client_record(self, client_id, actor):
        return {"client": {"id": client_id, "name": "Avery Lee", "kind": "client"}, "contacts": CONTACTS,
                "insurance": []}

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, client_id, actor=None, purpose=None):
        return {"id": client_id, "name": "Avery Lee", "kind": "client"}

    @rpc(expected_exceptions=EXPECTED)
    def list_contacts(self, client_id, actor, include_inactive=True):
        return CONTACTS


CONTACTS = [{"id": "ct_1", "name": "Jordan Lee", "relationship": "spouse", "may_receive": "billing",
             "roi_start": "2026-01-01", "roi_end": "2027-06-30", "active": True}]


def text(page):
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page)))


class Browser:
    """One person's cookie, and their requests (a form carries the CSRF token)."""

    def __init__(self, base, cookie, token):
        self.base, self.http = base, requests.Session()
        self.http.cookies.set(cookie, token)

    def get(self, path):
        return self.http.get(self.base + path, timeout=15, allow_redirects=False)

    def post(self, path, files=None, **data):
        return self.http.post(self.base + path, data={"csrf": "c", **data}, files=files,
                              timeout=15, allow_redirects=False)


@pytest.fixture
def people(start_documents, container_factory):
    """(staff, the patient of cl_1, the patient of cl_2) before the gateway."""
    docs = start_documents()
    port = free_port()
    config = {**docs.config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    container_factory(Clients, config).start()
    container_factory(PortalGateway, config).start()
    base = f"http://127.0.0.1:{port}"
    AUDIT.clear()
    return (Browser(base, "cairn_staff_session", "staff"), Browser(base, "cairn_portal_session", "cl_1"),
            Browser(base, "cairn_portal_session", "cl_2"))


def test_a_phq9_assigned_answered_scored_and_flagged(people):
    staff, patient, other = people
    tab = staff.get("/staff/clients/cl_1/documents")
    assert tab.status_code == 200
    offered = set(re.findall(r'<option value="([^"]+)"', tab.text))
    assert {"phq9", "gad7", "treatment", "release", "ct_1"} <= offered
    assert staff.post("/staff/clients/cl_1/documents/forms", form_key="phq9",
                      request_key="k1").status_code == 303
    fid = re.search(r'/portal/documents/forms/(\w+)"', patient.get("/portal/documents/forms").text).group(1)
    assert patient.get(f"/portal/documents/forms/{fid}").text.count("<fieldset") == 10
    refused = patient.post(f"/portal/documents/forms/{fid}", **{"a-q1": "1"})
    assert refused.status_code == 400
    assert len(re.findall(r'class="field-error" id="q-q\d-error"', refused.text)) == 8
    assert other.get(f"/portal/documents/forms/{fid}").status_code == 404
    assert ("denied:document.read", "cl_2", "denied") in AUDIT
    answers = {f"a-q{n}": "1" for n in range(1, 10)}
    assert patient.post(f"/portal/documents/forms/{fid}", **answers).status_code == 303
    done = text(patient.get(f"/portal/documents/forms/{fid}").text)
    assert "Your total score is 9 out of 27." in done and "988" in done
    assert "Item 9 answered: Several days — follow up today" in \
        text(staff.get("/staff/clients/cl_1/documents").text)
    started = patient.post("/portal/documents/surveys/gad7/start")
    assert started.status_code == 303 and "/portal/documents/forms/" in started.headers["Location"]


def test_a_consent_signed_once_and_a_release_for_a_contact(people):
    staff, patient, other = people
    assert staff.post("/staff/clients/cl_1/documents/consents", template_key="treatment",
                      request_key="k2").status_code == 303
    assert staff.post("/staff/clients/cl_1/documents/consents", template_key="release",
                      contact_id="ct_1", request_key="k3").status_code == 303
    listing = patient.get("/portal/documents/consents").text
    assert re.search(r'data-testid="consents-badge">2<', listing)
    cid = re.findall(r'href="/portal/documents/consents/(\w+)" aria-label="Sign', listing)[0]
    unsigned = patient.post(f"/portal/documents/consents/{cid}", typed_name="")
    assert unsigned.status_code == 400 and 'id="typed_name-error"' in unsigned.text
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 30).decode()
    signed = patient.post(f"/portal/documents/consents/{cid}", typed_name="Avery Lee", drawing=png)
    assert signed.status_code == 303
    assert re.search(r'data-testid="consents-badge">1<', patient.get("/portal/documents/consents").text)
    again = patient.post(f"/portal/documents/consents/{cid}", typed_name="Avery Lee")
    assert again.status_code == 409 and "already signed" in again.text
    copy = patient.get(f"/portal/documents/consents/{cid}/signed.pdf")
    assert copy.status_code == 200 and copy.content.startswith(b"%PDF")
    assert other.get(f"/portal/documents/consents/{cid}/signed.pdf").status_code == 404
    details = text(staff.get(f"/staff/clients/cl_1/documents/consents/{cid}").text)
    assert "Typed name and drawing" in details and "Signed copy unchanged Yes" in details


def test_uploads_resources_handbook_and_a_shared_note(people):
    staff, patient, other = people
    pdf = b"%PDF-1.4\n%%EOF\n"
    stored = patient.post("/portal/documents/upload", request_key="u1",
                          files={"file": ("../../scan.pdf", pdf, "application/pdf")})
    assert stored.status_code == 303
    refused = patient.post("/portal/documents/upload", request_key="u2",
                           files={"file": ("notes.pdf", b"hello", "application/pdf")})
    assert refused.status_code == 400
    assert "This file is not a PDF, JPEG, PNG or HEIC picture." in refused.text
    uid = re.search(r'/portal/documents/upload/(\w+)"', patient.get("/portal/documents/upload").text).group(1)
    assert patient.get(f"/portal/documents/upload/{uid}").content.startswith(b"%PDF")
    assert other.get(f"/portal/documents/upload/{uid}").status_code == 404
    assert "scan.pdf" in staff.get("/staff/clients/cl_1/documents").text

    assert staff.post("/staff/settings/resources", kind="survey", title="Mood check",
                      form_key="phq9").status_code == 303
    bad_link = staff.post("/staff/settings/resources", kind="link", title="Bad", url="ftp://x")
    assert bad_link.status_code == 400 and 'id="url-error"' in bad_link.text
    assert staff.post("/staff/settings/handbook",
                      files={"handbook": ("Handbook.pdf", pdf, "application/pdf")}).status_code == 303
    assert "Start this survey" in patient.get("/portal/documents/resources").text
    assert "On file: Handbook.pdf" in staff.get("/staff/settings/resources").text

    assert staff.post("/staff/clients/cl_1/documents/notes", kind="treatment_plan", title="Plan",
                      body="Weekly.", written_on="2026-11-20",
                      author_name="Dr. Rivera").status_code == 303
    nid = re.search(r'/portal/documents/notes/(\w+)"', patient.get("/portal/documents/notes").text).group(1)
    assert "Weekly." in patient.get(f"/portal/documents/notes/{nid}").text
