"""RPC entrypoints on the organization (settings, locations) and its staff
users. Part of ClientsService (service.py). The client handbook moved to the
documents service (set_handbook / handbook / open_handbook there)."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from clients import actors, organization, people, schemas_admin, views


class OrganizationApi:
    """Mixin: expects `db` and `settings` from the service."""

    # ---- organization --------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def get_organization(self):
        return organization.describe(self.db)

    @rpc(expected_exceptions=EXPECTED)
    def update_organization(self, actor, payload):
        who = actors.require(self.db, actor, "org.admin", "organization.update")
        organization.update(self.db, who, schemas_admin.organization_changes(payload))
        self.db.commit()
        return organization.describe(self.db)

    @rpc(expected_exceptions=EXPECTED)
    def get_location(self, location_id):
        return views.location_out(organization.load_location(self.db, location_id))

    @rpc(expected_exceptions=EXPECTED)
    def upsert_location(self, actor, payload):
        who = actors.require(self.db, actor, "org.admin", "location.upsert")
        location_id, fields = schemas_admin.location_fields(payload)
        location = organization.upsert_location(self.db, who, location_id, fields)
        self.db.commit()
        return views.location_out(location)

    # ---- staff users ---------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def create_staff(self, actor, payload):
        who = actors.require(self.db, actor, "staff.admin", "staff.create")
        staff = people.create_staff(self.db, who, schemas_admin.new_staff(payload))
        self.db.commit()
        return views.staff_out(staff, people.location_ids(self.db, staff.id))

    @rpc(expected_exceptions=EXPECTED)
    def update_staff(self, actor, staff_id, changes):
        who = actors.require(self.db, actor, "staff.admin", "staff.update")
        fields = schemas_admin.staff_changes(changes)
        staff = people.update_staff(self.db, who, people.load_staff(self.db, staff_id, True), fields)
        self.db.commit()
        return views.staff_out(staff, people.location_ids(self.db, staff.id))

    @rpc(expected_exceptions=EXPECTED)
    def list_staff(self, actor):
        actors.require(self.db, actor, "staff.admin", "staff.list")
        return [views.staff_out(staff, people.location_ids(self.db, staff.id))
                for staff in people.list_staff(self.db)]

    @rpc(expected_exceptions=EXPECTED)
    def get_staff(self, staff_id):
        staff = people.load_staff(self.db, staff_id)
        return views.staff_out(staff, people.location_ids(self.db, staff.id))

    @rpc(expected_exceptions=EXPECTED)
    def get_staff_contact(self, staff_id):
        """For notifications: where to send a staff user's set-password link."""
        return views.staff_contact(people.load_staff(self.db, staff_id))
