"""The signed copy of a consent as a PDF, rendered when it is downloaded
(servicekit.pdf, off the eventlet hub): the exact text, the signature block
and the drawing. The PDF is a view; what the SHA-256 covers is the stored
canonical document (consents_domain.signed_document)."""
from __future__ import annotations

import base64
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from servicekit import pdf
from servicekit.db import iso

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                  autoescape=select_autoescape(["html"]), trim_blocks=True, lstrip_blocks=True)


def html(consent, signature, drawing: bytes | None, verified: bool) -> str:
    drawing_url = ("data:image/png;base64," + base64.b64encode(drawing).decode("ascii")
                   if drawing else None)
    return env.get_template("consent_signed.html").render(
        consent=consent, signature=signature, paragraphs=consent.text.split("\n\n"),
        requested_on=consent.requested_at.date().isoformat(),
        revoked_on=consent.revoked_at.date().isoformat() if consent.revoked_at else "",
        signed_at=iso(signature.signed_at), drawing_data_url=drawing_url, verified=verified)


def render(consent, signature, drawing: bytes | None, verified: bool) -> bytes:
    return pdf.render(html(consent, signature, drawing, verified))


def filename(consent) -> str:
    """No names, no PHI: the consent's id only."""
    return f"signed-consent-{consent.id}.pdf"
