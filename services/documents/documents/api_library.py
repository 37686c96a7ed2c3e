"""Resources and the client handbook: what the clinic publishes for everyone."""
from __future__ import annotations

from sqlalchemy import select

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from documents.models import Resource


class LibraryApi:

    @rpc(expected_exceptions=EXPECTED)
    def list_resources(self):
        """Published resources, newest first."""
        rows = self.db.scalars(select(Resource).where(Resource.removed_at.is_(None))
                               .order_by(Resource.published_at.desc())).all()
        return [{"id": row.id, "title": row.title, "description": row.description,
                 "kind": row.kind, "url": row.url, "form_key": row.form_key,
                 "filename": row.filename, "published_at": row.published_at.isoformat() + "Z"}
                for row in rows]
