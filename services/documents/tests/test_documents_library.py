"""Resources, the client handbook and shared notes through the running
service on real PostgreSQL."""
import base64

import pytest
from nameko.exceptions import RemoteError

from servicekit.errors import InvalidFields

from documents_testkit import EXE, PDF, PNG, PORTAL, STAFF, b64, stored_files


def remote(call, exc_type):
    with pytest.raises(RemoteError) as caught:
        call()
    assert caught.value.exc_type == exc_type
    return str(caught.value)


# ---- resources ---------------------------------------------------------------

def test_staff_publish_a_link_a_file_and_a_survey_and_patients_see_them(documents):
    link = documents.rpc.add_resource({"title": "Crisis lines", "description": "Call any time.",
                                       "kind": "link", "url": "https://988lifeline.org"}, STAFF)
    leaflet = documents.rpc.add_resource({"title": "Sleep hygiene", "kind": "file",
                                          "filename": "sleep.pdf", "content_b64": b64(PDF)}, STAFF)
    survey = documents.rpc.add_resource({"title": "How are you feeling?", "kind": "survey",
                                         "form_key": "phq9"}, STAFF)
    assert (link["kind"], link["url"], link["form_key"], link["filename"]) == (
        "link", "https://988lifeline.org", None, None)
    assert (leaflet["filename"], survey["form_key"]) == ("sleep.pdf", "phq9")
    assert [r["id"] for r in documents.rpc.list_resources()] == [survey["id"], leaflet["id"],
                                                                 link["id"]]
    opened = documents.rpc.open_resource(leaflet["id"])
    assert base64.b64decode(opened["content_b64"]) == PDF and opened["filename"] == "sleep.pdf"
    remote(lambda: documents.rpc.open_resource(link["id"]), "NotFound")   # a link has no file

    documents.rpc.remove_resource(leaflet["id"], STAFF)
    documents.rpc.remove_resource(leaflet["id"], STAFF)                   # twice: still removed
    assert [r["id"] for r in documents.rpc.list_resources()] == [survey["id"], link["id"]]
    assert "We could not find that resource." in remote(
        lambda: documents.rpc.open_resource(leaflet["id"]), "NotFound")


def test_a_resource_with_bad_fields_is_refused_field_by_field(documents):
    with pytest.raises(InvalidFields) as caught:
        documents.rpc.add_resource({"title": "", "kind": "link", "url": "javascript:alert(1)"}, STAFF)
    assert caught.value.errors == {"title": "Enter a title.",
                                   "url": "Enter a web address that starts with https://."}
    with pytest.raises(InvalidFields) as caught:
        documents.rpc.add_resource({"title": "Tool", "kind": "file", "filename": "tool.pdf",
                                    "content_b64": b64(EXE)}, STAFF)
    assert caught.value.errors == {"file": "This file is not a PDF, JPEG, PNG or HEIC picture."}
    with pytest.raises(InvalidFields) as caught:
        documents.rpc.add_resource({"title": "Tool", "kind": "video"}, STAFF)
    assert caught.value.errors == {"kind": "Choose a file, a link or a survey."}
    assert documents.rpc.list_resources() == [] and stored_files(documents.files) == []


def test_only_staff_publish(documents):
    remote(lambda: documents.rpc.add_resource({"title": "x", "kind": "link",
                                               "url": "https://a.test"}, PORTAL), "Forbidden")
    remote(lambda: documents.rpc.set_handbook("h.pdf", b64(PDF), PORTAL), "Forbidden")
    remote(lambda: documents.rpc.share_note("cl_1", {}, PORTAL), "Forbidden")


# ---- the client handbook -----------------------------------------------------

def test_the_handbook_is_a_pdf_and_the_newest_one_is_served(documents):
    assert documents.rpc.handbook() is None
    assert "has not published a client handbook" in remote(documents.rpc.open_handbook, "NotFound")
    with pytest.raises(InvalidFields) as caught:
        documents.rpc.set_handbook("handbook.png", b64(PNG), STAFF)
    assert caught.value.errors == {"file": "The handbook must be a PDF file."}

    first = documents.rpc.set_handbook("C:\\docs\\Handbook 2025.pdf", b64(PDF), STAFF)
    assert (first["filename"], first["size"]) == ("Handbook 2025.pdf", len(PDF))
    newer = PDF + b"% 2026\n"
    documents.rpc.set_handbook("Handbook 2026.pdf", b64(newer), STAFF)
    assert documents.rpc.handbook()["filename"] == "Handbook 2026.pdf"
    opened = documents.rpc.open_handbook()
    assert base64.b64decode(opened["content_b64"]) == newer
    assert opened["content_type"] == "application/pdf"


def test_handbook_info_is_what_the_portal_summary_shows(documents):
    from sqlalchemy.orm import Session

    from documents.library import handbook_info
    with Session(documents.engine) as session:
        assert handbook_info(session) is None
    documents.rpc.set_handbook("Handbook.pdf", b64(PDF), STAFF)
    with Session(documents.engine) as session:
        assert handbook_info(session) == {"filename": "Handbook.pdf"}


# ---- shared notes ------------------------------------------------------------

PLAN = {"kind": "treatment_plan", "title": "Treatment plan", "body": "Goals:\n1. Sleep 7 hours",
        "written_on": "2026-11-20", "author_name": "Dr. Rivera"}


def test_a_shared_treatment_plan_is_read_only_for_its_client(documents):
    note = documents.rpc.share_note("cl_1", PLAN, STAFF)
    assert {k: note[k] for k in PLAN} == PLAN
    assert (note["client_id"], note["shared_by"]) == ("cl_1", "Dana Front")
    [listed] = documents.rpc.list_shared_notes("cl_1")
    assert "body" not in listed and listed["title"] == "Treatment plan"
    assert documents.rpc.get_shared_note(note["id"], "cl_1")["body"] == PLAN["body"]

    # another client: not found, and not listed
    assert "We could not find that note." in remote(
        lambda: documents.rpc.get_shared_note(note["id"], "cl_2"), "NotFound")
    assert documents.rpc.list_shared_notes("cl_2") == []

    documents.rpc.unshare_note(note["id"], STAFF)
    assert documents.rpc.list_shared_notes("cl_1") == []
    remote(lambda: documents.rpc.get_shared_note(note["id"], "cl_1"), "NotFound")


def test_a_note_with_bad_fields_is_refused_in_the_staff_members_words(documents):
    with pytest.raises(InvalidFields) as caught:
        documents.rpc.share_note("cl_1", {"kind": "diary", "title": " ", "body": "",
                                          "written_on": "20/11/2026"}, STAFF)
    assert caught.value.errors == {
        "kind": "Choose a note, an assessment or a treatment plan.", "title": "Enter a title.",
        "body": "Enter the text to share.",
        "written_on": "Enter the date it was written as YYYY-MM-DD, for example 2026-11-20."}
    assert documents.rpc.list_shared_notes("cl_1") == []
