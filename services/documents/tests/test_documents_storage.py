"""Both storage backends: S3 through the real boto3 client against moto's
server on loopback (never a mocked network), and local disk."""
import time
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
import requests

from documents.storage import LocalDiskStorage, S3Storage, StorageError, new_key

from documents_testkit import PDF


def test_s3_puts_with_server_side_encryption_and_a_presigned_link_downloads(moto_s3):
    storage = S3Storage("cairn-docs", "us-east-1", moto_s3.url, presign_seconds=120)
    key = new_key()
    storage.put(key, PDF, "application/pdf")

    head = storage.client.head_object(Bucket="cairn-docs", Key=key)
    assert head["ServerSideEncryption"] == "AES256"
    assert storage.get(key) == PDF

    answer = storage.open(key, "Insurance card é.pdf", "application/pdf")
    assert answer["content_b64"] is None and answer["filename"] == "Insurance card é.pdf"
    response = requests.get(answer["url"], timeout=10)
    assert response.status_code == 200 and response.content == PDF
    # the link carries a neutral name only; the uploader's name (PHI) stays in the data
    short = key.rsplit("/", 1)[-1][:8]
    assert response.headers["Content-Disposition"] == (
        f'attachment; filename="document-{short}.pdf"; filename*=UTF-8\'\'document-{short}.pdf')
    assert "Insurance" not in answer["url"] and "card" not in answer["url"]
    # the link lives PRESIGN_SECONDS from now and names neither the client nor the file in its path
    query = parse_qs(urlsplit(answer["url"]).query)
    assert query["X-Amz-Expires"] == ["120"]
    signed = time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ")
    assert abs(time.mktime(signed) - time.mktime(time.gmtime())) < 60
    assert urlsplit(answer["url"]).path == f"/cairn-docs/{key}"


def test_s3_presigned_link_expires(moto_s3):
    """moto 5.2.5 serves a presigned GET whatever its age, so the expiry is
    checked as S3 checks it: the signed X-Amz-Date plus X-Amz-Expires."""
    storage = S3Storage("cairn-docs", "us-east-1", moto_s3.url, presign_seconds=1)
    key = new_key()
    storage.put(key, PDF, "application/pdf")
    url = storage.open(key, "a.pdf", "application/pdf")["url"]
    query = parse_qs(urlsplit(url).query)
    signed_at = time.mktime(time.strptime(query["X-Amz-Date"][0], "%Y%m%dT%H%M%SZ"))
    expires_at = signed_at + int(query["X-Amz-Expires"][0])
    assert expires_at - time.mktime(time.gmtime()) <= 1


def test_s3_bucket_is_created_when_missing_with_its_region(moto_s3):
    storage = S3Storage("cairn-docs-eu", "eu-west-1", moto_s3.url)
    storage.put("clients/a/b", PDF, "application/pdf")
    storage.put("clients/a/c", PDF, "application/pdf")       # the bucket is there now
    client = boto3.client("s3", region_name="eu-west-1", endpoint_url=moto_s3.url)
    assert client.get_bucket_location(Bucket="cairn-docs-eu")["LocationConstraint"] == "eu-west-1"
    assert storage.exists("clients/a/b") and not storage.exists("clients/a/zzz")
    storage.delete("clients/a/b")
    assert not storage.exists("clients/a/b")
    with pytest.raises(StorageError):
        storage.get("clients/a/b")


def test_s3_unreachable_is_a_storage_error(moto_s3):
    storage = S3Storage("cairn-docs", "us-east-1", "http://127.0.0.1:9", timeout=1)
    with pytest.raises(StorageError):
        storage.put("clients/a/b", PDF, "application/pdf")


def test_local_disk_round_trip_and_keys_cannot_escape(tmp_path):
    storage = LocalDiskStorage(tmp_path / "docs")
    key = new_key()
    storage.put(key, PDF, "application/pdf")
    assert storage.get(key) == PDF and storage.exists(key)
    answer = storage.open(key, "a.pdf", "application/pdf")
    assert answer["url"] is None and answer["content_b64"]
    assert [p.name for p in (tmp_path / "docs").rglob("*") if p.is_file()] == [key.split("/")[-1]]
    for bad in ["../outside", "clients/../../x", "/etc/passwd", "", "a//b"]:
        with pytest.raises(StorageError):
            storage.put(bad, PDF, "application/pdf")
    assert not (tmp_path / "outside").exists()
    storage.delete(key)
    storage.delete(key)          # twice: nothing to do
    assert not storage.exists(key)


def test_keys_say_nothing_about_the_file_or_client():
    keys = {new_key() for _ in range(50)}
    assert len(keys) == 50
    assert all(key.startswith("clients/") and key.count("/") == 2 for key in keys)
