"""Pure rules for consents: a release's contact, a signature (typed name,
optional drawing), and the signed document whose SHA-256 proves it was not
altered.

The signed document is canonical UTF-8 text, built only from what is stored
(so anyone can rebuild it and check the hash): the consent's exact text,
then the signer, the typed name, the method, the time (UTC), the address,
the browser, and the drawing's SHA-256 when drawn (the drawing itself is
stored beside it; its hash inside the document ties the two)."""
from __future__ import annotations

import base64
import binascii
import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from servicekit.db import iso
from servicekit.errors import InvalidFields, InvalidInput
from servicekit.text import FieldChecks, clean

from documents.consent_templates import MAY_RECEIVE

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
DATA_URL_PREFIX = "data:image/png;base64,"
DRAWING_MAX_BYTES = 200 * 1024
FORMAT = "cairn-signed-consent/1"

TYPE_NAME = "Type your full name to sign."
DRAWING_UNREADABLE = "The drawing could not be read; clear it and sign again, or type your name only."
DRAWING_TOO_LARGE = "The drawing is too large; clear it and sign again, or type your name only."


@dataclass(frozen=True)
class Signature:
    typed_name: str
    method: str                 # typed | drawn
    drawing: bytes | None       # PNG bytes when drawn


def contact_input(value, today: date) -> dict:
    """A release's contact: {id, name, may_receive, until (date or None),
    purpose}; InvalidFields keyed contact_* in front-desk words."""
    if not isinstance(value, dict):
        raise InvalidFields({"contact": "Choose the contact this release is for."})
    checks = FieldChecks()
    contact_id = value.get("id")
    if not isinstance(contact_id, str) or not contact_id.strip() or len(contact_id.strip()) > 40:
        checks.add("contact", "Choose the contact this release is for.")
    else:
        contact_id = contact_id.strip()
    name = checks.run("contact", clean, value.get("name"), "the contact's name", 200,
                      required=True)
    may_receive = value.get("may_receive")
    if not isinstance(may_receive, str) or may_receive not in MAY_RECEIVE:
        checks.add("may_receive", "Choose what this contact may receive: billing only, or "
                                  "billing and clinical.")
    purpose = checks.run("purpose", clean, value.get("purpose"), "the purpose", 300)
    until = value.get("until")
    if until in (None, ""):
        until = None
    else:
        try:
            until = date.fromisoformat(str(until).strip())
        except ValueError:
            checks.add("until", "Enter the end date as YYYY-MM-DD, for example 2027-06-30.")
            until = None
        else:
            if until < today:
                checks.add("until", "The end date has passed; choose a later date or leave it "
                                    "empty.")
    checks.raise_if_any()
    return {"id": contact_id, "name": name, "may_receive": may_receive, "until": until,
            "purpose": purpose or None}


def signature_input(value) -> Signature:
    """The typed name (always required) and, when drawn, the PNG the pad
    made: checked by its first bytes and size, not by what the browser said."""
    if not isinstance(value, dict):
        raise InvalidFields({"typed_name": TYPE_NAME})
    checks = FieldChecks()
    typed = checks.run("typed_name", clean, value.get("typed_name"), "your name", 200)
    if checks.errors.get("typed_name") is None and not typed:
        checks.add("typed_name", TYPE_NAME)
    drawing = checks.run("drawing", drawing_bytes, value.get("drawing"))
    checks.raise_if_any()
    return Signature(typed, "drawn" if drawing else "typed", drawing)


def drawing_bytes(value) -> bytes | None:
    if value in (None, ""):
        return None
    if not isinstance(value, str) or not value.startswith(DATA_URL_PREFIX):
        raise InvalidInput(DRAWING_UNREADABLE)
    encoded = value[len(DATA_URL_PREFIX):]
    # base64 is 4/3 of the bytes: refuse before decoding anything huge
    if len(encoded) > (DRAWING_MAX_BYTES * 4) // 3 + 8:
        raise InvalidInput(DRAWING_TOO_LARGE)
    try:
        data = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput(DRAWING_UNREADABLE) from None
    if len(data) > DRAWING_MAX_BYTES:
        raise InvalidInput(DRAWING_TOO_LARGE)
    if not data.startswith(PNG_MAGIC) or len(data) < len(PNG_MAGIC) + 12:
        raise InvalidInput(DRAWING_UNREADABLE)
    return data


def signed_document(*, consent_id: str, client_id: str, title: str, template_key: str,
                    template_version: int, text: str, signer_kind: str, signer_id: str,
                    signer_name: str, typed_name: str, method: str, signed_at: datetime,
                    ip: str, user_agent: str, drawing_sha256: str | None) -> bytes:
    """The canonical signed document (UTF-8, "\\n" line ends). Every value is
    one that is stored, so the same call on the stored row rebuilds it."""
    lines = [
        FORMAT,
        f"Consent: {title}",
        f"Consent id: {consent_id}",
        f"Template: {template_key} version {template_version}",
        f"Client id: {client_id}",
        "",
        text.replace("\r\n", "\n"),
        "",
        "Signature",
        f"Signer: {signer_name} ({signer_kind} {signer_id})",
        f"Typed name: {typed_name}",
        f"Method: {method}",
        f"Signed at (UTC): {iso(signed_at)}",
        f"IP address: {ip}",
        f"User agent: {user_agent}",
    ]
    if drawing_sha256:
        lines.append(f"Drawing SHA-256: {drawing_sha256}")
    return ("\n".join(lines) + "\n").encode("utf-8")


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def one_line(value, max_len: int) -> str:
    """The address or browser as recorded: printable, one line, bounded."""
    if not isinstance(value, str):
        return ""
    return "".join(ch for ch in value if ch.isprintable())[:max_len].strip()
