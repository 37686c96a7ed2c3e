"""Input checks and answer shapes for the documents RPCs. Messages are the
words the person sees next to the field."""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date
from urllib.parse import urlsplit

from servicekit.db import iso
from servicekit.errors import InvalidFields, InvalidInput
from servicekit.text import FieldChecks, clean

from documents import domain

MAX_ID = 40
KINDS_OF_ACTOR = ("staff", "portal")
NOTE_KINDS = ("note", "assessment", "treatment_plan")
RESOURCE_KINDS = ("file", "link", "survey")


@dataclass(frozen=True)
class By:
    """Who did it: staff (a staff id) or portal (an account id), and the
    name shown beside what they did."""
    kind: str
    id: str
    name: str


def identifier(name: str, value) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"{name} is required")
    if len(value.strip()) > MAX_ID:
        raise InvalidInput(f"{name} is too long")
    return value.strip()


def optional_client(value) -> str | None:
    return None if value is None else identifier("client_id", value)


def by(value) -> By:
    if not isinstance(value, dict) or value.get("kind") not in KINDS_OF_ACTOR:
        raise InvalidInput('by must be {"kind": "staff"|"portal", "id", "name"}')
    name = value.get("name") or ""
    if not isinstance(name, str):
        raise InvalidInput("by.name must be text")
    name = " ".join(name.split())[:200]
    return By(value["kind"], identifier("by.id", value.get("id")), name)


def request_key(value) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or len(value) > 80 or not value.isprintable():
        raise InvalidInput("request_key must be text of at most 80 characters")
    return value


def file_bytes(content_b64, max_bytes: int, field: str = "file") -> bytes:
    """The decoded file, or InvalidFields {field: ...}: empty, too large
    (checked before decoding too), not base64."""
    if not isinstance(content_b64, str) or not content_b64.strip():
        raise InvalidFields({field: domain.EMPTY})
    if len(content_b64) > (max_bytes * 4) // 3 + 8:
        raise InvalidFields({field: domain.too_large_message(max_bytes)})
    try:
        data = base64.b64decode(content_b64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidFields({field: domain.UNREADABLE}) from None
    if not data:
        raise InvalidFields({field: domain.EMPTY})
    if len(data) > max_bytes:
        raise InvalidFields({field: domain.too_large_message(max_bytes)})
    return data


def filename(raw, field: str = "file") -> str:
    cleaned = domain.clean_filename(raw)
    if cleaned is None:
        raise InvalidFields({field: domain.NO_NAME})
    return cleaned


def link(value) -> str:
    value = clean(value, "the link", 2000, required=True)
    parts = urlsplit(value)
    if parts.scheme not in ("https", "http") or not parts.netloc or " " in value:
        raise InvalidInput("Enter a web address that starts with https://.")
    return value


def form_key(value) -> str:
    value = clean(value, "the survey", 40, required=True)
    if not all(ch.isalnum() or ch in "_-" for ch in value):
        raise InvalidInput("Choose a survey from the list.")
    return value


def day(value, label: str) -> date:
    if not isinstance(value, str) or not value.strip():
        raise InvalidInput(f"Enter {label}.")
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise InvalidInput(f"Enter {label} as YYYY-MM-DD, for example 2026-11-20.") from None


def note_payload(payload) -> dict:
    if not isinstance(payload, dict):
        raise InvalidInput("payload must be an object")
    checks = FieldChecks()
    kind = payload.get("kind")
    if kind not in NOTE_KINDS:
        checks.add("kind", "Choose a note, an assessment or a treatment plan.")
    title = checks.run("title", clean, payload.get("title"), "a title", 200, required=True)
    body = checks.run("body", clean, payload.get("body"), "the text to share", 50_000,
                      required=True, multiline=True)
    written_on = checks.run("written_on", day, payload.get("written_on"), "the date it was written")
    author = checks.run("author_name", clean, payload.get("author_name"), "who wrote it", 200)
    checks.raise_if_any()
    return {"kind": kind, "title": title, "body": body, "written_on": written_on,
            "author_name": author or ""}


def resource_payload(payload, max_bytes: int) -> dict:
    """title, description, kind, and url | filename + content_b64 | form_key."""
    if not isinstance(payload, dict):
        raise InvalidInput("payload must be an object")
    checks = FieldChecks()
    kind = payload.get("kind")
    if kind not in RESOURCE_KINDS:
        checks.add("kind", "Choose a file, a link or a survey.")
    out = {"kind": kind,
           "title": checks.run("title", clean, payload.get("title"), "a title", 200, required=True),
           "description": checks.run("description", clean, payload.get("description"),
                                     "the description", 2000, multiline=True) or ""}
    if kind == "link":
        out["url"] = checks.run("url", link, payload.get("url"))
    elif kind == "survey":
        out["form_key"] = checks.run("form_key", form_key, payload.get("form_key"))
    elif kind == "file":
        out["filename"] = checks.run("file", filename, payload.get("filename"))
        data = checks.run("file", file_bytes, payload.get("content_b64"), max_bytes)
        if data is not None:
            out["content_type"] = domain.sniff(data)
            if out["content_type"] is None:
                checks.add("file", domain.NOT_ALLOWED)
        out["data"] = data
    checks.raise_if_any()
    return out


# ---- answers -----------------------------------------------------------------

def _iso(moment):
    return None if moment is None else iso(moment)


def document_out(row) -> dict:
    return {"id": row.id, "client_id": row.client_id, "filename": row.filename,
            "content_type": row.content_type, "size": row.size, "uploaded_at": iso(row.uploaded_at),
            "uploaded_by_kind": row.uploaded_by_kind, "uploaded_by_name": row.uploaded_by_name}


def resource_out(row) -> dict:
    return {"id": row.id, "title": row.title, "description": row.description, "kind": row.kind,
            "url": row.url, "form_key": row.form_key, "filename": row.filename,
            "published_at": iso(row.published_at)}


def handbook_out(row) -> dict | None:
    if row is None:
        return None
    return {"filename": row.filename, "size": row.size, "uploaded_at": iso(row.uploaded_at)}


def note_out(row, with_body: bool = True) -> dict:
    out = {"id": row.id, "client_id": row.client_id, "kind": row.kind, "title": row.title,
           "written_on": row.written_on.isoformat(), "author_name": row.author_name,
           "shared_at": iso(row.shared_at), "shared_by": row.shared_by_name}
    if with_body:
        out["body"] = row.body
    return out


def kept_pdf_out(row) -> dict:
    return {"id": row.id, "kind": row.kind, "ref_id": row.ref_id, "filename": row.filename,
            "stored_at": _iso(row.stored_at)}
