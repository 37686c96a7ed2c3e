"""The invoice, statement and superbill PDFs: what each shows, from the same
stored numbers the screens show, rendered through `pdfs` (cached). Each
function takes the session and what clients told the caller (the client as
`billing_directory` describes it, the organization); the caller commits."""
from __future__ import annotations

from datetime import date

from sqlalchemy.orm import Session

from servicekit import config
from servicekit.errors import NotFound

from invoicing import pdfs, statements, superbills
from invoicing.models import BillingProvider, Invoice

PORTAL_BILLING_PATH = "/portal/billing"


def portal_billing_url() -> str:
    return (config.env("PUBLIC_URL", "http://127.0.0.1:8000") or "").rstrip("/") + PORTAL_BILLING_PATH


def invoice_filename(invoice: Invoice) -> str:
    return f"invoice-{invoice.number}.pdf"


def invoice_lines(invoice: Invoice) -> list[dict]:
    return [{"date": (line.service_date or invoice.created_at.date()).isoformat(),
             "code": line.service_code, "modifiers": line.modifiers or "",
             "description": line.description, "units": line.units,
             "unit_price": line.unit_price, "amount": line.amount,
             "discount": (line.line_discount or 0) + (line.discount_share or 0),
             "net": superbills.line_fee(line)} for line in invoice.lines]


def invoice_pdf(session: Session, invoice: Invoice, client: dict, organization: dict) -> dict:
    provider = session.get(BillingProvider, invoice.provider_id) if invoice.provider_id else None
    pay_url = portal_billing_url() if invoice.balance > 0 and invoice.status != "void" else ""
    html = pdfs.page("pdf/invoice.html", organization=organization, client=client,
                     invoice=invoice, lines=invoice_lines(invoice), provider=provider,
                     discounts=invoice.subtotal - invoice.total, pay_url=pay_url,
                     qr=pdfs.qr_data_uri(pay_url) if pay_url else "")
    pdf = pdfs.render_pdf(session, "invoice", invoice.id, html)
    return pdfs.reply(invoice_filename(invoice), pdf, client_id=invoice.client_id,
                      number=invoice.number)


def statement_pdf(session: Session, statement_id: str, client_id: str | None,
                  organization: dict) -> dict:
    row = statements.load(session, statement_id, client_id)
    shown = statements.out(row)
    pay_url = portal_billing_url()
    html = pdfs.page("pdf/statement.html", organization=organization, statement=shown,
                     pay_url=pay_url, qr=pdfs.qr_data_uri(pay_url))
    pdf = pdfs.render_pdf(session, "statement", row.id, html)
    return pdfs.reply(shown["filename"], pdf, client_id=row.client_id, statement=shown)


def superbill(session: Session, client: dict, organization: dict, start: date, end: date,
              today: date) -> dict:
    found = superbills.gather(session, client["id"], start, end)
    shown = superbills.shown(found, client, organization, start, end, today)
    html = pdfs.page("pdf/superbill.html", organization=organization, superbill=shown)
    pdf = pdfs.render_pdf(session, "superbill", f"{client['id']}:{start}:{end}", html)
    return pdfs.reply(shown["filename"], pdf, client_id=client["id"], superbill=shown)


def load_invoice(session: Session, invoice_id: str, client_id: str | None) -> Invoice:
    """With `client_id` (the portal): only that client's, and not a draft."""
    invoice = session.get(Invoice, str(invoice_id))
    if invoice is None or (client_id is not None and (invoice.client_id != str(client_id)
                                                      or invoice.status == "draft")):
        raise NotFound("invoice not found")
    return invoice
