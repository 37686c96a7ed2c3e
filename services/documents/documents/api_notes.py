"""Notes, assessments and treatment plans shared with a client."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from documents import notes, schemas


class NotesApi:

    @rpc(expected_exceptions=EXPECTED)
    def share_note(self, client_id, payload, by):
        """payload {kind: note | assessment | treatment_plan, title, body,
        written_on, author_name} -> NOTE."""
        return schemas.note_out(notes.share(self.db, schemas.identifier("client_id", client_id),
                                            payload, schemas.by(by)))

    @rpc(expected_exceptions=EXPECTED)
    def list_shared_notes(self, client_id):
        """The client's shared notes, newest first, without their text."""
        rows = notes.shared_with(self.db, schemas.identifier("client_id", client_id))
        return [schemas.note_out(row, with_body=False) for row in rows]

    @rpc(expected_exceptions=EXPECTED)
    def get_shared_note(self, note_id, client_id=None):
        return schemas.note_out(notes.get(self.db, schemas.identifier("note_id", note_id),
                                          schemas.optional_client(client_id)))

    @rpc(expected_exceptions=EXPECTED)
    def unshare_note(self, note_id, by):
        notes.unshare(self.db, schemas.identifier("note_id", note_id), schemas.by(by))
