"""The forms' pure rules: the PHQ-9 and GAD-7 as published (items, choices,
scoring, severity bands, the item-9 flag) and the intake form's checks."""
from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from servicekit.errors import InvalidFields, InvalidInput

from documents import form_catalog, forms_domain
from documents.form_catalog import GAD7, INTAKE_FORM, PHQ9

TODAY = date(2026, 12, 1)
ITEM = st.integers(min_value=0, max_value=3)


def answers_of(values, difficulty=None):
    answers = {f"q{n}": v for n, v in enumerate(values, start=1)}
    if difficulty is not None:
        answers["difficulty"] = difficulty
    return answers


def phq9_band(total):
    return ("minimal" if total <= 4 else "mild" if total <= 9 else "moderate" if total <= 14
            else "moderately_severe" if total <= 19 else "severe")


def gad7_band(total):
    return ("minimal" if total <= 4 else "mild" if total <= 9 else "moderate" if total <= 14
            else "severe")


def test_phq9_is_the_published_questionnaire():
    assert PHQ9.instructions == ("Over the last 2 weeks, how often have you been bothered by "
                                 "any of the following problems?")
    scored = [q for q in PHQ9.questions if q.scored]
    assert len(scored) == 9 and [q.id for q in scored] == [f"q{n}" for n in range(1, 10)]
    assert scored[0].text == "Little interest or pleasure in doing things"
    assert scored[8].text == ("Thoughts that you would be better off dead or of hurting "
                              "yourself in some way")
    assert [(c.value, c.label) for c in scored[0].choices] == [
        (0, "Not at all"), (1, "Several days"), (2, "More than half the days"),
        (3, "Nearly every day")]
    difficulty = PHQ9.question("difficulty")
    assert difficulty.number == 10 and not difficulty.scored and not difficulty.required
    assert PHQ9.max_score == 27 and GAD7.max_score == 21
    assert len([q for q in GAD7.questions if q.scored]) == 7


def test_the_catalog_lists_the_screenings_and_the_intake_form():
    listed = {form["key"]: form for form in form_catalog.listing()}
    assert listed["phq9"] == {"key": "phq9", "title": "PHQ-9", "kind": "screening",
                              "self_start": True, "question_count": 10}
    assert listed["gad7"]["self_start"] is True and listed["gad7"]["kind"] == "screening"
    assert listed["intake"]["self_start"] is False and listed["intake"]["kind"] == "intake"


@pytest.mark.parametrize("total,severity", [(0, "minimal"), (4, "minimal"), (5, "mild"),
                                            (9, "mild"), (10, "moderate"), (14, "moderate"),
                                            (15, "moderately_severe"), (19, "moderately_severe"),
                                            (20, "severe"), (27, "severe")])
def test_phq9_band_edges(total, severity):
    values = [3] * (total // 3) + ([total % 3] if total % 3 else [])
    values = (values + [0] * 9)[:9]
    values[8], values[0] = values[0], values[8]  # keep item 9 at 0 where possible
    result = forms_domain.score(PHQ9, forms_domain.check_answers(PHQ9, answers_of(values), TODAY))
    assert (result.score, result.severity) == (total, severity)


@pytest.mark.parametrize("total,severity", [(0, "minimal"), (4, "minimal"), (5, "mild"),
                                            (9, "mild"), (10, "moderate"), (14, "moderate"),
                                            (15, "severe"), (21, "severe")])
def test_gad7_band_edges(total, severity):
    values = ([3] * (total // 3) + ([total % 3] if total % 3 else []) + [0] * 7)[:7]
    result = forms_domain.score(GAD7, forms_domain.check_answers(GAD7, answers_of(values), TODAY))
    assert (result.score, result.severity, result.flagged) == (total, severity, False)


@settings(max_examples=400)
@given(st.lists(ITEM, min_size=9, max_size=9), st.one_of(st.none(), ITEM))
def test_phq9_every_answer_vector(values, difficulty):
    kept = forms_domain.check_answers(PHQ9, answers_of(values, difficulty), TODAY)
    result = forms_domain.score(PHQ9, kept)
    assert result.score == sum(values)          # the difficulty question never counts
    assert result.severity == phq9_band(sum(values))
    assert result.flagged is (values[8] > 0)
    assert result.severity_label.endswith("depression")


@settings(max_examples=300)
@given(st.lists(ITEM, min_size=7, max_size=7))
def test_gad7_every_answer_vector(values):
    result = forms_domain.score(GAD7, forms_domain.check_answers(GAD7, answers_of(values), TODAY))
    assert (result.score, result.severity, result.flagged) == (sum(values), gad7_band(sum(values)),
                                                               False)


def test_answers_from_a_web_form_arrive_as_text():
    kept = forms_domain.check_answers(PHQ9, answers_of(["1"] * 9, "2"), TODAY)
    assert kept["q1"] == 1 and kept["difficulty"] == 2
    assert forms_domain.score(PHQ9, kept).score == 9


def test_every_missing_answer_is_named_by_its_question():
    with pytest.raises(InvalidFields) as refused:
        forms_domain.check_answers(PHQ9, {"q1": 0, "q2": "", "q4": 7, "q5": True, "q6": "x"},
                                   TODAY)
    errors = refused.value.errors
    assert errors["q2"] == "Choose an answer for question 2."
    assert errors["q3"] == "Choose an answer for question 3."
    assert errors["q4"] == "Choose one of the answers for question 4."
    assert errors["q5"] == "Choose one of the answers for question 5."
    assert errors["q6"] == "Choose one of the answers for question 6."
    assert set(errors) == {"q2", "q3", "q4", "q5", "q6", "q7", "q8", "q9"}
    assert "difficulty" not in errors and "q1" not in errors


def test_answers_must_be_a_mapping():
    with pytest.raises(InvalidInput):
        forms_domain.check_answers(PHQ9, ["0"] * 9, TODAY)


INTAKE_OK = {"reason": "Trouble sleeping since the move", "medications": "none",
             "allergies": "penicillin", "emergency_name": "Sam Jones",
             "emergency_phone": "(555) 201-3344"}


def test_intake_keeps_text_and_leaves_blank_optional_answers_out():
    kept = forms_domain.check_answers(INTAKE_FORM, {**INTAKE_OK, "primary_care": "  ",
                                                    "last_physical": "2026-05-04",
                                                    "unknown": "ignored"}, TODAY)
    assert kept == {**INTAKE_OK, "last_physical": "2026-05-04"}
    assert forms_domain.score(INTAKE_FORM, kept).score is None


def test_intake_refusals_in_the_patients_words():
    with pytest.raises(InvalidFields) as refused:
        forms_domain.check_answers(INTAKE_FORM, {**INTAKE_OK, "reason": " ",
                                                 "emergency_phone": "555-1234",
                                                 "allergies": "cats\x00",
                                                 "last_physical": "2027-01-01"}, TODAY)
    errors = refused.value.errors
    assert errors["reason"] == "Enter an answer for question 1."
    assert errors["emergency_phone"].startswith("Enter a phone number with its area code")
    assert "cannot be saved" in errors["allergies"]
    assert errors["last_physical"].startswith("This date is in the future")
    with pytest.raises(InvalidFields) as refused:
        forms_domain.check_answers(INTAKE_FORM, {**INTAKE_OK, "last_physical": "May 4"}, TODAY)
    assert refused.value.errors == {
        "last_physical": "Enter the date as YYYY-MM-DD, for example 2026-03-14."}


def test_every_band_table_covers_its_whole_range_without_gaps():
    for form in (PHQ9, GAD7):
        covered = [total for band in form.bands for total in range(band.low, band.high + 1)]
        assert covered == list(range(0, form.max_score + 1))


@settings(max_examples=300)
@given(st.one_of(st.integers(min_value=-5, max_value=9), st.text(max_size=4), st.booleans(),
                 st.none(), st.floats(allow_nan=False)))
def test_a_choice_is_taken_only_when_it_is_one_of_the_answers(value):
    answers = {**answers_of([0] * 9), "q4": value}
    as_number = value.strip() if isinstance(value, str) else value
    valid = (isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 3) or \
        (isinstance(value, str) and as_number in {"0", "1", "2", "3"})
    try:
        kept = forms_domain.check_answers(PHQ9, answers, TODAY)
    except InvalidFields as refused:
        assert not valid and set(refused.errors) == {"q4"}
        blank = value is None or (isinstance(value, str) and not value.strip())
        assert refused.errors["q4"] == ("Choose an answer for question 4." if blank else
                                              "Choose one of the answers for question 4.")
    else:
        assert valid and kept["q4"] == int(as_number)


@given(st.dictionaries(st.sampled_from([q.id for q in INTAKE_FORM.questions] + ["x"]),
                       st.one_of(st.none(), st.text(max_size=30), st.integers(), st.booleans(),
                                 st.lists(st.integers(), max_size=2))))
def test_any_intake_answers_are_kept_or_refused_by_question(answers):
    try:
        kept = forms_domain.check_answers(INTAKE_FORM, answers, TODAY)
    except InvalidFields as refused:
        assert set(refused.errors) <= {q.id for q in INTAKE_FORM.questions}
    else:
        assert {"reason", "medications", "allergies", "emergency_name",
                "emergency_phone"} <= set(kept) and "x" not in kept
