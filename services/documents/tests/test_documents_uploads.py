"""Uploads through the running service on real PostgreSQL: the portal's
Upload tool and the staff Documents tab."""
import base64

import eventlet
import pytest
import requests
from nameko.exceptions import RemoteError

from servicekit.errors import InvalidFields

from documents_testkit import EXE, HEIC, JPEG, PDF, PNG, PORTAL, STAFF, b64, count, outbox, stored_files

NOT_ALLOWED = "This file is not a PDF, JPEG, PNG or HEIC picture."


def test_a_portal_upload_is_stored_listed_for_staff_and_announced(documents):
    document = documents.rpc.upload("cl_1", "C:\\Users\\alice\\Insurance card.pdf", b64(PDF),
                                    PORTAL, "rk-1")
    assert document["filename"] == "Insurance card.pdf"
    assert (document["client_id"], document["content_type"], document["size"]) == (
        "cl_1", "application/pdf", len(PDF))
    assert (document["uploaded_by_kind"], document["uploaded_by_name"]) == ("portal", "Alice Jones")
    assert document["uploaded_at"].endswith("Z")

    # staff find it on the client's record, and can open it
    assert documents.rpc.list_documents("cl_1") == [document]
    opened = documents.rpc.open_document(document["id"])
    assert base64.b64decode(opened["content_b64"]) == PDF
    assert (opened["filename"], opened["content_type"], opened["url"]) == (
        "Insurance card.pdf", "application/pdf", None)

    [event] = outbox(documents.engine, "DocumentUploaded")
    assert event["data"] == {"document_id": document["id"], "client_id": "cl_1",
                             "uploaded_by": "portal", "content_type": "application/pdf",
                             "size": len(PDF)}
    # stored under a generated key: the file's name is nowhere on disk
    [path] = stored_files(documents.files)
    assert "Insurance" not in str(path) and "cl_1" not in str(path)
    assert path.read_bytes() == PDF


@pytest.mark.parametrize("data, content_type", [(JPEG, "image/jpeg"), (PNG, "image/png"),
                                                (HEIC, "image/heic")])
def test_pictures_are_accepted_by_their_bytes(documents, data, content_type):
    document = documents.rpc.upload("cl_1", "photo", b64(data), STAFF, None)
    assert document["content_type"] == content_type and document["uploaded_by_kind"] == "staff"


def refused(documents, *args):
    with pytest.raises(InvalidFields) as caught:
        documents.rpc.upload(*args)
    return caught.value.errors


def test_each_refusal_stores_nothing(start_documents):
    documents = start_documents(UPLOAD_MAX_BYTES=1024)
    cases = [
        (("cl_1", "virus.pdf", b64(EXE), PORTAL, "rk-a"), NOT_ALLOWED),        # a name is not a type
        # a plain HEIF (no HEVC brand: AVIF, JPEG-in-HEIF...) is not on the allow-list
        (("cl_1", "photo.heif", b64(b"\x00\x00\x00\x18ftypmif1\x00\x00\x00\x00mif1avif"
                                    + b"\x00" * 20), PORTAL, "rk-h"), NOT_ALLOWED),
        (("cl_1", "empty.pdf", "", PORTAL, "rk-b"), "This file is empty."),
        (("cl_1", "big.pdf", b64(PDF + b"x" * 2000), PORTAL, "rk-c"),
         "This file is larger than 1 KB."),
        (("cl_1", "../..", b64(PDF), PORTAL, "rk-d"),
         "This file's name cannot be used; rename it and choose it again."),
        (("cl_1", "a.pdf", "%%% not base64", PORTAL, "rk-e"),
         "This file could not be read; choose it again."),
    ]
    for args, message in cases:
        assert refused(documents, *args) == {"file": message}
    assert count(documents.engine, "documents") == 0
    assert outbox(documents.engine, "DocumentUploaded") == []
    assert stored_files(documents.files) == []
    # a refused request key is not spent: the same key with a good file works
    assert documents.rpc.upload("cl_1", "virus.pdf", b64(PDF), PORTAL, "rk-a")["size"] == len(PDF)


def test_the_quota_counts_a_clients_uploads_and_refuses_the_one_too_many(start_documents):
    size = len(PDF)
    documents = start_documents(UPLOAD_QUOTA_BYTES=size * 2)
    documents.rpc.upload("cl_1", "one.pdf", b64(PDF), PORTAL, None)
    documents.rpc.upload("cl_1", "two.pdf", b64(PDF), PORTAL, None)
    assert refused(documents, "cl_1", "three.pdf", b64(PDF), PORTAL, None) == {
        "file": "There is no room left for more uploads; call the clinic."}
    assert count(documents.engine, "documents") == 2 and len(stored_files(documents.files)) == 2
    # another client has room of their own
    documents.rpc.upload("cl_2", "one.pdf", b64(PDF), PORTAL, None)


def test_two_uploads_at_once_cannot_both_squeeze_under_the_quota(start_documents):
    documents = start_documents(UPLOAD_QUOTA_BYTES=len(PDF) * 3)
    config = documents.config
    from nameko.standalone.rpc import ServiceRpcProxy

    def one(index):
        with ServiceRpcProxy("documents", config) as rpc:
            try:
                return rpc.upload("cl_1", f"{index}.pdf", b64(PDF), PORTAL, None)["id"]
            except InvalidFields as refused_:
                return refused_.errors["file"]

    pool = eventlet.GreenPool(6)
    answers = list(pool.imap(one, range(6)))
    stored = [a for a in answers if a.startswith("doc_")]
    assert len(stored) == 3
    assert answers.count("There is no room left for more uploads; call the clinic.") == 3
    assert count(documents.engine, "documents") == 3 and len(stored_files(documents.files)) == 3


def test_the_same_request_key_twice_answers_the_first_document_stored_once(documents):
    first = documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-same")
    again = documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-same")
    assert again == first
    assert count(documents.engine, "documents") == 1 and len(stored_files(documents.files)) == 1
    assert len(outbox(documents.engine, "DocumentUploaded")) == 1


def test_another_clients_document_is_not_found(documents):
    mine = documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, None)
    with pytest.raises(RemoteError) as caught:
        documents.rpc.open_document(mine["id"], "cl_2")
    assert caught.value.exc_type == "NotFound"
    assert "We could not find that document." in str(caught.value)
    assert documents.rpc.list_documents("cl_2") == []
    assert documents.rpc.open_document(mine["id"], "cl_1")["filename"] == "a.pdf"


def test_uploads_list_newest_first(documents):
    ids = [documents.rpc.upload("cl_1", f"{n}.pdf", b64(PDF), PORTAL, None)["id"] for n in range(3)]
    assert [d["id"] for d in documents.rpc.list_documents("cl_1")] == ids[::-1]


def test_with_s3_an_upload_is_encrypted_and_opened_by_a_presigned_link(start_documents, moto_s3):
    documents = start_documents(DOCUMENT_STORAGE="s3", S3_BUCKET="cairn-uploads",
                                S3_ENDPOINT_URL=moto_s3.url, S3_REGION="us-east-1",
                                PRESIGN_SECONDS=60)
    document = documents.rpc.upload("cl_1", "card.png", b64(PNG), PORTAL, None)
    opened = documents.rpc.open_document(document["id"], "cl_1")
    assert opened["content_b64"] is None and "cl_1" not in opened["url"]
    assert "card" not in opened["url"] and opened["filename"] == "card.png"
    response = requests.get(opened["url"], timeout=10)
    assert response.content == PNG
    assert 'filename="document-' in response.headers["Content-Disposition"]
    assert response.headers["Content-Disposition"].endswith('.png')
    import boto3
    s3 = boto3.client("s3", region_name="us-east-1", endpoint_url=moto_s3.url)
    [obj] = s3.list_objects_v2(Bucket="cairn-uploads")["Contents"]
    assert s3.head_object(Bucket="cairn-uploads", Key=obj["Key"])["ServerSideEncryption"] == "AES256"


def test_when_the_store_is_down_the_upload_fails_and_nothing_is_recorded(start_documents,
                                                                       moto_s3):
    documents = start_documents(DOCUMENT_STORAGE="s3", S3_BUCKET="cairn-uploads",
                                S3_ENDPOINT_URL="http://127.0.0.1:9")
    with pytest.raises(RemoteError) as caught:
        documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, None)
    assert caught.value.exc_type == "ServiceUnavailable"
    assert count(documents.engine, "documents") == 0
    assert outbox(documents.engine, "DocumentUploaded") == []


def test_a_request_key_of_another_clients_upload_is_refused_not_answered(documents):
    documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-shared")
    with pytest.raises(RemoteError) as caught:
        documents.rpc.upload("cl_2", "b.pdf", b64(PDF), PORTAL, "rk-shared")
    assert caught.value.exc_type == "Conflict"
    assert documents.rpc.list_documents("cl_2") == []
    assert count(documents.engine, "documents") == 1


def used_bytes(documents, client_id):
    from sqlalchemy import text
    with documents.engine.connect() as connection:
        return connection.execute(text("select used_bytes from upload_quotas where client_id = :c"),
                                  {"c": client_id}).scalar()


def test_the_quota_is_reserved_while_the_file_is_written_and_given_back_if_it_fails(
        start_documents):
    """The bytes are counted before the object is written (no lock held
    across the write); a write that fails gives them back and stores nothing."""
    broken = start_documents(DOCUMENT_STORAGE="s3", S3_BUCKET="cairn-uploads",
                             S3_ENDPOINT_URL="http://127.0.0.1:1", S3_REGION="us-east-1",
                             UPLOAD_QUOTA_BYTES=len(PDF))
    with pytest.raises(RemoteError):
        broken.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-broken")
    assert used_bytes(broken, "cl_1") == 0
    assert count(broken.engine, "documents") == 0
    assert outbox(broken.engine, "DocumentUploaded") == []


def test_a_stored_upload_counts_its_bytes_once(documents):
    documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-1")
    documents.rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-1")     # the same request again
    assert used_bytes(documents, "cl_1") == len(PDF)


def test_the_same_request_sent_four_times_at_once_stores_one_file_and_counts_it_once(documents):
    from nameko.standalone.rpc import ServiceRpcProxy

    def one(_):
        with ServiceRpcProxy("documents", documents.config) as rpc:
            return rpc.upload("cl_1", "a.pdf", b64(PDF), PORTAL, "rk-race")["id"]

    answers = list(eventlet.GreenPool(4).imap(one, range(4)))
    assert len(set(answers)) == 1
    assert count(documents.engine, "documents") == 1 and len(stored_files(documents.files)) == 1
    assert used_bytes(documents, "cl_1") == len(PDF)
    assert len(outbox(documents.engine, "DocumentUploaded")) == 1
