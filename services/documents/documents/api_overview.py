"""A client's Documents tab in one call: the staff page asks once, not four
times (the gateway's budget is two RPCs a page)."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from documents import consents, forms, notes, schemas, uploads


class OverviewApi:

    @rpc(expected_exceptions=EXPECTED)
    def client_overview(self, client_id, clinical=False):
        """{uploads, forms, consents, notes}: what list_documents, list_forms,
        list_consents and list_shared_notes answer. With `clinical` (the
        caller may see scores) a flagged form also carries its `detail`
        (questions and answers, for the item-9 answer) and the notes come
        too; without it, `notes` is None."""
        client_id = schemas.identifier("client_id", client_id)
        assigned = []
        for row in forms.list_forms(self.db, client_id):
            shown = forms.assignment_out(row)
            if clinical and shown.get("flagged"):
                shown["detail"] = forms.detail_out(row)
            assigned.append(shown)
        return {"uploads": [schemas.document_out(row)
                            for row in uploads.list_documents(self.db, client_id)],
                "forms": assigned,
                "consents": [consents.consent_out(row)
                             for row in consents.list_consents(self.db, client_id)],
                "notes": [schemas.note_out(row, with_body=False)
                          for row in notes.shared_with(self.db, client_id)] if clinical else None}
