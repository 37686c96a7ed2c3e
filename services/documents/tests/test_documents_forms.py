"""Forms and surveys through the running service on real PostgreSQL: staff
assign a PHQ-9, the patient fills it in (missing answers are named and
nothing is saved), it is scored and flagged; self-start surveys are reused."""
import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import text

from servicekit.errors import InvalidFields

from documents_testkit import PORTAL, STAFF, count, outbox


def remote(call, exc_type, *args):
    with pytest.raises(RemoteError) as caught:
        call(*args)
    assert caught.value.exc_type == exc_type
    return caught.value


def phq9(values, difficulty=None):
    answers = {f"q{n}": str(v) for n, v in enumerate(values, start=1)}
    if difficulty is not None:
        answers["difficulty"] = str(difficulty)
    return answers


def test_templates_list_the_screenings_and_intake(documents):
    listed = {t["key"]: t for t in documents.rpc.list_form_templates()}
    assert listed["phq9"]["self_start"] and listed["gad7"]["self_start"]
    assert not listed["intake"]["self_start"]


def test_assign_list_submit_score_and_flag(documents):
    assigned = documents.rpc.assign_form("cl_1", "phq9", STAFF, "rk-f1")
    assert (assigned["status"], assigned["title"], assigned["assigned_by_name"]) == (
        "assigned", "PHQ-9", "Dana Front")
    assert documents.rpc.assign_form("cl_1", "phq9", STAFF, "rk-f1") == assigned   # same key
    [event] = outbox(documents.engine, "FormAssigned")
    assert event["data"] == {"assignment_id": assigned["id"], "client_id": "cl_1",
                             "form_key": "phq9", "assigned_by": "st_1"}
    assert documents.rpc.list_forms("cl_1") == [assigned]
    assert documents.rpc.portal_summary("cl_1")["forms_outstanding"] == 1

    shown = documents.rpc.get_form(assigned["id"], "cl_1")
    assert shown["instructions"].startswith("Over the last 2 weeks")
    assert [q["id"] for q in shown["questions"]][:2] == ["q1", "q2"] and shown["answers"] == {}
    assert shown["questions"][0]["choices"][3] == {"value": 3, "label": "Nearly every day"}

    # missing answers: every one named by its question, nothing saved
    with pytest.raises(InvalidFields) as refused:
        documents.rpc.submit_form(assigned["id"], "cl_1", {"q1": "2", "q2": "1"}, PORTAL)
    assert refused.value.errors["q3"] == "Choose an answer for question 3."
    assert set(refused.value.errors) == {f"q{n}" for n in range(3, 10)}
    assert documents.rpc.get_form(assigned["id"], "cl_1")["status"] == "assigned"
    assert outbox(documents.engine, "FormCompleted") == []

    done = documents.rpc.submit_form(assigned["id"], "cl_1",
                                     phq9([2, 2, 1, 2, 1, 1, 1, 0, 1], difficulty=2), PORTAL)
    assert (done["status"], done["score"], done["severity"], done["severity_label"],
            done["flagged"]) == ("completed", 11, "moderate", "Moderate depression", True)
    assert done["completed_at"].endswith("Z")
    [event] = outbox(documents.engine, "FormCompleted")
    # the event carries no score, severity or flag (PHI): staff read those over RPC
    assert event["data"] == {"assignment_id": assigned["id"], "client_id": "cl_1",
                             "form_key": "phq9", "completed_at": done["completed_at"]}
    # staff see the answers; the form cannot be submitted twice
    again = documents.rpc.get_form(assigned["id"])
    assert again["answers"]["q9"] == 1 and again["answers"]["difficulty"] == 2
    error = remote(documents.rpc.submit_form, "Conflict", assigned["id"], "cl_1", phq9([0] * 9),
                   PORTAL)
    assert "already completed" in str(error)
    assert documents.rpc.portal_summary("cl_1")["forms_outstanding"] == 0


def test_another_clients_form_is_not_found_and_untouched(documents):
    assigned = documents.rpc.assign_form("cl_1", "gad7", STAFF, None)
    remote(documents.rpc.get_form, "NotFound", assigned["id"], "cl_2")
    remote(documents.rpc.submit_form, "NotFound", assigned["id"], "cl_2", phq9([0] * 7), PORTAL)
    remote(documents.rpc.get_form, "NotFound", "frm_nope", None)
    assert documents.rpc.get_form(assigned["id"], "cl_1")["status"] == "assigned"
    assert documents.rpc.list_forms("cl_2") == []


def test_only_staff_assign(documents):
    remote(documents.rpc.assign_form, "Forbidden", "cl_1", "phq9", PORTAL, None)
    remote(documents.rpc.request_consent, "Forbidden", "cl_1", "treatment", PORTAL, None)
    assert count(documents.engine, "form_assignments") == count(documents.engine, "consents") == 0


def test_an_unknown_form_is_refused_in_words(documents):
    with pytest.raises(InvalidFields) as refused:
        documents.rpc.assign_form("cl_1", "mmpi", STAFF, None)
    assert refused.value.errors == {"form_key": "Choose a form from the list."}
    with pytest.raises(InvalidFields):
        documents.rpc.start_survey("cl_1", "intake", PORTAL)      # not a self-start form
    assert count(documents.engine, "form_assignments") == 0


def test_a_self_started_survey_is_reused_until_finished(documents):
    first = documents.rpc.start_survey("cl_1", "gad7", PORTAL)
    assert first["self_started"] and first["status"] == "assigned"
    assert documents.rpc.start_survey("cl_1", "gad7", PORTAL)["id"] == first["id"]
    assert outbox(documents.engine, "FormAssigned") == []           # nobody needs an email
    # started by the patient: not counted as a form the clinic is waiting for
    assert documents.rpc.portal_summary("cl_1")["forms_outstanding"] == 0
    done = documents.rpc.submit_form(first["id"], "cl_1", phq9([3, 3, 3, 3, 3, 0, 0]), PORTAL)
    assert (done["score"], done["severity"], done["flagged"]) == (15, "severe", False)
    second = documents.rpc.start_survey("cl_1", "gad7", PORTAL)
    assert second["id"] != first["id"]
    # a survey staff assigned is the one the patient fills in
    assigned = documents.rpc.assign_form("cl_3", "phq9", STAFF, None)
    assert documents.rpc.start_survey("cl_3", "phq9", PORTAL)["id"] == assigned["id"]


def test_two_starts_at_once_make_one_survey(documents):
    replies = [documents.rpc.start_survey.call_async("cl_9", "phq9", PORTAL) for _ in range(4)]
    ids = [reply.result()["id"] for reply in replies]
    assert len(set(ids)) == 1
    with documents.engine.connect() as connection:
        assert connection.execute(text("select count(*) from form_assignments "
                                       "where client_id = 'cl_9'")).scalar() == 1


def test_intake_form_text_answers(documents):
    assigned = documents.rpc.assign_form("cl_1", "intake", STAFF, None)
    with pytest.raises(InvalidFields) as refused:
        documents.rpc.submit_form(assigned["id"], None, {"reason": "Sleep"}, STAFF)
    assert set(refused.value.errors) == {"medications", "allergies", "emergency_name",
                                         "emergency_phone"}
    done = documents.rpc.submit_form(assigned["id"], "cl_1", {
        "reason": "Sleep", "medications": "none", "allergies": "none",
        "emergency_name": "Sam Jones", "emergency_phone": "555-201-3344"}, PORTAL)
    assert (done["score"], done["severity"], done["flagged"]) == (None, None, False)
    [event] = outbox(documents.engine, "FormCompleted")
    assert not {"score", "severity", "flagged"} & set(event["data"])


def test_the_staff_tab_gets_everything_in_one_call_and_clinical_parts_only_when_asked(documents):
    """client_overview: uploads, forms, consents (and notes and a flagged
    form's answers only for a caller that may see clinical detail)."""
    flagged = documents.rpc.assign_form("cl_1", "phq9", STAFF, "rk-ov1")
    answers = {q["id"]: "0" for q in documents.rpc.get_form(flagged["id"])["questions"]
               if q["kind"] == "choice"}
    item9 = documents.rpc.get_form(flagged["id"])["questions"][8]["id"]
    documents.rpc.submit_form(flagged["id"], "cl_1", {**answers, item9: "2"}, PORTAL)
    documents.rpc.request_consent("cl_1", "treatment", STAFF, "rk-ov2")
    front_desk = documents.rpc.client_overview("cl_1")
    assert [f["id"] for f in front_desk["forms"]] == [flagged["id"]]
    assert "detail" not in front_desk["forms"][0] and front_desk["notes"] is None
    assert [c["template_key"] for c in front_desk["consents"]] == ["treatment"]
    clinician = documents.rpc.client_overview("cl_1", True)
    assert clinician["forms"][0]["detail"]["answers"][item9] in (2, "2")
    assert clinician["notes"] == [] and clinician["uploads"] == []
    assert documents.rpc.client_overview("cl_2", True)["forms"] == []
