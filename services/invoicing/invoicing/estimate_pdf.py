"""An estimate (or Good Faith Estimate) as a PDF, through the shared PDF
machinery (`pdfs.py`): `templates/pdf/estimate.html` extends `pdf/base.html`
like the invoice, statement and superbill; rendered by WeasyPrint once per
version of its HTML and kept in `pdf_cache` (kind `estimate`, keyed by the
estimate id). A changed estimate (sent, decided, invoiced) is new HTML, so a
stale PDF is never served."""
from __future__ import annotations

from sqlalchemy.orm import Session

from invoicing import pdfs

KIND = "estimate"


def html(estimate: dict, organization: dict, patient: dict) -> str:
    location = next((loc for loc in organization.get("locations") or ()
                     if loc.get("id") == estimate["location_id"]), {})
    return pdfs.page("pdf/estimate.html", estimate=estimate, organization=organization,
                     location=location, patient=patient)


def render(session: Session, estimate: dict, organization: dict, patient: dict) -> bytes:
    """The PDF, from the cache when this exact HTML was rendered before
    (writes in the caller's transaction; the caller commits)."""
    return pdfs.render_pdf(session, KIND, estimate["id"], html(estimate, organization, patient))


def reply(session: Session, estimate: dict, organization: dict, patient: dict) -> dict:
    """The RPC answer, shaped as the other PDFs' (`pdfs.reply`)."""
    return pdfs.reply(filename(estimate), render(session, estimate, organization, patient),
                      client_id=estimate["client_id"])


def filename(estimate: dict) -> str:
    """Numbers only, no PHI."""
    return f"estimate-{estimate['number']}.pdf"
