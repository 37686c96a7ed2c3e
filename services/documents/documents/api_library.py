"""Resources and the client handbook: what the clinic publishes for everyone."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from documents import library, schemas


class LibraryApi:

    @rpc(expected_exceptions=EXPECTED)
    def list_resources(self):
        """Published resources, newest first."""
        return [schemas.resource_out(row) for row in library.published(self.db)]

    @rpc(expected_exceptions=EXPECTED)
    def add_resource(self, payload, by):
        """payload: title, description, kind (file | link | survey) and url |
        filename + content_b64 | form_key -> RESOURCE."""
        return schemas.resource_out(library.add_resource(self.db, self.storage, self.settings,
                                                         payload, schemas.by(by)))

    @rpc(expected_exceptions=EXPECTED)
    def remove_resource(self, resource_id, by):
        library.remove_resource(self.db, schemas.identifier("resource_id", resource_id),
                                schemas.by(by))

    @rpc(expected_exceptions=EXPECTED)
    def open_resource(self, resource_id):
        return library.open_resource(self.db, self.storage,
                                     schemas.identifier("resource_id", resource_id))

    @rpc(expected_exceptions=EXPECTED)
    def set_handbook(self, filename, content_b64, by):
        """A new client handbook (PDF only) -> {filename, size, uploaded_at}."""
        return schemas.handbook_out(library.set_handbook(self.db, self.storage, self.settings,
                                                         filename, content_b64, schemas.by(by)))

    @rpc(expected_exceptions=EXPECTED)
    def handbook(self):
        """{filename, size, uploaded_at} of the current handbook, or None."""
        return schemas.handbook_out(library.current_handbook(self.db))

    @rpc(expected_exceptions=EXPECTED)
    def open_handbook(self):
        """DOWNLOAD of the current handbook; NotFound when there is none."""
        return library.open_handbook(self.db, self.storage)
