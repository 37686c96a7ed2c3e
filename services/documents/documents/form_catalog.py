"""The forms and screenings the clinic can assign, as data: the PHQ-9 and
GAD-7 (their published items, answer choices and severity bands) and the
clinic's intake form. Scoring and answer checks are in forms_domain.py.

A form is never edited in place: a change of wording is a new key or a new
`version`, so a completed form can always be shown with the questions its
answers belong to."""
from __future__ import annotations

from dataclasses import dataclass, field

SCREENING, INTAKE = "screening", "intake"
CHOICE, TEXT, DATE = "choice", "text", "date"


@dataclass(frozen=True)
class Choice:
    value: int
    label: str


@dataclass(frozen=True)
class Question:
    id: str
    text: str
    kind: str = CHOICE               # choice | text | date
    required: bool = True
    choices: tuple[Choice, ...] = ()
    scored: bool = False             # counts toward the total
    number: int | None = None        # the number people see ("question 3")
    max_len: int = 1000              # text answers


@dataclass(frozen=True)
class Band:
    low: int
    high: int
    severity: str                    # minimal | mild | moderate | moderately_severe | severe
    label: str


@dataclass(frozen=True)
class FormTemplate:
    key: str
    title: str
    kind: str                        # screening | intake
    self_start: bool                 # a patient may start it from Resources / Additional Surveys
    instructions: str
    questions: tuple[Question, ...]
    bands: tuple[Band, ...] = ()
    flag_items: tuple[str, ...] = field(default=())   # any answer above 0 -> flagged to staff
    version: int = 1

    @property
    def scored(self) -> bool:
        return bool(self.bands)

    @property
    def max_score(self) -> int:
        return sum(max(c.value for c in q.choices) for q in self.questions if q.scored)

    def question(self, question_id: str) -> Question | None:
        return next((q for q in self.questions if q.id == question_id), None)


# The frequency scale the PHQ-9 and GAD-7 share.
FREQUENCY = (Choice(0, "Not at all"), Choice(1, "Several days"),
             Choice(2, "More than half the days"), Choice(3, "Nearly every day"))
DIFFICULTY = (Choice(0, "Not difficult at all"), Choice(1, "Somewhat difficult"),
              Choice(2, "Very difficult"), Choice(3, "Extremely difficult"))
DIFFICULTY_TEXT = ("If you checked off any problems, how difficult have these problems made it "
                   "for you to do your work, take care of things at home, or get along with "
                   "other people?")

MINIMAL, MILD, MODERATE, MODERATELY_SEVERE, SEVERE = (
    "minimal", "mild", "moderate", "moderately_severe", "severe")


def _scored(items: list[str]) -> tuple[Question, ...]:
    return tuple(Question(id=f"q{n}", text=text, choices=FREQUENCY, scored=True, number=n)
                 for n, text in enumerate(items, start=1))


PHQ9_ITEMS = [
    "Little interest or pleasure in doing things",
    "Feeling down, depressed, or hopeless",
    "Trouble falling or staying asleep, or sleeping too much",
    "Feeling tired or having little energy",
    "Poor appetite or overeating",
    "Feeling bad about yourself — or that you are a failure or have let yourself or your "
    "family down",
    "Trouble concentrating on things, such as reading the newspaper or watching television",
    "Moving or speaking so slowly that other people could have noticed? Or the opposite — "
    "being so fidgety or restless that you have been moving around a lot more than usual",
    "Thoughts that you would be better off dead or of hurting yourself in some way",
]

PHQ9 = FormTemplate(
    key="phq9", title="PHQ-9", kind=SCREENING, self_start=True,
    instructions="Over the last 2 weeks, how often have you been bothered by any of the "
                 "following problems?",
    questions=_scored(PHQ9_ITEMS) + (
        Question(id="difficulty", text=DIFFICULTY_TEXT, required=False, choices=DIFFICULTY,
                 number=10),),
    bands=(Band(0, 4, MINIMAL, "Minimal depression"), Band(5, 9, MILD, "Mild depression"),
           Band(10, 14, MODERATE, "Moderate depression"),
           Band(15, 19, MODERATELY_SEVERE, "Moderately severe depression"),
           Band(20, 27, SEVERE, "Severe depression")),
    flag_items=("q9",))

GAD7_ITEMS = [
    "Feeling nervous, anxious, or on edge",
    "Not being able to stop or control worrying",
    "Worrying too much about different things",
    "Trouble relaxing",
    "Being so restless that it is hard to sit still",
    "Becoming easily annoyed or irritable",
    "Feeling afraid, as if something awful might happen",
]

GAD7 = FormTemplate(
    key="gad7", title="GAD-7", kind=SCREENING, self_start=True,
    instructions="Over the last 2 weeks, how often have you been bothered by the following "
                 "problems?",
    questions=_scored(GAD7_ITEMS) + (
        Question(id="difficulty", text=DIFFICULTY_TEXT, required=False, choices=DIFFICULTY,
                 number=8),),
    bands=(Band(0, 4, MINIMAL, "Minimal anxiety"), Band(5, 9, MILD, "Mild anxiety"),
           Band(10, 14, MODERATE, "Moderate anxiety"), Band(15, 21, SEVERE, "Severe anxiety")))

INTAKE_FORM = FormTemplate(
    key="intake", title="Intake form", kind=INTAKE, self_start=False,
    instructions="Tell us a little about yourself before your first visit. Questions marked "
                 "required must be answered; you can leave the others blank.",
    questions=(
        Question(id="reason", text="What brings you to the clinic?", kind=TEXT, number=1,
                 max_len=2000),
        Question(id="medications", text="What medicines do you take now (name and dose)? "
                 "Write “none” if you take none.", kind=TEXT, number=2, max_len=2000),
        Question(id="allergies", text="Are you allergic to any medicines or foods? "
                 "Write “none” if you are not.", kind=TEXT, number=3, max_len=1000),
        Question(id="emergency_name", text="Emergency contact: name", kind=TEXT, number=4,
                 max_len=200),
        Question(id="emergency_phone", text="Emergency contact: phone number", kind=TEXT,
                 number=5, max_len=40),
        Question(id="primary_care", text="Primary care provider (name and practice)", kind=TEXT,
                 required=False, number=6, max_len=300),
        Question(id="last_physical", text="When did you last see your primary care provider?",
                 kind=DATE, required=False, number=7),
    ))

FORMS: dict[str, FormTemplate] = {form.key: form for form in (PHQ9, GAD7, INTAKE_FORM)}


def get(key) -> FormTemplate | None:
    return FORMS.get(key) if isinstance(key, str) else None


def listing() -> list[dict]:
    return [{"key": form.key, "title": form.title, "kind": form.kind,
             "self_start": form.self_start, "question_count": len(form.questions)}
            for form in FORMS.values()]


def questions_out(form: FormTemplate) -> list[dict]:
    return [{"id": q.id, "text": q.text, "kind": q.kind, "required": q.required,
             "number": q.number,
             "choices": [{"value": c.value, "label": c.label} for c in q.choices]}
            for q in form.questions]
