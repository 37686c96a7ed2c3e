"""PDFs kept from invoicing: statements issued and invoices sent."""
from __future__ import annotations

from nameko.timer import timer

from servicekit import config
from servicekit.errors import EXPECTED
from servicekit.events import handles
from servicekit.inbox import handle_once
from servicekit.rpc import rpc

from documents import kept_pdfs, schemas


class KeptPdfsApi:

    @handles("invoicing", "StatementIssued")
    def on_statement_issued(self, envelope):
        handle_once(self.db, envelope, "documents.on_statement_issued",
                    lambda data: kept_pdfs.queue(self.db, "statement", data["statement_id"],
                                                 data["client_id"], envelope["id"],
                                                 self.settings.kept_pdf_delay_seconds))

    @handles("invoicing", "InvoiceSent")
    def on_invoice_sent(self, envelope):
        handle_once(self.db, envelope, "documents.on_invoice_sent",
                    lambda data: kept_pdfs.queue(self.db, "invoice", data["invoice_id"],
                                                 data["client_id"], envelope["id"],
                                                 self.settings.kept_pdf_delay_seconds))

    @timer(interval=float(config.env("KEPT_PDF_POLL_SECONDS", "5")))
    def keep_pdfs(self):
        """A few queued PDFs per tick, fetched from invoicing and stored."""
        kept_pdfs.work(self.db, self.storage, self.invoicing, self.settings.kept_pdf_batch,
                       self.settings.kept_pdf_lease_seconds, self.settings.kept_pdf_max_attempts)

    @rpc(expected_exceptions=EXPECTED)
    def list_kept_pdfs(self, client_id):
        """[{id, kind, ref_id, filename, stored_at}], newest first."""
        rows = kept_pdfs.kept_for(self.db, schemas.identifier("client_id", client_id))
        return [schemas.kept_pdf_out(row) for row in rows]

    @rpc(expected_exceptions=EXPECTED)
    def open_kept_pdf(self, pdf_id, client_id=None):
        return kept_pdfs.open_kept(self.db, self.storage, schemas.identifier("pdf_id", pdf_id),
                                   schemas.optional_client(client_id))
