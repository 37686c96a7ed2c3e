"""Where the documents service keeps file bytes: an S3 bucket (any S3 API,
through boto3) or a folder on local disk (the embedded default of `make
run`). Rows in PostgreSQL say what a file is; the object store only holds
bytes under generated keys (`clients/<random>/<uuid>`, never a file's name
and never a client id).

Chosen by CAIRN_DOCUMENT_STORAGE = "local" (default) | "s3":
- s3: CAIRN_S3_BUCKET, CAIRN_S3_ENDPOINT_URL (empty: AWS), CAIRN_S3_REGION;
  every put asks for server-side encryption (AES256); a download is a
  presigned GET living CAIRN_PRESIGN_SECONDS that makes the browser save
  the file under its name. The bucket is created when missing. Credentials
  come from boto3's usual chain (environment, shared files, a role).
- local: files under var/documents (servicekit.config.var_dir()), or
  CAIRN_DOCUMENT_DIR; a download carries the bytes (base64) and the
  gateway streams them."""
from __future__ import annotations

import base64
import logging
import os
import secrets
import threading
import unicodedata
import uuid
from pathlib import Path
from urllib.parse import quote

from nameko.extensions import DependencyProvider

from servicekit import config
from servicekit.errors import ServiceUnavailable

from documents import settings as settings_module

SSE = "AES256"
log = logging.getLogger(__name__)


# The object store did not take or give back a file: callers see
# ServiceUnavailable (try again later); the log names the operation and the
# store's error code, never the file.
StorageError = ServiceUnavailable
UNAVAILABLE = "Files cannot be stored or opened right now; try again in a few minutes."


def _unavailable(what: str, exc=None) -> ServiceUnavailable:
    log.warning("object store: %s (%s)", what, _code(exc) if exc is not None else "-")
    return ServiceUnavailable(UNAVAILABLE)


def new_key(prefix: str = "clients") -> str:
    """A fresh object key: a random folder and a uuid, nothing about the file."""
    return f"{prefix}/{secrets.token_hex(8)}/{uuid.uuid4().hex}"


_NEUTRAL_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png",
                       "image/heic": ".heic", "text/plain": ".txt", "text/html": ".html"}


def neutral_filename(key: str, content_type: str) -> str:
    """`document-<short id>.<ext>`: the name a presigned URL may carry (the
    uploader's own name can be PHI and stays data only)."""
    short = key.rsplit("/", 1)[-1][:8] or "file"
    base_type = (content_type or "").split(";", 1)[0].strip().lower()
    return f"document-{short}{_NEUTRAL_EXTENSIONS.get(base_type, '.bin')}"


def content_disposition(filename: str) -> str:
    """`attachment` with an ASCII fallback name and the UTF-8 name (RFC 6266)."""
    ascii_name = (unicodedata.normalize("NFKD", filename).encode("ascii", "ignore").decode("ascii")
                  .replace("\\", "_").replace('"', "_"))
    ascii_name = "".join(ch if 32 <= ord(ch) < 127 else "_" for ch in ascii_name) or "download"
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(filename, safe='')}"


def download(filename: str, content_type: str, url: str | None = None,
             data: bytes | None = None) -> dict:
    """The DOWNLOAD answer every open_* RPC gives (interfaces.md)."""
    return {"filename": filename, "content_type": content_type, "url": url,
            "content_b64": None if data is None else base64.b64encode(data).decode("ascii")}


class S3Storage:
    def __init__(self, bucket: str, region: str = "us-east-1", endpoint_url: str | None = None,
                 presign_seconds: int = 300, client=None, timeout: float = 30.0):
        import boto3
        from botocore.config import Config
        self.bucket, self.region, self.presign_seconds = bucket, region, int(presign_seconds)
        self.client = client or boto3.session.Session().client(
            "s3", region_name=region, endpoint_url=endpoint_url or None,
            config=Config(connect_timeout=timeout, read_timeout=timeout,
                          retries={"max_attempts": 3, "mode": "standard"},
                          signature_version="s3v4"))
        self._bucket_ready = False
        self._lock = threading.Lock()

    def ensure_bucket(self) -> None:
        """Create the bucket unless it is there (outside us-east-1 S3 wants
        the region named as LocationConstraint)."""
        if self._bucket_ready:
            return
        from botocore.exceptions import BotoCoreError, ClientError
        with self._lock:
            if self._bucket_ready:
                return
            try:
                self.client.head_bucket(Bucket=self.bucket)
            except ClientError as exc:
                if str(exc.response.get("Error", {}).get("Code")) not in ("404", "NoSuchBucket",
                                                                            "NotFound"):
                    raise _unavailable("bucket check failed", exc) from None
                arguments = {"Bucket": self.bucket}
                if self.region and self.region != "us-east-1":
                    arguments["CreateBucketConfiguration"] = {"LocationConstraint": self.region}
                try:
                    self.client.create_bucket(**arguments)
                except ClientError as created:
                    if _code(created) not in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists"):
                        raise _unavailable("bucket not created", created) from None
            except BotoCoreError as exc:     # unreachable, no credentials
                raise _unavailable("bucket check failed", exc) from None
            self._bucket_ready = True

    def put(self, key: str, data: bytes, content_type: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        self.ensure_bucket()
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=data,
                                   ContentType=content_type, ServerSideEncryption=SSE)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("put failed", exc) from None

    def get(self, key: str) -> bytes:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            return self.client.get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("get failed", exc) from None

    def delete(self, key: str) -> None:
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            self.client.delete_object(Bucket=self.bucket, Key=key)
        except (ClientError, BotoCoreError) as exc:
            raise _unavailable("delete failed", exc) from None

    def exists(self, key: str) -> bool:
        from botocore.exceptions import ClientError
        try:
            self.client.head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError:
            return False

    def open(self, key: str, filename: str, content_type: str) -> dict:
        """A presigned GET naming neither the client nor the file: the URL
        (path and query) carries only a neutral `document-<id>.<ext>`; the
        uploader's own name stays in the answer's data, never in the link."""
        url = self.client.generate_presigned_url(
            "get_object", ExpiresIn=self.presign_seconds,
            Params={"Bucket": self.bucket, "Key": key,
                    "ResponseContentDisposition": content_disposition(
                        neutral_filename(key, content_type)),
                    "ResponseContentType": content_type})
        return download(filename, content_type, url=url)


class LocalDiskStorage:
    def __init__(self, root: Path | str | None = None):
        self.root = Path(root) if root else config.var_dir() / "documents"
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        parts = key.split("/")
        if not key or any(part in ("", ".", "..") or "\\" in part for part in parts):
            raise _unavailable("bad key")
        return self.root.joinpath(*parts)

    def put(self, key: str, data: bytes, content_type: str) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".partial")
        with open(partial, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(partial, path)

    def get(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except OSError:
            raise _unavailable("get failed: no such file") from None

    def delete(self, key: str) -> None:
        try:
            self._path(key).unlink()
        except FileNotFoundError:
            pass

    def exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def open(self, key: str, filename: str, content_type: str) -> dict:
        return download(filename, content_type, data=self.get(key))


def _code(exc) -> str:
    response = getattr(exc, "response", None) or {}
    return str(response.get("Error", {}).get("Code") or type(exc).__name__)


def from_settings(loaded: settings_module.DocumentSettings, container_config: dict | None = None):
    if loaded.storage == "s3":
        return S3Storage(loaded.s3_bucket, loaded.s3_region, loaded.s3_endpoint_url,
                         loaded.presign_seconds)
    directory = config.setting(container_config or {}, "DOCUMENT_DIR", None)
    return LocalDiskStorage(directory or None)


class Storage(DependencyProvider):
    """Injects the service's storage backend (one per service copy)."""

    def setup(self):
        self.backend = from_settings(settings_module.load(self.container.config),
                                     self.container.config)

    def get_dependency(self, worker_ctx):
        return self.backend
