"""Consents' pure rules: the templates, a release's words, the signature
checks and the canonical signed document."""
from __future__ import annotations

import base64
import hashlib
from datetime import date, datetime

import pytest

from servicekit.errors import InvalidFields

from documents import consent_templates, consents_domain, part2

TODAY = date(2026, 12, 1)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 40


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def test_the_templates_the_clinic_can_request():
    listed = {t["key"]: t for t in consent_templates.listing()}
    assert set(listed) >= {"treatment", "telehealth", "financial", "release"}
    assert listed["release"]["kind"] == "release" and listed["treatment"]["kind"] == "consent"
    assert all(t["version"] >= 1 for t in listed.values())


def test_part2_notice_is_the_2024_statement():
    assert part2.NOTICE.startswith("This record which has been disclosed to you is protected by "
                                   "Federal confidentiality rules (42 CFR part 2).")
    assert "42 CFR 2.12(c)(5)" in part2.NOTICE and "(see 42 CFR 2.31)" in part2.NOTICE


def test_a_release_names_the_contact_what_they_may_receive_purpose_expiry_revoke_and_notice():
    contact = consents_domain.contact_input(
        {"id": "ct_1", "name": "Robin Jones", "may_receive": "billing", "until": "2027-06-30"},
        TODAY)
    text = consent_templates.render(consent_templates.get("release"), contact)
    assert "disclose information about me to Robin Jones." in text
    assert "billing information only" in text and "clinical information" not in text
    assert "Purpose of the disclosure: to help me pay for my care" in text
    assert "expires on June 30, 2027" in text
    assert "I may revoke this authorization at any time" in text
    assert text.endswith(part2.NOTICE)

    both = consents_domain.contact_input(
        {"id": "ct_2", "name": "Dr. Lee", "may_receive": "billing_and_clinical", "until": None,
         "purpose": "coordination of care"}, TODAY)
    text = consent_templates.render(consent_templates.get("release"), both)
    assert "clinical information" in text and "coordination of care" in text
    assert "expires when my treatment at the clinic ends" in text


def test_a_release_contact_refusals():
    with pytest.raises(InvalidFields) as refused:
        consents_domain.contact_input({"id": "", "name": "", "may_receive": "everything",
                                       "until": "2026-01-01"}, TODAY)
    assert set(refused.value.errors) == {"contact", "may_receive", "until"}
    assert "has passed" in refused.value.errors["until"]
    with pytest.raises(InvalidFields) as refused:
        consents_domain.contact_input(None, TODAY)
    assert refused.value.errors == {"contact": "Choose the contact this release is for."}


def test_a_signature_needs_a_typed_name_either_way():
    for signature in ({"typed_name": "  ", "drawing": ""}, {"drawing": data_url(PNG)}, None):
        with pytest.raises(InvalidFields) as refused:
            consents_domain.signature_input(signature)
        assert refused.value.errors["typed_name"] == "Type your full name to sign."
    typed = consents_domain.signature_input({"typed_name": " Alice Jones ", "drawing": ""})
    assert (typed.typed_name, typed.method, typed.drawing) == ("Alice Jones", "typed", None)
    drawn = consents_domain.signature_input({"typed_name": "Alice Jones",
                                             "drawing": data_url(PNG)})
    assert (drawn.method, drawn.drawing) == ("drawn", PNG)


@pytest.mark.parametrize("drawing", [
    "data:image/jpeg;base64," + base64.b64encode(PNG).decode(),    # not declared PNG
    data_url(b"\xff\xd8\xff\xe0" + b"\x00" * 40),                   # JPEG bytes
    "data:image/png;base64,not base64!",
    data_url(b"GIF89a" + b"\x00" * 40),
    "javascript:alert(1)",
])
def test_a_drawing_must_be_a_png(drawing):
    with pytest.raises(InvalidFields) as refused:
        consents_domain.signature_input({"typed_name": "Alice Jones", "drawing": drawing})
    assert refused.value.errors == {"drawing": consents_domain.DRAWING_UNREADABLE}


def test_a_drawing_has_a_size_cap():
    big = PNG + b"\x00" * (consents_domain.DRAWING_MAX_BYTES + 1)
    with pytest.raises(InvalidFields) as refused:
        consents_domain.signature_input({"typed_name": "Alice Jones", "drawing": data_url(big)})
    assert refused.value.errors == {"drawing": consents_domain.DRAWING_TOO_LARGE}


def test_the_signed_document_is_canonical_and_its_hash_covers_every_part():
    base = dict(consent_id="cns_1", client_id="cl_1", title="Consent to treatment",
                template_key="treatment", template_version=1, text="I agree.\r\nTruly.",
                signer_kind="portal", signer_id="acc_1", signer_name="Alice Jones",
                typed_name="Alice Jones", method="drawn",
                signed_at=datetime(2026, 12, 1, 10, 0, 0), ip="203.0.113.9",
                user_agent="Mozilla/5.0", drawing_sha256=hashlib.sha256(PNG).hexdigest())
    document = consents_domain.signed_document(**base)
    text = document.decode("utf-8")
    assert text.startswith("cairn-signed-consent/1\n") and "I agree.\nTruly." in text
    for part in ("Typed name: Alice Jones", "Method: drawn",
                 "Signed at (UTC): 2026-12-01T10:00:00.000000Z", "IP address: 203.0.113.9",
                 "User agent: Mozilla/5.0", "Drawing SHA-256: " + base["drawing_sha256"]):
        assert part in text
    assert consents_domain.signed_document(**base) == document          # rebuilt the same
    digest = consents_domain.sha256(document)
    for field, other in (("text", "I agree."), ("ip", "198.51.100.1"), ("typed_name", "A. Jones"),
                         ("drawing_sha256", "0" * 64)):
        assert consents_domain.sha256(consents_domain.signed_document(**{**base, field: other})) \
            != digest


from hypothesis import given, strategies as st  # noqa: E402

ANYTHING = st.one_of(st.none(), st.text(max_size=40), st.integers(), st.booleans(),
                     st.lists(st.integers(), max_size=2))


@given(st.dictionaries(st.sampled_from(["typed_name", "drawing", "other"]), ANYTHING))
def test_any_signature_input_is_taken_or_refused_by_field(signature):
    try:
        checked = consents_domain.signature_input(signature)
    except InvalidFields as refused:
        assert set(refused.errors) <= {"typed_name", "drawing"}
    else:
        assert checked.typed_name and checked.method in ("typed", "drawn")


@given(st.dictionaries(st.sampled_from(["id", "name", "may_receive", "until", "purpose"]),
                       ANYTHING))
def test_any_contact_input_is_taken_or_refused_by_field(contact):
    try:
        checked = consents_domain.contact_input(contact, TODAY)
    except InvalidFields as refused:
        assert set(refused.errors) <= {"contact", "may_receive", "until", "purpose"}
    else:
        assert checked["id"] and checked["name"] and checked["may_receive"] in (
            "billing", "billing_and_clinical")
