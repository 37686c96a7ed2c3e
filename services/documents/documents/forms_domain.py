"""Pure rules for forms: checking a person's answers (every problem at
once, keyed by question id, in the words shown next to the question) and
scoring a screening (total, severity band, the PHQ-9 item-9 flag)."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from servicekit.errors import InvalidFields, InvalidInput
from servicekit.text import clean

from documents.form_catalog import CHOICE, DATE, TEXT, FormTemplate, Question

PHONE_DIGITS_MIN = 10


@dataclass(frozen=True)
class Score:
    score: int | None
    severity: str | None
    severity_label: str | None
    flagged: bool


def _label(question: Question) -> str:
    return f"question {question.number}" if question.number else "this question"


def _choice(question: Question, raw):
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        if question.required:
            raise InvalidInput(f"Choose an answer for {_label(question)}.")
        return None
    value = raw
    if isinstance(raw, str):           # a web form sends "2"; only ASCII digits count
        stripped = raw.strip()
        if stripped.isascii() and stripped.isdigit() and len(stripped) <= 3:
            value = int(stripped)
    if isinstance(value, bool) or not isinstance(value, int) or \
            value not in {c.value for c in question.choices}:
        raise InvalidInput(f"Choose one of the answers for {_label(question)}.")
    return value


def _text(question: Question, raw, today: date):
    if raw is not None and not isinstance(raw, str):
        raise InvalidInput(f"Enter your answer to {_label(question)} as text.")
    if question.kind == DATE:
        value = (raw or "").strip()
        if not value:
            if question.required:
                raise InvalidInput(f"Enter a date for {_label(question)}.")
            return None
        try:
            day = date.fromisoformat(value)
        except ValueError:
            raise InvalidInput("Enter the date as YYYY-MM-DD, for example 2026-03-14.") from None
        if day > today:
            raise InvalidInput("This date is in the future; enter the date it happened.")
        return day.isoformat()
    value = clean(raw, f"the answer to {_label(question)}", question.max_len, multiline=True)
    if not value:
        if question.required:
            raise InvalidInput(f"Enter an answer for {_label(question)}.")
        return None
    if question.id.endswith("_phone") and \
            sum(ch.isdigit() for ch in value) < PHONE_DIGITS_MIN:
        raise InvalidInput("Enter a phone number with its area code, for example 555-201-3344.")
    return value


def check_answers(form: FormTemplate, answers, today: date) -> dict:
    """The answers to keep ({question id: value}, unanswered optional ones
    left out, unknown ids ignored), or InvalidFields naming every question
    that is missing or wrong."""
    if answers is None:
        answers = {}
    if not isinstance(answers, dict):
        raise InvalidInput("answers must be {question id: answer}")
    kept, errors = {}, {}
    for question in form.questions:
        raw = answers.get(question.id)
        try:
            if question.kind == CHOICE:
                value = _choice(question, raw)
            elif question.kind in (TEXT, DATE):
                value = _text(question, raw, today)
            else:   # pragma: no cover - the catalog has no other kinds
                raise AssertionError(question.kind)
        except InvalidInput as wrong:
            errors[question.id] = str(wrong)
            continue
        if value is not None:
            kept[question.id] = value
    if errors:
        raise InvalidFields(errors)
    return kept


def score(form: FormTemplate, answers: dict) -> Score:
    """A screening's total and band (None for a form that is not scored);
    flagged when a flag item (PHQ-9 item 9) was answered above 0."""
    if not form.scored:
        return Score(None, None, None, False)
    total = sum(int(answers[q.id]) for q in form.questions if q.scored)
    band = band_of(form, total)
    flagged = any(int(answers.get(item) or 0) > 0 for item in form.flag_items)
    return Score(total, band.severity, band.label, flagged)


def band_of(form: FormTemplate, total: int):
    for band in form.bands:
        if band.low <= total <= band.high:
            return band
    raise ValueError(f"{form.key}: score {total} is outside 0–{form.max_score}")
