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
        return {**common, "kind": "staff", "subject_id": "st_1", "role": "administrator", "name": "Dr. Rivera",
                "permissions": PERMS}
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


def test_the_documents_pages_through_the_real_service(start_documents, container_factory):
    docs = start_documents()
    port = free_port()
    config = {**docs.config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}"}
    container_factory(Clients, config).start()
    container_factory(PortalGateway, config).start()
    base = f"http://127.0.0.1:{port}"
    s = requests.Session(); s.cookies.set("cairn_staff_session", "staff")
    p = requests.Session(); p.cookies.set("cairn_portal_session", "cl_1")
    other = requests.Session(); other.cookies.set("cairn_portal_session", "cl_2")
    tab = s.get(f"{base}/staff/clients/cl_1/documents")
    assert tab.status_code == 200, tab.text
    assert {"phq9", "gad7", "treatment", "release", "ct_1"} <= set(re.findall(r'<option value="([^"]+)"', tab.text))
    r = s.post(f"{base}/staff/clients/cl_1/documents/forms", data={"csrf": "c", "form_key": "phq9", "request_key": "k1"}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-800:]
    forms = p.get(f"{base}/portal/documents/forms").text
    fid = re.search(r'/portal/documents/forms/(\w+)"', forms).group(1)
    form = p.get(f"{base}/portal/documents/forms/{fid}").text
    assert form.count("<fieldset") == 10, form.count("<fieldset")
    r = p.post(f"{base}/portal/documents/forms/{fid}", data={"csrf": "c", "a-q1": "1"})
    assert r.status_code == 400
    assert len(re.findall(r'class="field-error" id="q-q\d-error"', r.text)) == 8
    # another client's form
    assert other.get(f"{base}/portal/documents/forms/{fid}").status_code == 404
    answers = {f"a-q{n}": "1" for n in range(1, 10)}
    r = p.post(f"{base}/portal/documents/forms/{fid}", data={"csrf": "c", **answers}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-600:]
    done = text(p.get(f"{base}/portal/documents/forms/{fid}").text)
    assert "988" in done and "out of 27" in done
    staff_tab = text(s.get(f"{base}/staff/clients/cl_1/documents").text)
    assert "Item 9 answered: Several days — follow up today" in staff_tab, staff_tab
    # survey
    r = p.post(f"{base}/portal/documents/surveys/gad7/start", data={"csrf": "c"}, allow_redirects=False)
    assert r.status_code == 303 and "/portal/documents/forms/" in r.headers["Location"], r.text
    # consents
    consent_key = "treatment"
    release_key = "release"
    r = s.post(f"{base}/staff/clients/cl_1/documents/consents", data={"csrf": "c", "template_key": consent_key, "request_key": "k2"}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-600:]
    r = s.post(f"{base}/staff/clients/cl_1/documents/consents", data={"csrf": "c", "template_key": release_key, "contact_id": "ct_1", "request_key": "k3"}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-900:]
    listing = p.get(f"{base}/portal/documents/consents").text
    assert re.search(r'data-testid="consents-badge">2<', listing)
    cid = re.findall(r'href="/portal/documents/consents/(\w+)" aria-label="Sign', listing)[0]
    r = p.post(f"{base}/portal/documents/consents/{cid}", data={"csrf": "c", "typed_name": ""})
    assert r.status_code == 400 and "typed_name-error" in r.text, text(r.text)[-500:]
    png = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + b"0" * 30).decode()
    r = p.post(f"{base}/portal/documents/consents/{cid}", data={"csrf": "c", "typed_name": "Avery Lee", "drawing": png}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-600:]
    assert re.search(r'data-testid="consents-badge">1<', p.get(f"{base}/portal/documents/consents").text)
    r = p.post(f"{base}/portal/documents/consents/{cid}", data={"csrf": "c", "typed_name": "Avery Lee"})
    assert r.status_code == 409 and "already signed" in r.text, (r.status_code, text(r.text)[-300:])
    pdf = p.get(f"{base}/portal/documents/consents/{cid}/signed.pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    assert other.get(f"{base}/portal/documents/consents/{cid}/signed.pdf").status_code == 404
    # upload
    r = p.post(f"{base}/portal/documents/upload", data={"csrf": "c", "request_key": "u1"}, files={"file": ("../../scan.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-500:]
    r = p.post(f"{base}/portal/documents/upload", data={"csrf": "c", "request_key": "u2"}, files={"file": ("notes.pdf", b"hello", "application/pdf")})
    assert r.status_code == 400
    assert "This file is not a PDF, JPEG, PNG or HEIC picture." in r.text
    ups = p.get(f"{base}/portal/documents/upload").text
    uid = re.search(r'/portal/documents/upload/(\w+)"', ups).group(1)
    assert p.get(f"{base}/portal/documents/upload/{uid}").content.startswith(b"%PDF")
    assert other.get(f"{base}/portal/documents/upload/{uid}").status_code == 404
    assert "scan.pdf" in s.get(f"{base}/staff/clients/cl_1/documents").text
    # resources and handbook
    r = s.post(f"{base}/staff/settings/resources", data={"csrf": "c", "kind": "survey", "title": "Mood check", "form_key": "phq9"}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-500:]
    r = s.post(f"{base}/staff/settings/resources", data={"csrf": "c", "kind": "link", "title": "Bad", "url": "ftp://x"})
    assert r.status_code == 400 and "url-error" in r.text, text(r.text)[-500:]
    r = s.post(f"{base}/staff/settings/handbook", data={"csrf": "c"}, files={"handbook": ("Handbook.pdf", b"%PDF-1.4\n%%EOF\n", "application/pdf")}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-500:]
    res = p.get(f"{base}/portal/documents/resources").text
    assert "Start this survey" in res
    assert "On file: Handbook.pdf" in s.get(f"{base}/staff/settings/resources").text
    # notes
    r = s.post(f"{base}/staff/clients/cl_1/documents/notes", data={"csrf": "c", "kind": "treatment_plan", "title": "Plan", "body": "Weekly.", "written_on": "2026-11-20", "author_name": "Dr. Rivera"}, allow_redirects=False)
    assert r.status_code == 303, text(r.text)[-500:]
    notes = p.get(f"{base}/portal/documents/notes").text
    nid = re.search(r'/portal/documents/notes/(\w+)"', notes).group(1)
    assert "Weekly." in p.get(f"{base}/portal/documents/notes/{nid}").text
    assert ("denied:document.read", "cl_2", "denied") in AUDIT
