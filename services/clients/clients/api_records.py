"""RPC entrypoints on client records: profiles, third-party contacts,
insurance, and the audit trail. Part of ClientsService (service.py)."""
from __future__ import annotations

from servicekit.errors import EXPECTED, InvalidInput
from servicekit.rpc import rpc

from clients import actors, audit, domain, records, schemas, schemas_admin, views


class RecordsApi:
    """Mixin: expects `db` and `settings` from the service. Like invoicing's
    RPCs, these take the record first and the actor last."""

    def _actor(self, actor, permission, action, client_id=None):
        return actors.require(self.db, actor, permission, action,
                              str(client_id) if client_id is not None else None)

    # ---- profiles ------------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_client(self, payload, actor):
        who = self._actor(actor, "clients.write", "client.create")
        client = records.create_client(self.db, who, schemas.new_client(payload))
        self.db.commit()
        return views.client_out(client)

    @rpc(expected_exceptions=EXPECTED)
    def update_client(self, client_id, changes, actor):
        who = self._actor(actor, "clients.write", "client.update", client_id)
        fields = schemas.client_changes(changes)
        client = records.update_client(self.db, who, records.load_client(self.db, client_id, True), fields)
        self.db.commit()
        return views.client_out(client)

    @rpc(expected_exceptions=EXPECTED)
    def convert_inquiry(self, client_id, actor):
        who = self._actor(actor, "clients.write", "client.convert", client_id)
        client = records.convert_inquiry(self.db, who, records.load_client(self.db, client_id, True))
        self.db.commit()
        return views.client_out(client)

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, client_id, actor=None, purpose=None):
        """Without an actor: a service asking (not audited). With one: a
        person reading the record, audited as `purpose` (a page's read of
        another service's data about this client, e.g. financial.read) or
        client.read — written behind the request, in a batch."""
        action = schemas_admin.read_action(purpose or "client.read")
        who = actor and self._actor(actor, "clients.read", action, client_id)
        client = records.load_client(self.db, client_id)
        if who:
            audit.read_by(self.audit_trail, who, action, client.id)
        return views.client_out(client)

    @rpc(expected_exceptions=EXPECTED)
    def client_record(self, client_id, actor):
        """A client's profile page in one call: the record, its third-party
        contacts (inactive too) and insurance; one audit entry."""
        who = self._actor(actor, "clients.read", "client.read", client_id)
        client = records.load_client(self.db, client_id)
        audit.read_by(self.audit_trail, who, "client.read", client.id, detail="profile")
        return {"client": views.client_out(client),
                "contacts": [views.contact_out(c) for c in records.contacts_of(self.db, client.id, True)],
                "insurance": [views.policy_out(p) for p in records.policies_of(self.db, client.id)]}

    @rpc(expected_exceptions=EXPECTED)
    def list_clients(self, kind=None, query=None, actor=None):
        """Every match (at most 500) — for services; staff pages page through
        `search_clients`."""
        if kind is not None and kind not in domain.KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(domain.KINDS)}")
        who = actor and self._actor(actor, "clients.read", "client.search")
        found = records.search(self.db, kind, schemas.search_query(query))
        if who:
            audit.read_by(self.audit_trail, who, "client.search", detail="query" if query else "list")
        return [views.client_out(client) for client in found]

    @rpc(expected_exceptions=EXPECTED)
    def search_clients(self, actor, kind=None, query=None, page=1, per_page=50):
        """One page of the staff client list: {clients, page, per_page, has_next}."""
        if kind is not None and kind not in domain.KINDS:
            raise InvalidInput(f"kind must be one of {', '.join(domain.KINDS)}")
        page, per_page = schemas_admin.paging(page, per_page)
        who = self._actor(actor, "clients.read", "client.search")
        found = records.search(self.db, kind, schemas.search_query(query),
                               offset=(page - 1) * per_page, limit=per_page + 1)
        audit.read_by(self.audit_trail, who, "client.search", detail="query" if query else "list")
        return {"clients": [views.client_out(client) for client in found[:per_page]],
                "page": page, "per_page": per_page, "has_next": len(found) > per_page}

    @rpc(expected_exceptions=EXPECTED)
    def get_contact(self, client_id):
        """Who to write to about a client's bills: name and email only."""
        client = records.load_client(self.db, client_id)
        return {"client_id": client.id, "name": views.full_name(client),
                "first_name": client.first_name, "email": client.email}

    @rpc(expected_exceptions=EXPECTED)
    def billing_directory(self, client_ids):
        """For billing documents in batches (statements, superbills): up to
        1,000 clients in one call and one SQL statement, {client id: {id,
        name, first_name, email, address, date_of_birth}}; ids not found are
        left out. A service asking: not audited (the page that shows a
        document audits its own read)."""
        ids = schemas_admin.id_list(client_ids, "client_ids", 1000)
        return {client.id: views.billing_entry(client)
                for client in records.clients_by_id(self.db, ids)}

    @rpc(expected_exceptions=EXPECTED)
    def check_date_of_birth(self, client_id, date_of_birth):
        """Whether a payer who opened a payment link knows the patient's date
        of birth (the only proof asked before an invoice's services are
        shown). The date itself never leaves this service; False when none
        is on file."""
        born = schemas.day({"date_of_birth": date_of_birth}, "date_of_birth", required=True)
        client = records.load_client(self.db, client_id)
        return born is not None and client.date_of_birth == born

    # ---- third-party contacts ------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def add_contact(self, client_id, payload, actor):
        who = self._actor(actor, "contacts.write", "contact.add", client_id)
        fields = schemas.contact_fields(payload)
        contact = records.add_contact(self.db, who, records.load_client(self.db, client_id), fields)
        self.db.commit()
        return views.contact_out(contact)

    @rpc(expected_exceptions=EXPECTED)
    def update_contact(self, contact_id, changes, actor):
        contact = records.load_contact(self.db, contact_id)
        who = self._actor(actor, "contacts.write", "contact.update", contact.client_id)
        contact = records.update_contact(self.db, who, contact, schemas.contact_fields(changes, True))
        self.db.commit()
        return views.contact_out(contact)

    @rpc(expected_exceptions=EXPECTED)
    def inactivate_contact(self, contact_id, actor):
        contact = records.load_contact(self.db, contact_id)
        who = self._actor(actor, "contacts.write", "contact.inactivate", contact.client_id)
        contact = records.inactivate_contact(self.db, who, contact)
        self.db.commit()
        return views.contact_out(contact)

    @rpc(expected_exceptions=EXPECTED)
    def list_contacts(self, client_id, actor, include_inactive=True):
        who = self._actor(actor, "clients.read", "contact.list", client_id)
        client = records.load_client(self.db, client_id)
        found = records.contacts_of(self.db, client.id, bool(include_inactive))
        audit.read_by(self.audit_trail, who, "contact.list", client.id)
        return [views.contact_out(contact) for contact in found]

    # ---- insurance -----------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def add_insurance(self, client_id, payload, actor):
        who = self._actor(actor, "insurance.write", "insurance.add", client_id)
        fields = schemas.policy_fields(payload)
        policy = records.add_policy(self.db, who, records.load_client(self.db, client_id), fields)
        self.db.commit()
        return views.policy_out(policy)

    @rpc(expected_exceptions=EXPECTED)
    def list_insurance(self, client_id, actor):
        who = self._actor(actor, "clients.read", "insurance.list", client_id)
        client = records.load_client(self.db, client_id)
        audit.read_by(self.audit_trail, who, "insurance.list", client.id)
        return [views.policy_out(policy) for policy in records.policies_of(self.db, client.id)]

    # ---- audit trail ---------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def record_access(self, actor, action, client_id=None, outcome="ok"):
        """The gateway logs what it serves from other services (the financial
        tab: `record_access(actor, "financial.read", client_id)`) and what it
        refused (`outcome="denied"`, or an action "denied:<permission>")."""
        action, outcome = schemas_admin.access_entry(action, outcome)
        client_id = str(client_id) if client_id else None
        if outcome == "ok":
            who = self._actor(actor, "clients.read", action, client_id)
        else:
            who = actors.identify(self.db, actor, action, client_id)
        audit.by(self.db, who, action, client_id, outcome=outcome,
                 detail="refused by the gateway" if outcome == "denied" else "")
        self.db.commit()

    @rpc(expected_exceptions=EXPECTED)
    def list_audit(self, actor, client_id=None, limit=100, before_id=None):
        """Newest first; `before_id` (the last id of the previous page) pages
        back through older entries."""
        if isinstance(limit, bool) or not isinstance(limit, int) or not 1 <= limit <= 1000:
            raise InvalidInput("limit must be a whole number from 1 to 1000")
        if before_id is not None and (isinstance(before_id, bool) or not isinstance(before_id, int)):
            raise InvalidInput("before_id must be a whole number")
        client_id = schemas_admin.client_filter(client_id)
        who = self._actor(actor, "audit.read", "audit.read", client_id)
        entries = audit.listing(self.db, client_id, limit, before_id)
        audit.read_by(self.audit_trail, who, "audit.read", client_id)
        return entries
