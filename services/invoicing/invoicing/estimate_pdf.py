"""An estimate (or Good Faith Estimate) as a PDF: the HTML template
`templates/pdf/estimate.html` rendered by servicekit.pdf (WeasyPrint, off
the eventlet hub). The statements work adds a shared renderer and cache in
`pdfs.py`; this renders directly until the two are merged."""
from __future__ import annotations

from pathlib import Path

from jinja2 import ChainableUndefined, Environment, FileSystemLoader, select_autoescape

from servicekit import pdf
from servicekit.money import format_money

_templates = Environment(loader=FileSystemLoader(Path(__file__).parent / "templates"),
                         autoescape=select_autoescape(["html"]), undefined=ChainableUndefined,
                         trim_blocks=True, lstrip_blocks=True)
_templates.filters["money"] = lambda cents: format_money(int(cents))


def html(estimate: dict, organization: dict, patient: dict) -> str:
    location = next((loc for loc in organization.get("locations") or ()
                     if loc.get("id") == estimate["location_id"]), {})
    return _templates.get_template("pdf/estimate.html").render(
        estimate=estimate, organization=organization, location=location, patient=patient)


def render(estimate: dict, organization: dict, patient: dict) -> bytes:
    return pdf.render(html(estimate, organization, patient))


def filename(estimate: dict) -> str:
    return f"{estimate['number']}.pdf"
