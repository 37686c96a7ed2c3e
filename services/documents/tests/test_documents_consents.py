"""Consents through the running service on real PostgreSQL: requested with
their text fixed, signed once (typed or drawn; two signings at once, one
wins), the signed copy verifiable and unalterable, a release revoked."""
import base64
import hashlib

import pytest
from nameko.exceptions import RemoteError
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from servicekit import pdf
from servicekit.errors import InvalidFields

from documents import part2
from documents_testkit import PORTAL, STAFF, count, outbox, stored_files

DRAWING = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00" \
          b"\x00\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18" \
          b"\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
TYPED = {"typed_name": "Alice Jones", "drawing": ""}
CONTACT = {"id": "ct_1", "name": "Robin Jones", "may_receive": "billing", "until": "2030-06-30"}


def data_url(data: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(data).decode()


def remote(call, exc_type, *args):
    with pytest.raises(RemoteError) as caught:
        call(*args)
    assert caught.value.exc_type == exc_type
    return caught.value


def test_request_fixes_the_text_and_the_badge_counts_it(documents):
    listed = {t["key"] for t in documents.rpc.list_consent_templates()}
    assert {"treatment", "telehealth", "financial", "release"} <= listed
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, "rk-c1")
    assert (consent["status"], consent["kind"], consent["title"], consent["requested_by_name"]) \
        == ("outstanding", "consent", "Consent to treatment", "Dana Front")
    assert documents.rpc.request_consent("cl_1", "treatment", STAFF, "rk-c1") == consent
    [event] = outbox(documents.engine, "ConsentRequested")
    assert event["data"] == {"consent_id": consent["id"], "client_id": "cl_1", "kind": "consent",
                             "requested_by": "st_1"}
    assert documents.rpc.portal_summary("cl_1") == {"consents_outstanding": 1,
                                                    "forms_outstanding": 0, "handbook": None}
    shown = documents.rpc.get_consent(consent["id"], "cl_1")
    assert shown["text"].startswith("I agree to receive behavioral health services")
    assert shown["signature"] is None


def test_sign_typed_once_then_conflict_and_nothing_changes(documents):
    consent = documents.rpc.request_consent("cl_1", "telehealth", STAFF, None)
    with pytest.raises(InvalidFields) as refused:
        documents.rpc.sign_consent(consent["id"], "cl_1", {"typed_name": " ", "drawing": ""},
                                   PORTAL, "203.0.113.9", "Mozilla/5.0")
    assert refused.value.errors == {"typed_name": "Type your full name to sign."}

    signed = documents.rpc.sign_consent(consent["id"], "cl_1", TYPED, PORTAL, "203.0.113.9",
                                        "Mozilla/5.0 (X11)")
    assert (signed["status"], signed["signer_name"]) == ("signed", "Alice Jones")
    shown = documents.rpc.get_consent(consent["id"], "cl_1")
    signature = shown["signature"]
    assert (signature["typed_name"], signature["method"], signature["ip"],
            signature["user_agent"], signature["verified"]) == (
        "Alice Jones", "typed", "203.0.113.9", "Mozilla/5.0 (X11)", True)
    [event] = outbox(documents.engine, "ConsentSigned")
    assert event["data"] == {"consent_id": consent["id"], "client_id": "cl_1", "kind": "consent",
                             "signed_at": signed["signed_at"], "sha256": signature["sha256"]}
    # the stored object is the signed document the hash covers
    [stored] = stored_files(documents.files)
    assert hashlib.sha256(stored.read_bytes()).hexdigest() == signature["sha256"]
    document = stored.read_text("utf-8")
    assert shown["text"] in document and "IP address: 203.0.113.9" in document

    error = remote(documents.rpc.sign_consent, "Conflict", consent["id"], "cl_1",
                   {"typed_name": "Someone Else", "drawing": ""}, PORTAL, "198.51.100.1", "x")
    assert str(error.value) == "This consent is already signed."
    assert documents.rpc.get_consent(consent["id"], "cl_1")["signature"] == signature
    assert len(outbox(documents.engine, "ConsentSigned")) == 1
    assert len(stored_files(documents.files)) == 1
    assert documents.rpc.portal_summary("cl_1")["consents_outstanding"] == 0


def test_a_drawn_signature_is_kept_and_in_the_pdf(documents):
    consent = documents.rpc.request_consent("cl_1", "financial", STAFF, None)
    with pytest.raises(InvalidFields) as refused:
        documents.rpc.sign_consent(consent["id"], "cl_1",
                                   {"typed_name": "Alice Jones",
                                    "drawing": "data:image/png;base64," +
                                    base64.b64encode(b"GIF89a" + b"\0" * 30).decode()},
                                   PORTAL, "203.0.113.9", "ua")
    assert set(refused.value.errors) == {"drawing"}
    documents.rpc.sign_consent(consent["id"], "cl_1",
                               {"typed_name": "Alice Jones", "drawing": data_url(DRAWING)},
                               PORTAL, "203.0.113.9", "ua")
    signature = documents.rpc.get_consent(consent["id"], "cl_1")["signature"]
    assert (signature["method"], signature["verified"]) == ("drawn", True)
    assert len(stored_files(documents.files)) == 2           # the document and the drawing

    opened = documents.rpc.open_signed_consent(consent["id"], "cl_1")
    assert (opened["content_type"], opened["filename"]) == (
        "application/pdf", f"signed-consent-{consent['id']}.pdf")
    data = base64.b64decode(opened["content_b64"])
    assert data.startswith(b"%PDF-")
    shown = " ".join(pdf.text_of(data).split())
    assert "Financial policy" in shown and "Alice Jones" in shown
    assert signature["sha256"] in shown.replace(" ", "") or signature["sha256"][:16] in shown
    remote(documents.rpc.open_signed_consent, "NotFound", consent["id"], "cl_2")


def test_unsigned_consent_has_no_signed_copy(documents):
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    remote(documents.rpc.open_signed_consent, "NotFound", consent["id"], "cl_1")


def test_two_signings_at_once_exactly_one_wins(documents):
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    replies = [documents.rpc.sign_consent.call_async(
        consent["id"], "cl_1", {"typed_name": f"Signer {n}", "drawing": ""}, PORTAL,
        "203.0.113.9", "ua") for n in range(4)]
    won, lost = [], []
    for reply in replies:
        try:
            won.append(reply.result())
        except RemoteError as error:
            assert error.exc_type == "Conflict"
            lost.append(error)
    assert len(won) == 1 and len(lost) == 3
    assert count(documents.engine, "consent_signatures") == 1
    assert len(outbox(documents.engine, "ConsentSigned")) == 1
    # the losers' objects were removed: one signed document is stored
    assert len(stored_files(documents.files)) == 1
    assert documents.rpc.get_consent(consent["id"])["signature"]["verified"] is True


def test_another_clients_consent_is_not_found(documents):
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    remote(documents.rpc.get_consent, "NotFound", consent["id"], "cl_2")
    remote(documents.rpc.sign_consent, "NotFound", consent["id"], "cl_2", TYPED, PORTAL, "ip", "ua")
    remote(documents.rpc.revoke_consent, "NotFound", consent["id"], "cl_2", PORTAL)
    assert documents.rpc.get_consent(consent["id"], "cl_1")["status"] == "outstanding"
    assert outbox(documents.engine, "ConsentSigned") == outbox(documents.engine,
                                                               "ConsentRevoked") == []


def test_the_database_refuses_to_alter_a_signature(documents):
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    documents.rpc.sign_consent(consent["id"], "cl_1", TYPED, PORTAL, "203.0.113.9", "ua")
    for statement in ("update consent_signatures set typed_name = 'Mallory'",
                      "delete from consent_signatures",
                      "update consents set text = 'I agree to anything.'",
                      "update consents set status = 'outstanding'"):
        with pytest.raises(DBAPIError):
            with documents.engine.begin() as connection:
                connection.execute(text(statement))
    assert documents.rpc.get_consent(consent["id"])["signature"]["verified"] is True


def test_a_tampered_signed_copy_is_not_verified(documents):
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    documents.rpc.sign_consent(consent["id"], "cl_1", TYPED, PORTAL, "203.0.113.9", "ua")
    [stored] = stored_files(documents.files)
    stored.write_bytes(stored.read_bytes().replace(b"Alice Jones", b"Mallory Doe"))
    assert documents.rpc.get_consent(consent["id"])["signature"]["verified"] is False


def test_a_release_names_the_contact_and_revoking_it_says_so(documents):
    with pytest.raises(InvalidFields) as refused:
        documents.rpc.request_consent("cl_1", "release", STAFF, None, None)
    assert "contact" in refused.value.errors
    release = documents.rpc.request_consent("cl_1", "release", STAFF, "rk-r1", CONTACT)
    assert (release["kind"], release["contact_id"], release["contact_name"]) == (
        "release", "ct_1", "Robin Jones")
    shown = documents.rpc.get_consent(release["id"], "cl_1")
    assert "to Robin Jones." in shown["text"] and shown["text"].endswith(part2.NOTICE)
    assert "expires on June 30, 2030" in shown["text"]
    [requested] = outbox(documents.engine, "ConsentRequested")
    assert requested["data"]["contact_id"] == "ct_1"

    signed = documents.rpc.sign_consent(release["id"], "cl_1", TYPED, PORTAL, "203.0.113.9", "ua")
    [event] = outbox(documents.engine, "ConsentSigned")
    assert (event["data"]["kind"], event["data"]["contact_id"]) == ("release", "ct_1")
    # the terms the signed text grants travel with it (clients activates only those)
    assert (event["data"]["may_receive"], event["data"]["until"]) == ("billing", "2030-06-30")

    revoked = documents.rpc.revoke_consent(release["id"], "cl_1", PORTAL)
    assert revoked["status"] == "revoked" and revoked["revoked_at"].endswith("Z")
    assert revoked["signed_at"] == signed["signed_at"]
    [event] = outbox(documents.engine, "ConsentRevoked")
    assert event["data"] == {"consent_id": release["id"], "client_id": "cl_1", "kind": "release",
                             "contact_id": "ct_1", "revoked_at": revoked["revoked_at"],
                             "revoked_by": "portal"}
    remote(documents.rpc.revoke_consent, "Conflict", release["id"], None, STAFF)
    remote(documents.rpc.sign_consent, "Conflict", release["id"], "cl_1", TYPED, PORTAL, "i", "u")
    assert len(outbox(documents.engine, "ConsentRevoked")) == 1
    # the signed copy survives the withdrawal, still verified
    assert documents.rpc.get_consent(release["id"])["signature"]["verified"] is True


def test_an_outstanding_release_revoked_by_staff_cannot_be_signed(documents):
    release = documents.rpc.request_consent("cl_1", "release", STAFF, None,
                                            {**CONTACT, "until": None})
    documents.rpc.revoke_consent(release["id"], None, STAFF)
    error = remote(documents.rpc.sign_consent, "Conflict", release["id"], "cl_1", TYPED, PORTAL,
                   "ip", "ua")
    assert "withdrawn" in str(error.value)
    assert documents.rpc.portal_summary("cl_1")["consents_outstanding"] == 0


def test_a_patient_may_withdraw_a_release_but_not_another_consent(documents):
    treatment = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    documents.rpc.sign_consent(treatment["id"], "cl_1", TYPED, PORTAL, "ip", "ua")
    remote(documents.rpc.revoke_consent, "Forbidden", treatment["id"], "cl_1", PORTAL)
    assert documents.rpc.get_consent(treatment["id"], "cl_1")["status"] == "signed"
    assert outbox(documents.engine, "ConsentRevoked") == []
    # another client's consent named from the portal: not found, whatever its kind
    release = documents.rpc.request_consent("cl_1", "release", STAFF, None, CONTACT)
    remote(documents.rpc.revoke_consent, "NotFound", release["id"], "cl_2", PORTAL)
    # the patient withdraws their own release; staff may withdraw any consent
    assert documents.rpc.revoke_consent(release["id"], "cl_1", PORTAL)["status"] == "revoked"
    assert documents.rpc.revoke_consent(treatment["id"], None, STAFF)["status"] == "revoked"
    assert [e["data"]["revoked_by"] for e in outbox(documents.engine, "ConsentRevoked")] == [
        "portal", "staff"]


def test_part2_notice_rpc(documents):
    assert documents.rpc.part2_notice() == part2.NOTICE


def test_signing_on_s3_stores_the_signed_copy_encrypted(start_documents, moto_s3):
    import boto3
    documents = start_documents(DOCUMENT_STORAGE="s3", S3_ENDPOINT_URL=moto_s3.url,
                                S3_BUCKET="consents-test")
    consent = documents.rpc.request_consent("cl_1", "treatment", STAFF, None)
    documents.rpc.sign_consent(consent["id"], "cl_1",
                               {"typed_name": "Alice Jones", "drawing": data_url(DRAWING)},
                               PORTAL, "203.0.113.9", "ua")
    signature = documents.rpc.get_consent(consent["id"], "cl_1")["signature"]
    assert signature["verified"] is True
    s3 = boto3.client("s3", endpoint_url=moto_s3.url, region_name="us-east-1")
    keys = [item["Key"] for item in s3.list_objects_v2(Bucket="consents-test")["Contents"]]
    assert len(keys) == 2 and all(key.startswith("consents/") for key in keys)
    heads = [s3.head_object(Bucket="consents-test", Key=key) for key in keys]
    assert all(head.get("ServerSideEncryption") == "AES256" for head in heads)
    opened = documents.rpc.open_signed_consent(consent["id"], "cl_1")
    assert base64.b64decode(opened["content_b64"]).startswith(b"%PDF-")


def test_a_patient_may_ask_for_a_release_for_their_contact_but_not_other_consents(documents):
    """Adding a contact in the portal with "ask for a release" asks the
    documents service as the patient: a release only, and no email about it
    (the portal takes the patient straight to signing it)."""
    remote(documents.rpc.request_consent, "Forbidden", "cl_1", "treatment", PORTAL, "rk-p1")
    release = documents.rpc.request_consent("cl_1", "release", PORTAL, "rk-p2", CONTACT)
    assert (release["kind"], release["status"], release["contact_id"]) == ("release", "outstanding", "ct_1")
    assert outbox(documents.engine, "ConsentRequested") == []
    assert documents.rpc.portal_summary("cl_1")["consents_outstanding"] == 1
