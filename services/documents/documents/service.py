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

from documents.api_library import LibraryApi
from documents.settings import Settings
from documents.storage import Storage


class DocumentsService(LibraryApi):
    name = "documents"
    db = Database()
    relay = OutboxRelay()
    settings = Settings()
    storage = Storage()
    invoicing = TimedRpcProxy("invoicing")   # kept PDFs: RPC_TIMEOUT_SECONDS (30 s default)
