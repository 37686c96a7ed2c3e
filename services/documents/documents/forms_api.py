"""Forms and surveys (and the portal's summary counts)."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from documents import consents, form_catalog, forms, library, schemas


class FormsApi:

    @rpc(expected_exceptions=EXPECTED)
    def list_form_templates(self):
        """[{key, title, kind: screening | intake, self_start, question_count}]."""
        return form_catalog.listing()

    @rpc(expected_exceptions=EXPECTED)
    def assign_form(self, client_id, form_key, by, request_key=None):
        """Staff assign a form or screening -> ASSIGNMENT. Emits FormAssigned."""
        row = forms.assign(self.db, schemas.identifier("client_id", client_id), form_key,
                           schemas.by(by), schemas.request_key(request_key))
        return forms.assignment_out(row)

    @rpc(expected_exceptions=EXPECTED)
    def start_survey(self, client_id, form_key, by):
        """A self-start survey from Resources / Additional Surveys -> ASSIGNMENT
        (an unfinished one of the same form is reused)."""
        row = forms.start_survey(self.db, schemas.identifier("client_id", client_id), form_key,
                                 schemas.by(by))
        return forms.assignment_out(row)

    @rpc(expected_exceptions=EXPECTED)
    def list_forms(self, client_id):
        """To fill in first (oldest first), then completed (newest first)."""
        rows = forms.list_forms(self.db, schemas.identifier("client_id", client_id))
        return [forms.assignment_out(row) for row in rows]

    @rpc(expected_exceptions=EXPECTED)
    def get_form(self, assignment_id, client_id=None):
        """ASSIGNMENT + questions, instructions, answers (when completed)."""
        row = forms.get(self.db, schemas.identifier("assignment_id", assignment_id),
                        schemas.optional_client(client_id))
        return forms.detail_out(row)

    @rpc(expected_exceptions=EXPECTED)
    def submit_form(self, assignment_id, client_id, answers, by):
        """Answers checked (InvalidFields keyed by question id, nothing saved),
        scored, kept -> ASSIGNMENT; Conflict when already completed. Emits
        FormCompleted."""
        row = forms.submit(self.db, schemas.identifier("assignment_id", assignment_id),
                           schemas.optional_client(client_id), answers, schemas.by(by))
        return forms.assignment_out(row)


class PortalSummaryApi:

    @rpc(expected_exceptions=EXPECTED)
    def portal_summary(self, client_id):
        """{consents_outstanding, forms_outstanding, handbook: {filename} | None}:
        two statements, for the portal's Home and Documents pages."""
        outstanding_consents, outstanding_forms = consents.outstanding_counts(
            self.db, schemas.identifier("client_id", client_id))
        return {"consents_outstanding": outstanding_consents,
                "forms_outstanding": outstanding_forms,
                "handbook": library.handbook_info(self.db)}
