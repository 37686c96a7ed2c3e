"""Uploads: a client's files (from the portal or staff) and opening them."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from documents import schemas, uploads


class UploadsApi:

    @rpc(expected_exceptions=EXPECTED)
    def upload(self, client_id, filename, content_b64, by, request_key=None):
        """Store a PDF, JPEG, PNG or HEIC file for the client -> DOCUMENT;
        InvalidFields {"file": ...} stores nothing. Emits DocumentUploaded."""
        document = uploads.upload(self.db, self.storage, self.settings,
                                  schemas.identifier("client_id", client_id), filename,
                                  content_b64, schemas.by(by), schemas.request_key(request_key))
        return schemas.document_out(document)

    @rpc(expected_exceptions=EXPECTED)
    def list_documents(self, client_id):
        """The client's uploads, newest first."""
        rows = uploads.list_documents(self.db, schemas.identifier("client_id", client_id))
        return [schemas.document_out(row) for row in rows]

    @rpc(expected_exceptions=EXPECTED)
    def open_document(self, document_id, client_id=None):
        """DOWNLOAD; NotFound for another client's document."""
        document = uploads.get_document(self.db, schemas.identifier("document_id", document_id),
                                        schemas.optional_client(client_id))
        self.db.commit()
        return self.storage.open(document.storage_key, document.filename, document.content_type)
