"""The documents service's settings, read once at start from the nameko
config (tests) or CAIRN_* environment variables."""
from __future__ import annotations

from dataclasses import dataclass

from nameko.extensions import DependencyProvider

from servicekit.config import ConfigError, setting

MIB = 1024 * 1024


@dataclass(frozen=True)
class DocumentSettings:
    storage: str = "local"                 # DOCUMENT_STORAGE: "local" | "s3"
    s3_bucket: str = "cairn-documents"     # S3_BUCKET
    s3_endpoint_url: str | None = None     # S3_ENDPOINT_URL (None: AWS itself)
    s3_region: str = "us-east-1"           # S3_REGION
    presign_seconds: int = 300             # PRESIGN_SECONDS: how long a download link lives
    upload_max_bytes: int = 10 * MIB       # UPLOAD_MAX_BYTES: one file
    upload_quota_bytes: int = 100 * MIB    # UPLOAD_QUOTA_BYTES: all of one client's uploads
    kept_pdf_lease_seconds: float = 120.0  # KEPT_PDF_LEASE_SECONDS: a worker owns a claimed row
    kept_pdf_batch: int = 5                # KEPT_PDF_BATCH: rows claimed per tick
    kept_pdf_max_attempts: int = 8         # KEPT_PDF_MAX_ATTEMPTS: then "failed", logged
    kept_pdf_delay_seconds: float = 60.0   # KEPT_PDF_DELAY_SECONDS: wait before the first fetch


def load(container_config: dict) -> DocumentSettings:
    defaults = DocumentSettings()

    def get(name, default, kind=str):
        value = setting(container_config, name, default)
        return None if value in (None, "") else kind(value)

    loaded = DocumentSettings(
        storage=str(get("DOCUMENT_STORAGE", defaults.storage)).lower(),
        s3_bucket=get("S3_BUCKET", defaults.s3_bucket),
        s3_endpoint_url=get("S3_ENDPOINT_URL", defaults.s3_endpoint_url),
        s3_region=get("S3_REGION", defaults.s3_region),
        presign_seconds=get("PRESIGN_SECONDS", defaults.presign_seconds, int),
        upload_max_bytes=get("UPLOAD_MAX_BYTES", defaults.upload_max_bytes, int),
        upload_quota_bytes=get("UPLOAD_QUOTA_BYTES", defaults.upload_quota_bytes, int),
        kept_pdf_lease_seconds=get("KEPT_PDF_LEASE_SECONDS", defaults.kept_pdf_lease_seconds, float),
        kept_pdf_batch=get("KEPT_PDF_BATCH", defaults.kept_pdf_batch, int),
        kept_pdf_max_attempts=get("KEPT_PDF_MAX_ATTEMPTS", defaults.kept_pdf_max_attempts, int),
        kept_pdf_delay_seconds=get("KEPT_PDF_DELAY_SECONDS", defaults.kept_pdf_delay_seconds,
                                   float))
    if loaded.storage not in ("local", "s3"):
        raise ConfigError(f"DOCUMENT_STORAGE {loaded.storage!r} is not 'local' or 's3'")
    if loaded.presign_seconds <= 0 or loaded.upload_max_bytes <= 0 or loaded.upload_quota_bytes <= 0:
        raise ConfigError("PRESIGN_SECONDS, UPLOAD_MAX_BYTES and UPLOAD_QUOTA_BYTES must be positive")
    return loaded


class Settings(DependencyProvider):
    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx) -> DocumentSettings:
        return self.settings
