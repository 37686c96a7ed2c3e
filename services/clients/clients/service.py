"""Clients service: client records, staff users, portal accounts, the
organization and its locations."""
from __future__ import annotations

from nameko.rpc import rpc
from sqlalchemy import select

from servicekit.db import Database, utcnow
from servicekit.errors import EXPECTED, NotFound, Unauthorized
from servicekit.outbox import OutboxRelay, record_event

from clients import domain, schemas
from clients.models import Client, Location, Organization, PortalAccount, StaffUser

SOURCE = "clients"


class ClientsService:
    name = SOURCE
    db = Database()
    relay = OutboxRelay()

    @rpc(expected_exceptions=EXPECTED)
    def create_client(self, payload):
        fields = schemas.new_client(payload)
        client = Client(id=domain.new_id("cl"), created_at=utcnow(), **fields)
        self.db.add(client)
        record_event(self.db, SOURCE, "ClientRegistered", {"client_id": client.id, "kind": client.kind})
        self.db.commit()
        return schemas.client_out(client)

    @rpc(expected_exceptions=EXPECTED)
    def get_client(self, client_id):
        return schemas.client_out(self._client(client_id))

    @rpc(expected_exceptions=EXPECTED)
    def list_clients(self, kind=None):
        query = select(Client).order_by(Client.last_name, Client.first_name)
        if kind:
            query = query.where(Client.kind == kind)
        return [schemas.client_out(c) for c in self.db.scalars(query)]

    @rpc(expected_exceptions=EXPECTED)
    def get_contact(self, client_id):
        """Who to write to about a client's bills: name and email only."""
        client = self._client(client_id)
        return {"client_id": client.id, "name": f"{client.first_name} {client.last_name}",
                "first_name": client.first_name, "email": client.email}

    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        org = self.db.scalars(select(Organization)).first()
        if org is None:
            raise NotFound("the organization has not been set up")
        locations = list(self.db.scalars(select(Location).order_by(Location.name)))
        return schemas.organization_out(org, locations)

    @rpc(expected_exceptions=EXPECTED)
    def get_location(self, location_id):
        location = self.db.get(Location, location_id)
        if location is None:
            raise NotFound(f"location {location_id} not found")
        return schemas.location_out(location)

    @rpc(expected_exceptions=EXPECTED)
    def authenticate_staff(self, email, password):
        staff = self.db.scalars(select(StaffUser).where(StaffUser.email == str(email).lower())).first()
        if not domain.password_matches(staff.password_hash if staff else domain.DUMMY_HASH, password):
            raise Unauthorized("email or password is not right")
        return schemas.staff_out(staff)

    @rpc(expected_exceptions=EXPECTED)
    def authenticate_portal(self, username, password):
        account = self.db.scalars(select(PortalAccount).where(
            PortalAccount.username == str(username).lower())).first()
        if not domain.password_matches(account.password_hash if account else domain.DUMMY_HASH, password):
            raise Unauthorized("username or password is not right")
        client = self._client(account.client_id)
        return {"client_id": client.id, "name": f"{client.first_name} {client.last_name}"}

    @rpc(expected_exceptions=EXPECTED)
    def get_staff(self, staff_id):
        staff = self.db.get(StaffUser, staff_id)
        if staff is None:
            raise NotFound(f"staff user {staff_id} not found")
        return schemas.staff_out(staff)

    def _client(self, client_id) -> Client:
        client = self.db.get(Client, str(client_id))
        if client is None:
            raise NotFound(f"client {client_id} not found")
        return client
