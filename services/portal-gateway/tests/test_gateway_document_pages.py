"""The portal's Documents area and the staff Documents tab, through real HTTP
against stand-in clients and documents services: the sub-menu and its badge,
a PHQ-9 answered with errors shown all at once and then scored, a consent
signed (typed and drawn) once and only once, uploads as multipart (a huge
body refused before it is read), another client's ids a 404 that is
audited, and a front desk that sees a form was completed but not its score."""
import base64
import copy
import html as markup
import re

import pytest
import requests
from nameko.rpc import rpc

from portal_gateway.service import PortalGateway
from servicekit.errors import EXPECTED, Conflict, InvalidFields, NotFound
from tests.support.processes import free_port

LATER = "2099-01-01T00:00:00.000000Z"
CALLS: list = []
PDF = b"%PDF-1.7 signed consent"
PNG_URL = "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n drawn").decode()
UPLOAD_MAX = 2000
PERMISSIONS = {
    "clinician": ["clients.read", "documents.read", "documents.write", "clinical.read",
                  "clinical.write", "contacts.write"],
    "front": ["clients.read", "documents.read", "documents.write"],
    "admin": ["clients.read", "documents.read", "documents.write", "clinical.read",
              "clinical.write", "org.admin"],
}


def session_of(token):
    common = {"csrf": "c", "idle_expires_at": LATER, "expires_at": LATER}
    if token in PERMISSIONS:
        return {**common, "kind": "staff", "subject_id": f"st_{token}", "role": token,
                "name": f"Staff {token}", "permissions": PERMISSIONS[token]}
    if token == "contact":   # a third-party contact under a release (the shell adds `scope`)
        return {**common, "kind": "portal", "subject_id": "pa_9", "acting_for": "cl_1", "name": "Jordan Lee",
                "scope": "billing_and_clinical", "permissions": [],
                "clients": [{"id": "cl_1", "name": "Avery Lee", "scope": "billing_and_clinical"}]}
    return {**common, "kind": "portal", "subject_id": "pa_1", "acting_for": "cl_1", "name": "Avery Lee",
            "clients": [{"id": "cl_1", "name": "Avery Lee"}], "permissions": []}


class Clients:
    name = "clients"

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip):
        return session_of(token)

    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        CALLS.append(("record_access", actor["kind"], action, client_id, outcome))

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return {"name": "Cedar Ridge", "phone": "(555) 010-2000", "email": "", "locations": []}

    @rpc(expected_exceptions=EXPECTED)
    def client_record(self, client_id, actor):
        if client_id not in ("cl_1", "cl_2"):
            raise NotFound("We could not find that client.")
        return {"client": {"id": client_id, "name": "Avery Lee", "kind": "client"},
                "contacts": CONTACTS, "insurance": []}

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, client_id, actor=None, purpose=None):
        return {"id": client_id, "name": "Avery Lee", "kind": "client"}

    @rpc(expected_exceptions=EXPECTED)
    def list_contacts(self, client_id, actor, include_inactive=True):
        return CONTACTS


CONTACTS = [{"id": "ct_1", "name": "Jordan Lee", "relationship": "spouse", "may_receive": "billing",
             "roi_start": "2026-01-01", "roi_end": "2027-06-30", "active": True}]

PHQ9_QUESTIONS = [{"id": str(n), "text": f"Question {n}", "kind": "choice", "required": True,
                   "choices": [{"value": v, "label": label} for v, label in
                               enumerate(["Not at all", "Several days", "More than half the days",
                                          "Nearly every day"])]} for n in range(1, 10)]


def assignment(id_, client_id, status="assigned", **extra):
    return {"id": id_, "client_id": client_id, "form_key": "phq9", "title": "PHQ-9", "status": status,
            "assigned_at": "2026-11-20T10:00:00Z", "assigned_by_name": "Dr. Rivera",
            "self_started": False, "completed_at": None, "score": None, "severity": None,
            "severity_label": None, "flagged": False, **extra}


def consent(id_, client_id, status="outstanding", **extra):
    return {"id": id_, "client_id": client_id, "template_key": "treatment", "title": "Consent to treatment",
            "kind": "consent", "status": status, "requested_at": "2026-11-20T10:00:00Z",
            "requested_by_name": "Front Desk", "signed_at": None, "signer_name": None,
            "revoked_at": None, "contact_id": None, "contact_name": None, **extra}


START = {
    "forms": {
        "fa_1": assignment("fa_1", "cl_1"),
        "fa_2": assignment("fa_2", "cl_1", "completed", completed_at="2026-11-21T10:00:00Z",
                           score=14, severity="moderate", severity_label="Moderate", flagged=True,
                           answers={**{str(n): 1 for n in range(1, 9)}, "9": 2}),
        "fa_x": assignment("fa_x", "cl_2"),
    },
    "consents": {
        "co_1": consent("co_1", "cl_1"),
        "co_2": consent("co_2", "cl_1", title="Telehealth consent", template_key="telehealth"),
        "co_3": consent("co_3", "cl_1", "signed", kind="release", title="Release of information",
                        template_key="roi", signed_at="2026-11-02T10:00:00Z", signer_name="Avery Lee",
                        contact_id="ct_1", contact_name="Jordan Lee"),
        "co_x": consent("co_x", "cl_2"),
    },
    "notes": {
        "no_1": {"id": "no_1", "client_id": "cl_1", "kind": "treatment_plan", "title": "Plan for winter",
                 "body": "Weekly sessions; practice the breathing exercise.", "written_on": "2026-11-10",
                 "author_name": "Dr. Rivera", "shared_at": "2026-11-11T10:00:00Z", "shared_by": "Dr. Rivera"},
        "no_x": {"id": "no_x", "client_id": "cl_2", "kind": "note", "title": "Other", "body": "secret",
                 "written_on": "2026-11-10", "author_name": "Dr. Rivera",
                 "shared_at": "2026-11-11T10:00:00Z", "shared_by": "Dr. Rivera"},
    },
    "documents": {
        "do_x": {"id": "do_x", "client_id": "cl_2", "filename": "theirs.pdf", "content_type": "application/pdf",
                 "size": 10, "uploaded_at": "2026-11-01T10:00:00Z", "uploaded_by_kind": "portal",
                 "uploaded_by_name": "Someone"},
    },
}
STATE: dict = {}


def mine(table, id_, client_id):
    row = STATE[table].get(id_)
    if row is None or (client_id is not None and row["client_id"] != client_id):
        raise NotFound("We could not find that document.")
    return row


def pdf_download(name="consent.pdf"):
    return {"filename": name, "content_type": "application/pdf", "url": None,
            "content_b64": base64.b64encode(PDF).decode()}


class Documents:
    name = "documents"

    @rpc(expected_exceptions=EXPECTED)
    def portal_summary(self, client_id):
        return {"consents_outstanding": sum(1 for c in STATE["consents"].values()
                                            if c["client_id"] == client_id and c["status"] == "outstanding"),
                "forms_outstanding": sum(1 for f in STATE["forms"].values()
                                         if f["client_id"] == client_id and f["status"] == "assigned"),
                "handbook": None}

    @rpc(expected_exceptions=EXPECTED)
    def part2_notice(self):
        return "42 CFR part 2 prohibits unauthorized disclosure of these records."

    @rpc(expected_exceptions=EXPECTED)
    def list_form_templates(self):
        return [{"key": "phq9", "title": "PHQ-9", "kind": "screening", "self_start": True, "question_count": 10},
                {"key": "gad7", "title": "GAD-7", "kind": "screening", "self_start": True, "question_count": 7},
                {"key": "intake", "title": "Intake form", "kind": "intake", "self_start": False,
                 "question_count": 12}]

    @rpc(expected_exceptions=EXPECTED)
    def list_forms(self, client_id):
        return [{k: v for k, v in f.items() if k != "answers"} for f in STATE["forms"].values()
                if f["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def get_form(self, assignment_id, client_id=None):
        form = mine("forms", assignment_id, client_id)
        return {**form, "questions": PHQ9_QUESTIONS, "instructions": "Over the last 2 weeks…",
                "answers": form.get("answers", {})}

    @rpc(expected_exceptions=EXPECTED)
    def submit_form(self, assignment_id, client_id, answers, by):
        CALLS.append(("submit_form", assignment_id, client_id, answers, by["kind"]))
        form = mine("forms", assignment_id, client_id)
        if form["status"] == "completed":
            raise Conflict("This form is already completed.")
        missing = {q["id"]: f"Choose an answer for question {q['id']}." for q in PHQ9_QUESTIONS
                   if q["id"] not in answers}
        if missing:
            raise InvalidFields(missing)
        form.update(status="completed", answers=answers, completed_at="2026-12-01T10:00:00Z",
                    score=sum(int(v) for v in answers.values()), severity_label="Mild",
                    flagged=int(answers["9"]) > 0)
        return form

    @rpc(expected_exceptions=EXPECTED)
    def start_survey(self, client_id, form_key, by):
        CALLS.append(("start_survey", client_id, form_key))
        STATE["forms"]["fa_new"] = assignment("fa_new", client_id, self_started=True, form_key=form_key)
        return STATE["forms"]["fa_new"]

    @rpc(expected_exceptions=EXPECTED)
    def assign_form(self, client_id, form_key, by, request_key=None):
        CALLS.append(("assign_form", client_id, form_key, by["kind"], bool(request_key)))
        return assignment("fa_9", client_id)

    @rpc(expected_exceptions=EXPECTED)
    def list_shared_notes(self, client_id):
        return [{k: v for k, v in n.items() if k != "body"} for n in STATE["notes"].values()
                if n["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def get_shared_note(self, note_id, client_id=None):
        return mine("notes", note_id, client_id)

    @rpc(expected_exceptions=EXPECTED)
    def share_note(self, client_id, payload, by):
        CALLS.append(("share_note", client_id, payload["kind"], payload["title"]))
        if not payload.get("body"):
            raise InvalidFields({"body": "Write the text the client will read."})
        return {**payload, "id": "no_9", "client_id": client_id}

    @rpc(expected_exceptions=EXPECTED)
    def unshare_note(self, note_id, by):
        CALLS.append(("unshare_note", note_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_consent_templates(self):
        return [{"key": "treatment", "title": "Consent to treatment", "kind": "consent", "version": 1},
                {"key": "roi", "title": "Release of information (42 CFR Part 2)", "kind": "release",
                 "version": 1}]

    @rpc(expected_exceptions=EXPECTED)
    def list_consents(self, client_id):
        return [c for c in STATE["consents"].values() if c["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def get_consent(self, consent_id, client_id=None):
        found = mine("consents", consent_id, client_id)
        signature = None if not found["signed_at"] else {
            "typed_name": found["signer_name"], "method": "drawn", "signed_at": found["signed_at"],
            "ip": "203.0.113.9", "user_agent": "Firefox", "sha256": "ab" * 32, "verified": True}
        return {**found, "text": f"I agree to {found['title'].lower()}.\n\nSecond paragraph.",
                "signature": signature}

    @rpc(expected_exceptions=EXPECTED)
    def sign_consent(self, consent_id, client_id, signature, by, ip, user_agent):
        CALLS.append(("sign_consent", consent_id, client_id, signature, by["kind"], bool(ip)))
        found = mine("consents", consent_id, client_id)
        if found["status"] != "outstanding":
            raise Conflict("This consent is already signed.")
        if not signature["typed_name"]:
            raise InvalidFields({"typed_name": "Type your full name to sign."})
        found.update(status="signed", signed_at="2026-12-01T10:00:00Z", signer_name=signature["typed_name"])
        return found

    @rpc(expected_exceptions=EXPECTED)
    def request_consent(self, client_id, template_key, by, request_key=None, contact=None):
        CALLS.append(("request_consent", client_id, template_key, contact))
        return consent("co_9", client_id)

    @rpc(expected_exceptions=EXPECTED)
    def revoke_consent(self, consent_id, client_id, by):
        CALLS.append(("revoke_consent", consent_id, client_id, by["kind"]))
        found = mine("consents", consent_id, client_id)
        found.update(status="revoked", revoked_at="2026-12-01T10:00:00Z")
        return found

    @rpc(expected_exceptions=EXPECTED)
    def open_signed_consent(self, consent_id, client_id=None):
        mine("consents", consent_id, client_id)
        return pdf_download()

    @rpc(expected_exceptions=EXPECTED)
    def list_resources(self):
        return [{"id": "re_1", "title": "Breathing exercise", "description": "", "kind": "link",
                 "url": "https://example.org/breathe", "form_key": None, "filename": None,
                 "published_at": "2026-11-01T10:00:00Z"},
                {"id": "re_2", "title": "Sleep tips", "description": "One page", "kind": "file",
                 "url": None, "form_key": None, "filename": "sleep.pdf", "published_at": "2026-11-01T10:00:00Z"},
                {"id": "re_3", "title": "Mood check-in", "description": "", "kind": "survey",
                 "url": None, "form_key": "phq9", "filename": None, "published_at": "2026-11-01T10:00:00Z"}]

    @rpc(expected_exceptions=EXPECTED)
    def open_resource(self, resource_id):
        if resource_id != "re_2":
            raise NotFound("We could not find that document.")
        return {"filename": "sleep.pdf", "content_type": "application/pdf",
                "url": "http://127.0.0.1:9/presigned?X-Amz-Signature=abc", "content_b64": None}

    @rpc(expected_exceptions=EXPECTED)
    def add_resource(self, payload, by):
        CALLS.append(("add_resource", payload.get("kind"), payload.get("title"), payload.get("url")))
        return {**payload, "id": "re_9"}

    @rpc(expected_exceptions=EXPECTED)
    def remove_resource(self, resource_id, by):
        CALLS.append(("remove_resource", resource_id))

    @rpc(expected_exceptions=EXPECTED)
    def handbook(self):
        return None

    @rpc(expected_exceptions=EXPECTED)
    def set_handbook(self, filename, content_b64, by):
        CALLS.append(("set_handbook", filename, base64.b64decode(content_b64)[:4]))
        return {"filename": filename, "size": 10, "uploaded_at": "2026-12-01T10:00:00Z"}

    @rpc(expected_exceptions=EXPECTED)
    def list_documents(self, client_id):
        return [d for d in STATE["documents"].values() if d["client_id"] == client_id]

    @rpc(expected_exceptions=EXPECTED)
    def client_overview(self, client_id, clinical=False):
        forms = [{**f, "detail": self.get_form(f["id"], client_id)} if clinical and f.get("flagged")
                 else f for f in self.list_forms(client_id)]
        return {"uploads": self.list_documents(client_id), "forms": forms,
                "consents": self.list_consents(client_id),
                "notes": self.list_shared_notes(client_id) if clinical else None}

    @rpc(expected_exceptions=EXPECTED)
    def upload(self, client_id, filename, content_b64, by, request_key=None):
        data = base64.b64decode(content_b64)
        CALLS.append(("upload", client_id, filename, len(data), by["kind"], bool(request_key)))
        if not data.startswith(b"%PDF"):
            raise InvalidFields({"file": "This file is not a PDF, JPEG, PNG or HEIC picture."})
        STATE["documents"]["do_1"] = {
            "id": "do_1", "client_id": client_id, "filename": filename, "content_type": "application/pdf",
            "size": len(data), "uploaded_at": "2026-12-01T10:00:00Z", "uploaded_by_kind": by["kind"],
            "uploaded_by_name": by["name"]}
        return STATE["documents"]["do_1"]

    @rpc(expected_exceptions=EXPECTED)
    def open_document(self, document_id, client_id=None):
        return pdf_download(mine("documents", document_id, client_id)["filename"])


@pytest.fixture
def gateway(container_factory, rabbit_config):
    port = free_port()
    config = {**rabbit_config, "WEB_SERVER_ADDRESS": f"127.0.0.1:{port}", "UPLOAD_MAX_BYTES": UPLOAD_MAX,
              "EXPOSE_RPC_COUNT": "1"}
    for service in (Clients, Documents, PortalGateway):
        container_factory(service, config).start()
    CALLS.clear()
    STATE.clear()
    STATE.update(copy.deepcopy(START))
    return f"http://127.0.0.1:{port}"


def cookies(who):
    return {("cairn_portal_session" if who in ("portal", "contact") else "cairn_staff_session"): who}


def get(url, who="portal"):
    return requests.get(url, cookies=cookies(who), timeout=10, allow_redirects=False)


def post(url, who="portal", data=None, files=None):
    return requests.post(url, cookies=cookies(who), data={"csrf": "c", **(data or {})}, files=files,
                         timeout=10, allow_redirects=False)


def denied(client_id):
    return [c for c in CALLS if c[0] == "record_access" and c[4] == "denied" and c[3] == client_id]


def visible(html):
    """The page's text as a sighted person reads it (hidden text left out)."""
    html = re.sub(r'<span class="visually-hidden">.*?</span>', "", html)
    return markup.unescape(re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)))


# ---- portal --------------------------------------------------------------------------
def test_the_documents_area_has_its_sub_menu_and_a_badge_with_the_consents_to_sign(gateway):
    page = get(f"{gateway}/portal/documents")
    assert page.status_code == 200
    menu = re.search(r'<nav class="doc-menu" aria-label="Documents">(.*?)</nav>', page.text, re.S).group(1)
    assert [label for label in re.findall(r"<span>([^<]+)</span>", menu)] == [
        "Forms and Surveys", "Additional Surveys", "Notes, Assessments and Treatment Plans",
        "Consents", "Resources", "Upload"]
    badge = re.search(r'<span class="badge" data-testid="consents-badge">(.*?)</span></span>', menu).group(1)
    assert badge == '2<span class="visually-hidden"> to sign'
    assert "2 to sign" in page.text and "1 to do" in page.text
    waiting = re.search(r'data-testid="waiting">(.*?)</ul>', page.text, re.S).group(1)
    assert re.findall(r'href="([^"]+)" aria-label="([^"]+)"', waiting) == [
        ("/portal/documents/forms/fa_1", "Fill in PHQ-9"),
        ("/portal/documents/consents/co_1", "Sign Consent to treatment"),
        ("/portal/documents/consents/co_2", "Sign Telehealth consent")]


def test_a_consent_is_signed_typed_and_drawn_once_and_the_badge_drops(gateway):
    listing = get(f"{gateway}/portal/documents/consents").text
    assert 'aria-label="Sign Consent to treatment"' in listing and "<svg" in listing
    assert "Download signed copy" in listing    # the release signed before
    page = get(f"{gateway}/portal/documents/consents/co_1").text
    assert "I agree to consent to treatment." in page
    assert '<canvas class="signature-pad"' in page and 'name="typed_name"' in page
    assert page.index('id="typed_name"') < page.index(">Save</button>")
    saved = post(f"{gateway}/portal/documents/consents/co_1",
                 data={"typed_name": "  Avery   Lee ", "drawing": PNG_URL})
    assert saved.status_code == 303
    assert saved.headers["Location"] == "/portal/documents/consents?notice=signed"
    assert ("sign_consent", "co_1", "cl_1", {"typed_name": "Avery Lee", "drawing": PNG_URL},
            "portal", True) in CALLS
    after = get(f"{gateway}/portal/documents/consents?notice=signed").text
    assert "Your consent is signed and saved." in after
    assert re.search(r'data-testid="consents-badge">1<', after)
    again = post(f"{gateway}/portal/documents/consents/co_1", data={"typed_name": "Someone Else"})
    assert again.status_code == 409 and "This consent is already signed." in again.text
    assert STATE["consents"]["co_1"]["signer_name"] == "Avery Lee"


def test_signing_without_a_name_says_so_next_to_the_field_and_a_stray_drawing_is_dropped(gateway):
    page = post(f"{gateway}/portal/documents/consents/co_2",
                data={"typed_name": "", "drawing": "javascript:alert(1)"})
    assert page.status_code == 400
    assert 'id="typed_name-error">Type your full name to sign.' in page.text
    assert 'aria-describedby="typed_name-error"' in page.text
    assert CALLS[-1][3] == {"typed_name": "", "drawing": ""}
    assert STATE["consents"]["co_2"]["status"] == "outstanding"


def test_a_release_shows_its_contact_and_can_be_revoked_after_confirming(gateway):
    page = get(f"{gateway}/portal/documents/consents/co_3").text
    assert "This release covers" in page and "Jordan Lee" in page
    confirm = get(f"{gateway}/portal/documents/consents/co_3/revoke")
    assert confirm.status_code == 200 and "Yes, revoke" in confirm.text
    done = post(f"{gateway}/portal/documents/consents/co_3/revoke")
    assert done.headers["Location"] == "/portal/documents/consents?notice=revoked"
    assert ("revoke_consent", "co_3", "cl_1", "portal") in CALLS


def test_the_signed_copy_downloads_as_an_audited_attachment(gateway):
    page = get(f"{gateway}/portal/documents/consents/co_3/signed.pdf")
    assert page.status_code == 200 and page.content == PDF
    assert page.headers["Content-Disposition"] == 'attachment; filename="consent.pdf"'
    assert page.headers["Cache-Control"] == "no-store"
    assert ("record_access", "portal", "document.read", "cl_1", "ok") in CALLS


def test_a_presigned_file_resource_is_a_redirect_and_a_survey_resource_starts_it(gateway):
    page = get(f"{gateway}/portal/documents/resources")
    assert "https://example.org/breathe" in page.text and "Start this survey" in page.text
    download = get(f"{gateway}/portal/documents/resources/re_2")
    assert download.status_code == 302 and "X-Amz-Signature" in download.headers["Location"]
    started = post(f"{gateway}/portal/documents/surveys/phq9/start")
    assert started.headers["Location"] == "/portal/documents/forms/fa_new"
    assert ("start_survey", "cl_1", "phq9") in CALLS


def test_additional_surveys_offer_only_the_self_start_ones(gateway):
    page = get(f"{gateway}/portal/documents/surveys").text
    assert 'aria-label="Start PHQ-9"' in page and 'aria-label="Start GAD-7"' in page
    assert "Intake form" not in page


def test_a_phq9_shows_every_missing_answer_at_once_keeps_the_rest_then_scores(gateway):
    form = get(f"{gateway}/portal/documents/forms/fa_1").text
    assert form.count("<fieldset") == 9 and "<legend>1. Question 1" in form
    partial = {f"a-{n}": "1" for n in range(1, 7)}
    page = post(f"{gateway}/portal/documents/forms/fa_1", data=partial)
    assert page.status_code == 400
    for n in (7, 8, 9):
        assert f'id="q-{n}-error">Choose an answer for question {n}.' in page.text
    assert "There are 3 problems" in page.text
    assert page.text.count("checked") == 6          # the answers given are kept
    done = post(f"{gateway}/portal/documents/forms/fa_1",
                data={**partial, "a-7": "0", "a-8": "0", "a-9": "1"})
    assert done.headers["Location"] == "/portal/documents/forms/fa_1?notice=completed"
    assert CALLS[-1][3] == {**{str(n): "1" for n in range(1, 7)}, "7": "0", "8": "0", "9": "1"}


def test_a_completed_phq9_shows_the_score_in_plain_words_and_where_to_get_help(gateway):
    page = get(f"{gateway}/portal/documents/forms/fa_2").text
    text = visible(page)
    assert "Your total score is 14 out of 27." in text and "described as moderate." in text
    assert "(555) 010-2000" in text and "988" in text and "Suicide & Crisis Lifeline" in text
    assert "item 9" not in text.lower() and "follow up" not in text.lower()
    assert "<form" not in page.split('class="doc-main"')[1]    # read-only


def test_notes_are_listed_and_read_only(gateway):
    listing = get(f"{gateway}/portal/documents/notes").text
    assert "Plan for winter" in listing and "Treatment plan" in listing and "Other" not in listing
    page = get(f"{gateway}/portal/documents/notes/no_1").text
    assert "practice the breathing exercise" in page


def test_an_upload_goes_through_as_multipart_and_shows_in_your_uploads(gateway):
    page = get(f"{gateway}/portal/documents/upload").text
    key = re.search(r'name="request_key" value="([^"]+)"', page).group(1)
    assert 'accept=".pdf,.jpg,.jpeg,.png,.heic' in page
    done = post(f"{gateway}/portal/documents/upload", data={"request_key": key},
                files={"file": ("scan.pdf", b"%PDF-1.4 card", "application/pdf")})
    assert done.headers["Location"] == "/portal/documents/upload?notice=uploaded"
    assert ("upload", "cl_1", "scan.pdf", 13, "portal", True) in CALLS
    listing = get(f"{gateway}/portal/documents/upload?notice=uploaded").text
    assert "Your uploads" in listing and "scan.pdf" in listing and "The clinic can see it now." in listing
    download = get(f"{gateway}/portal/documents/upload/do_1")
    assert download.content == PDF and download.headers["Content-Disposition"] == 'attachment; filename="scan.pdf"'
    assert ("record_access", "portal", "document.read", "cl_1", "ok") in CALLS


def test_a_download_keeps_the_persons_own_file_name_for_browsers_that_read_it(gateway):
    post(f"{gateway}/portal/documents/upload",
         files={"file": ("Carte d’assurance.pdf", b"%PDF-1.4 card", "application/pdf")})
    download = get(f"{gateway}/portal/documents/upload/do_1")
    assert download.headers["Content-Disposition"] == (
        "attachment; filename=\"Carte d-assurance.pdf\"; "
        "filename*=UTF-8''Carte%20d%E2%80%99assurance.pdf")


def test_a_wrong_file_is_refused_next_to_the_field(gateway):
    page = post(f"{gateway}/portal/documents/upload",
                files={"file": ("notes.txt", b"just text", "text/plain")})
    assert page.status_code == 400
    assert 'id="file-error" role="alert">This file is not a PDF, JPEG, PNG or HEIC picture.' in page.text
    empty = post(f"{gateway}/portal/documents/upload", files={"file": ("", b"", "application/pdf")})
    assert empty.status_code == 400 and "Choose a file to upload." in empty.text


def test_a_body_over_the_cap_is_refused_before_it_is_read(gateway):
    page = post(f"{gateway}/portal/documents/upload",
                files={"file": ("big.pdf", b"%PDF" + b"x" * (UPLOAD_MAX + 70_000), "application/pdf")})
    assert page.status_code == 413 and "larger than" in page.text
    assert not any(call[0] == "upload" for call in CALLS)


def test_another_clients_ids_are_not_found_and_audited(gateway):
    for url in ("/portal/documents/forms/fa_x", "/portal/documents/notes/no_x",
                "/portal/documents/consents/co_x", "/portal/documents/consents/co_x/signed.pdf",
                "/portal/documents/upload/do_x", "/portal/documents/consents/co_x/revoke"):
        page = get(gateway + url)
        assert page.status_code == 404, url
        assert "We could not find that document." in page.text
    signed = post(f"{gateway}/portal/documents/consents/co_x", data={"typed_name": "Avery Lee"})
    assert signed.status_code == 404
    assert len(denied("cl_1")) == 7
    assert all(call[2] == "denied:document.read" for call in denied("cl_1"))
    assert STATE["consents"]["co_x"]["status"] == "outstanding"


def test_a_contact_under_a_release_reads_but_cannot_sign_upload_or_answer(gateway):
    consents = get(f"{gateway}/portal/documents/consents", "contact")
    assert consents.status_code == 200 and "Waiting for the client’s signature" in consents.text
    assert 'aria-label="Sign' not in consents.text
    assert 'type="file"' not in get(f"{gateway}/portal/documents/upload", "contact").text
    assert 'name="typed_name"' not in get(f"{gateway}/portal/documents/consents/co_1", "contact").text
    signed = post(f"{gateway}/portal/documents/consents/co_1", "contact", data={"typed_name": "Jordan Lee"})
    assert signed.status_code == 403 and "only the client or a guardian can sign" in signed.text
    uploaded = post(f"{gateway}/portal/documents/upload", "contact",
                    files={"file": ("x.pdf", b"%PDF-1.4", "application/pdf")})
    assert uploaded.status_code == 403
    assert post(f"{gateway}/portal/documents/forms/fa_1", "contact", data={"a-1": "0"}).status_code == 403
    assert not [c for c in CALLS if c[0] in ("sign_consent", "upload", "submit_form")]
    assert [c[2] for c in denied("cl_1")] == ["denied:document.write"] * 3
    assert STATE["consents"]["co_1"]["status"] == "outstanding"


def test_each_portal_documents_page_costs_at_most_two_rpcs(gateway):
    """Once the session, organization and templates are cached: the page's
    own read and the badge's summary, asked at once."""
    pages = ["/portal/documents", "/portal/documents/forms", "/portal/documents/forms/fa_1",
             "/portal/documents/surveys", "/portal/documents/notes", "/portal/documents/notes/no_1",
             "/portal/documents/consents", "/portal/documents/consents/co_1",
             "/portal/documents/resources", "/portal/documents/upload"]
    for url in pages:
        get(gateway + url)
    for url in pages:
        page = get(gateway + url)
        assert page.status_code == 200, url
        assert int(re.search(r'rpc;desc="(\d+)"', page.headers["Server-Timing"]).group(1)) <= 2, url


# ---- staff ---------------------------------------------------------------------------
def test_a_clinician_sees_scores_and_the_item9_flag_in_words(gateway):
    page = get(f"{gateway}/staff/clients/cl_1/documents", "clinician")
    assert page.status_code == 200
    text = visible(page.text)
    assert "Item 9 answered: More than half the days — follow up today" in text
    assert "Moderate" in text and "14" in text
    assert "Plan for winter" in text
    detail = visible(get(f"{gateway}/staff/clients/cl_1/documents/forms/fa_2", "clinician").text)
    assert "Item 9 answered: More than half the days — follow up today" in detail


def test_a_front_desk_sees_a_form_was_completed_but_not_its_score(gateway):
    page = get(f"{gateway}/staff/clients/cl_1/documents", "front")
    text = visible(page.text)
    assert page.status_code == 200 and "Completed 2026-11-21" in text
    assert "Moderate" not in text and "follow up" not in text and "Plan for winter" not in text
    detail = get(f"{gateway}/staff/clients/cl_1/documents/forms/fa_2", "front")
    assert "Moderate" not in detail.text and "Nearly every day" not in detail.text
    assert get(f"{gateway}/staff/clients/cl_1/documents/notes/no_1", "front").status_code == 403


def test_staff_assign_a_form_and_request_a_release_for_a_contact(gateway):
    assigned = post(f"{gateway}/staff/clients/cl_1/documents/forms", "front",
                    data={"form_key": "gad7", "request_key": "k1"})
    assert assigned.headers["Location"] == "/staff/clients/cl_1/documents?notice=assigned#forms"
    assert ("assign_form", "cl_1", "gad7", "staff", True) in CALLS
    missing = post(f"{gateway}/staff/clients/cl_1/documents/consents", "front",
                   data={"template_key": "roi"})
    assert missing.status_code == 400
    assert 'id="consent-contact_id-error">Choose the contact this release covers.' in missing.text
    requested = post(f"{gateway}/staff/clients/cl_1/documents/consents", "front",
                     data={"template_key": "roi", "contact_id": "ct_1", "request_key": "k2"})
    assert requested.status_code == 303
    assert ("request_consent", "cl_1", "roi", {"id": "ct_1", "name": "Jordan Lee", "may_receive": "billing",
                                                "until": "2027-06-30"}) in CALLS


def test_staff_share_a_note_with_errors_by_the_field_and_unshare(gateway):
    refused = post(f"{gateway}/staff/clients/cl_1/documents/notes", "clinician",
                   data={"kind": "assessment", "title": "Intake assessment", "body": ""})
    assert refused.status_code == 400 and 'id="note-body-error">Write the text' in refused.text
    assert 'value="Intake assessment"' in refused.text
    assert post(f"{gateway}/staff/clients/cl_1/documents/notes", "front",
                data={"kind": "note", "title": "x", "body": "y"}).status_code == 403
    gone = post(f"{gateway}/staff/clients/cl_1/documents/notes/no_1/unshare", "clinician")
    assert gone.status_code == 303 and ("unshare_note", "no_1") in CALLS
    other = post(f"{gateway}/staff/clients/cl_1/documents/notes/no_x/unshare", "clinician")
    assert other.status_code == 404 and ("unshare_note", "no_x") not in CALLS


def test_staff_upload_download_and_revoke_a_release(gateway):
    done = post(f"{gateway}/staff/clients/cl_1/documents/upload", "front",
                files={"file": ("referral.pdf", b"%PDF-1.4 ref", "application/pdf")})
    assert done.status_code == 303 and ("upload", "cl_1", "referral.pdf", 12, "staff", False) in CALLS
    page = get(f"{gateway}/staff/clients/cl_1/documents", "front").text
    assert "referral.pdf" in page and "Revoke" in page
    copy_ = get(f"{gateway}/staff/clients/cl_1/documents/consents/co_3/signed.pdf", "front")
    assert copy_.content == PDF and ("record_access", "staff", "document.read", "cl_1", "ok") in CALLS
    confirm = get(f"{gateway}/staff/clients/cl_1/documents/consents/co_3/revoke", "front")
    assert confirm.status_code == 200 and "Jordan Lee" in confirm.text
    revoked = post(f"{gateway}/staff/clients/cl_1/documents/consents/co_3/revoke", "front")
    assert revoked.status_code == 303 and ("revoke_consent", "co_3", "cl_1", "staff") in CALLS


def test_staff_see_a_signed_consent_its_text_and_how_it_was_signed(gateway):
    page = get(f"{gateway}/staff/clients/cl_1/documents/consents/co_3", "front")
    text = visible(page.text)
    assert page.status_code == 200 and "I agree to release of information." in text
    assert "Typed name and drawing" in text and "203.0.113.9" in text and "ab" * 32 in text
    assert "Signed copy unchanged Yes" in text and "Revoke this release" in text
    assert get(f"{gateway}/staff/clients/cl_1/documents/consents/co_x", "front").status_code == 404


def test_staff_asking_for_another_clients_ids_get_404_audited(gateway):
    for url in ("/staff/clients/cl_1/documents/forms/fa_x", "/staff/clients/cl_1/documents/uploads/do_x",
                "/staff/clients/cl_1/documents/consents/co_x/signed.pdf",
                "/staff/clients/cl_1/documents/notes/no_x"):
        assert get(gateway + url, "clinician").status_code == 404, url
    assert post(f"{gateway}/staff/clients/cl_1/documents/consents/co_x/revoke",
                "clinician").status_code == 404
    assert len(denied("cl_1")) == 5
    assert STATE["consents"]["co_x"]["status"] == "outstanding"


def test_resources_settings_publish_unpublish_and_the_handbook(gateway):
    assert get(f"{gateway}/staff/settings/resources", "front").status_code == 403
    page = get(f"{gateway}/staff/settings/resources", "admin")
    assert page.status_code == 200 and "Breathing exercise" in page.text and "No handbook yet." in page.text
    added = post(f"{gateway}/staff/settings/resources", "admin",
                 data={"kind": "link", "title": "Crisis line", "url": "https://988lifeline.org"})
    assert added.headers["Location"] == "/staff/settings/resources?notice=resource-added"
    assert ("add_resource", "link", "Crisis line", "https://988lifeline.org") in CALLS
    missing = post(f"{gateway}/staff/settings/resources", "admin", data={"kind": "file", "title": "Sleep"})
    assert missing.status_code == 400 and 'id="file-error">Choose a file to upload.' in missing.text
    assert 'value="Sleep"' in missing.text
    filed = post(f"{gateway}/staff/settings/resources", "admin", data={"kind": "file", "title": "Sleep"},
                 files={"file": ("sleep.pdf", b"%PDF-1.4 sleep", "application/pdf")})
    assert filed.status_code == 303 and ("add_resource", "file", "Sleep", None) in CALLS
    assert post(f"{gateway}/staff/settings/resources/re_1/remove", "admin").status_code == 303
    assert ("remove_resource", "re_1") in CALLS
    saved = post(f"{gateway}/staff/settings/handbook", "admin",
                 files={"handbook": ("Handbook.pdf", b"%PDF-1.4 hb", "application/pdf")})
    assert saved.headers["Location"] == "/staff/settings/resources?notice=handbook"
    assert ("set_handbook", "Handbook.pdf", b"%PDF") in CALLS
