"""Consent templates, versioned: consent to treatment, telehealth consent,
financial policy, and a 42 CFR Part 2 release of information.

A template's words are never edited: a change is a new `version` (the old
one stays here, so a consent requested under it can always be explained).
`render` fills a template in at request time; the consent keeps that exact
text for ever, and the signed copy hashes it."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from documents import part2

CONSENT, RELEASE = "consent", "release"
BILLING, BILLING_AND_CLINICAL = "billing", "billing_and_clinical"
MAY_RECEIVE = {
    BILLING: "billing information only: dates of service, services billed, amounts charged, "
             "paid and owed, and insurance claims",
    BILLING_AND_CLINICAL: "billing information (dates of service, services billed, amounts "
                          "charged, paid and owed, insurance claims) and clinical information "
                          "(appointments, diagnoses, assessments, treatment plans and notes the "
                          "clinic shares)",
}
DEFAULT_PURPOSE = {
    BILLING: "to help me pay for my care and manage my bills",
    BILLING_AND_CLINICAL: "to help me pay for my care and to take part in my care",
}
UNTIL_EVENT = "my treatment at the clinic ends"


@dataclass(frozen=True)
class ConsentTemplate:
    key: str
    title: str
    kind: str            # consent | release
    version: int
    paragraphs: tuple[str, ...]


TREATMENT = ConsentTemplate(
    key="treatment", title="Consent to treatment", kind=CONSENT, version=1, paragraphs=(
        "I agree to receive behavioral health services from the clinic, which may include "
        "assessment, individual, family or group therapy, and other services my clinician "
        "and I agree on.",
        "My clinician will explain the services, what they are for, what else I could do "
        "instead, and their benefits and risks. Therapy can bring up uncomfortable feelings; "
        "I may ask questions at any time.",
        "What I share is kept confidential, except where the law requires or allows the "
        "clinic to share it: if I am at serious risk of harming myself or someone else, if a "
        "child, older adult or dependent adult may be abused or neglected, or if a court "
        "orders it. Records of substance use disorder treatment are also protected by "
        "federal law (42 CFR part 2).",
        "I may stop treatment at any time. I may withdraw this consent in writing; that "
        "does not undo anything done before the clinic received it.",
        "In an emergency I will call 911 or 988 (the Suicide and Crisis Lifeline), or go to "
        "the nearest emergency room.",
    ))

TELEHEALTH = ConsentTemplate(
    key="telehealth", title="Telehealth consent", kind=CONSENT, version=1, paragraphs=(
        "I agree to receive some or all of my services by secure video or telephone "
        "(telehealth).",
        "Telehealth uses a secure connection, but no technology is free of risk: a session "
        "may be interrupted, or, rarely, information could be seen by others despite the "
        "clinic's safeguards. I will join from a private place and will not record sessions "
        "without my clinician's agreement.",
        "If the connection fails, my clinician will try to reach me by telephone. If "
        "telehealth is not right for my needs, my clinician may ask me to come in person.",
        "I will tell my clinician where I am at the start of each session so help can be "
        "sent in an emergency.",
        "I may withdraw this consent at any time and ask for in-person services instead.",
    ))

FINANCIAL = ConsentTemplate(
    key="financial", title="Financial policy", kind=CONSENT, version=1, paragraphs=(
        "I am responsible for the fees for the services I receive, including any amount my "
        "insurance does not pay (copays, coinsurance and deductibles).",
        "Payment is due when services are provided or when the clinic sends an invoice. I "
        "can pay in the portal, by card or bank account, or set up a payment plan with the "
        "clinic.",
        "Appointments cancelled with less than 24 hours' notice, or missed, may be charged "
        "the clinic's late cancellation fee.",
        "If I do not have insurance or do not use it, I have the right to a Good Faith "
        "Estimate of the expected charges before my care.",
        "I authorize the clinic to release the information needed to bill my insurance and "
        "to receive payments from my insurance on my behalf.",
    ))

RELEASE_OF_INFORMATION = ConsentTemplate(
    key="release", title="Release of information (42 CFR part 2)", kind=RELEASE, version=1,
    paragraphs=(
        "I authorize the clinic to disclose information about me to {contact_name}.",
        "What may be disclosed: {may_receive}.",
        "Purpose of the disclosure: {purpose}.",
        "This authorization expires {expiry}, unless I revoke it sooner.",
        "I may revoke this authorization at any time, in the portal or by telling the "
        "clinic in writing. Revoking it stops disclosures from that moment; it does not undo "
        "disclosures made before. My treatment, payment, enrollment or eligibility for "
        "benefits does not depend on my signing it.",
        "My records are protected by federal confidentiality rules (42 CFR part 2) and by "
        "HIPAA (45 CFR parts 160 and 164). Information disclosed under this authorization "
        "carries this notice:",
        part2.NOTICE,
    ))

TEMPLATES: dict[str, ConsentTemplate] = {t.key: t for t in (TREATMENT, TELEHEALTH, FINANCIAL,
                                                             RELEASE_OF_INFORMATION)}


def get(key) -> ConsentTemplate | None:
    return TEMPLATES.get(key) if isinstance(key, str) else None


def listing() -> list[dict]:
    return [{"key": t.key, "title": t.title, "kind": t.kind, "version": t.version}
            for t in TEMPLATES.values()]


def render(template: ConsentTemplate, contact: dict | None = None) -> str:
    """The exact words the person will sign: the template, with a release's
    contact, what they may receive, the purpose and the expiry filled in.
    Paragraphs are separated by a blank line."""
    if template.kind != RELEASE:
        return "\n\n".join(template.paragraphs)
    assert contact is not None, "a release names its contact"
    until: date | None = contact.get("until")
    expiry = f"on {until.strftime('%B')} {until.day}, {until.year}" if until else \
        f"when {UNTIL_EVENT}"
    values = {"contact_name": contact["name"], "may_receive": MAY_RECEIVE[contact["may_receive"]],
              "purpose": contact.get("purpose") or DEFAULT_PURPOSE[contact["may_receive"]],
              "expiry": expiry}
    return "\n\n".join(p.format(**values) if "{" in p and p is not part2.NOTICE else p
                       for p in template.paragraphs)
