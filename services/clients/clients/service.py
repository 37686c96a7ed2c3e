"""Clients service: client records (client, inquiry and guarantor-account
profiles), guardians, third-party contacts, insurance, the organization and
its locations, staff users and roles, portal accounts, sign-in and
server-side sessions, and the audit trail.

The entrypoints are grouped by subject in three mixins; each is a few
lines: check the actor, parse the input, call a use case, commit, shape."""
from __future__ import annotations

from servicekit.batching import BatchedInserts
from servicekit.db import Database
from servicekit.outbox import OutboxRelay

from clients.api_access import AccessApi
from clients.api_org import OrganizationApi
from clients.api_records import RecordsApi
from clients.api_releases import ReleasesApi
from clients.models import AuditEntry
from clients.settings import ServiceSettings


class ClientsService(RecordsApi, OrganizationApi, AccessApi, ReleasesApi):
    name = "clients"
    db = Database()
    relay = OutboxRelay()
    # reads are audited behind the request, in batches (clients.audit.read_by)
    audit_trail = BatchedInserts(AuditEntry.__table__, "AUDIT_WRITE_BEHIND_SECONDS", 0.2)
    settings = ServiceSettings()
