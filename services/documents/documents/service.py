"""Documents service: files a client or staff uploads, the resources and
client handbook the clinic publishes, notes staff share, PDFs kept from
invoicing, and (forms*, consents*) forms, surveys and consents.

The entrypoints are grouped by subject in mixins; each is a few lines:
parse the input, call a use case, commit, shape. The gateway decides who may
ask; every portal read or write here is scoped by `client_id`."""
from __future__ import annotations

from servicekit.db import Database
from servicekit.outbox import OutboxRelay
from servicekit.rpc import TimedRpcProxy

from documents.api_kept import KeptPdfsApi
from documents.api_library import LibraryApi
from documents.api_notes import NotesApi
from documents.api_uploads import UploadsApi
from documents.consents_api import ConsentsApi
from documents.forms_api import FormsApi, PortalSummaryApi
from documents.settings import Settings
from documents.api_overview import OverviewApi
from documents.storage import Storage


class DocumentsService(UploadsApi, LibraryApi, NotesApi, KeptPdfsApi, FormsApi, ConsentsApi,
                       PortalSummaryApi, OverviewApi):
    name = "documents"
    db = Database()
    relay = OutboxRelay()
    settings = Settings()
    storage = Storage()
    # invoicing renders a PDF in a second or two; give it time, never forever
    invoicing = TimedRpcProxy("invoicing", timeout_setting="KEPT_PDF_RPC_TIMEOUT_SECONDS",
                              default=30)
