"""PDFs of billing documents (invoices, statements, superbills, estimates):
jinja2 HTML from `templates/pdf/` (every page extends `pdf/base.html`, which
holds the shared CSS and the clinic's letterhead), rendered by WeasyPrint
(servicekit.pdf, off the eventlet hub) on first request and kept in
`pdf_cache`, keyed by (kind, subject, fingerprint of the HTML). Changed data
means new HTML, so a stale PDF is never served; a batch (the statement run)
never waits on rendering.

For another document kind (e.g. estimates):

    html = pdfs.page("pdf/estimate.html", organization=org, estimate=shown)
    pdf = pdfs.render_pdf(session, "estimate", estimate_id, html)   # caller commits
    return pdfs.reply(f"estimate-{number}.pdf", pdf)
"""
from __future__ import annotations

import base64
import hashlib
from datetime import date
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from servicekit import pdf as pdf_engine
from servicekit.db import utcnow
from servicekit.money import format_money

from invoicing.models import PdfCache

TEMPLATES = Path(__file__).parent / "templates"
env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(["html"]),
                  trim_blocks=True, lstrip_blocks=True)
env.filters["money"] = lambda cents, currency="usd": format_money(int(cents), currency)


def long_date(value) -> str:
    if not value:
        return ""
    day = value if isinstance(value, date) else date.fromisoformat(str(value)[:10])
    return f"{day:%B} {day.day}, {day.year}"


env.filters["long_date"] = long_date


def page(template: str, **context) -> str:
    """The HTML of one document (self-contained: inline CSS, data: images)."""
    return env.get_template(template).render(**context)


def fingerprint(html: str) -> str:
    return hashlib.sha256(html.encode("utf-8")).hexdigest()


def render_pdf(session: Session, kind: str, key: str, html: str) -> bytes:
    """The PDF of `html`, from the cache when this exact HTML was rendered
    before; else rendered now and kept (older versions of the same subject
    dropped). Writes in the caller's transaction; the caller commits."""
    print_id = fingerprint(html)
    cached = session.scalar(select(PdfCache.pdf).where(
        PdfCache.kind == kind, PdfCache.subject_id == str(key), PdfCache.fingerprint == print_id))
    if cached is not None:
        return bytes(cached)
    rendered = pdf_engine.render(html)
    try:
        with session.begin_nested():
            session.execute(delete(PdfCache).where(PdfCache.kind == kind,
                                                   PdfCache.subject_id == str(key)))
            session.add(PdfCache(kind=kind, subject_id=str(key), fingerprint=print_id,
                                 pdf=rendered, created_at=utcnow()))
    except IntegrityError:   # another worker kept the same one a moment ago
        pass
    return rendered


def reply(filename: str, pdf: bytes, **extra) -> dict:
    """An RPC answer (JSON): the PDF base64-encoded, with its file name."""
    return {"filename": filename, "content_type": "application/pdf",
            "pdf_base64": base64.b64encode(pdf).decode("ascii"), **extra}


def qr_data_uri(text: str) -> str:
    """A QR code of `text` (e.g. the portal's billing address) as an SVG data URI."""
    import segno
    return segno.make(text, error="m").svg_data_uri(scale=3, border=2)


def address_lines(address: str) -> list[str]:
    return [line.strip() for line in str(address or "").splitlines() if line.strip()]


env.filters["address_lines"] = address_lines
