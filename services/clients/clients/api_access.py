"""RPC entrypoints for signing in: sessions, TOTP, passwords and password
links, portal invitations. Part of ClientsService (service.py)."""
from __future__ import annotations

from servicekit.errors import EXPECTED
from servicekit.rpc import rpc

from clients import actors, auth, links, people, records, schemas, self_service, views
from clients.credentials import model_for


def _ip(ip) -> str:
    return str(ip or "")[:64]


class AccessApi:
    """Mixin: expects `db` and `settings` from the service."""

    # ---- sign-in and sessions ------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def sign_in(self, kind, login, password, ip=""):
        model_for(kind)
        result = auth.sign_in(self.db, self.settings, kind, login, password, _ip(ip))
        self.db.commit()
        return result

    @rpc(expected_exceptions=EXPECTED)
    def complete_totp(self, challenge, code, ip=""):
        result = auth.complete_totp(self.db, self.settings, challenge, code, _ip(ip))
        self.db.commit()
        return result

    @rpc(expected_exceptions=EXPECTED)
    def get_session(self, token, ip=""):
        """The live session of a token (a gateway caches it for a few seconds
        and drops it on SessionEnded / SessionChanged). Writes only when
        last_seen_at is a minute old or the session must end."""
        record, subject = auth.current(self.db, self.settings, token)
        session = auth.describe(self.db, self.settings, record, subject)
        auth.commit_if_changed(self.db)
        return session

    @rpc(expected_exceptions=EXPECTED)
    def switch_client(self, token, client_id, ip=""):
        session = auth.switch_client(self.db, self.settings, token, client_id, _ip(ip))
        self.db.commit()
        return session

    @rpc(expected_exceptions=EXPECTED)
    def end_session(self, token):
        auth.end_session(self.db, token)
        self.db.commit()

    # ---- the signed-in person's own account ----------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def totp_begin(self, session_token):
        result = self_service.totp_begin(self.db, self.settings, session_token)
        self.db.commit()
        return result

    @rpc(expected_exceptions=EXPECTED)
    def totp_confirm(self, session_token, code):
        self_service.totp_confirm(self.db, self.settings, session_token, code)
        self.db.commit()

    @rpc(expected_exceptions=EXPECTED)
    def totp_disable(self, session_token, password):
        self_service.totp_disable(self.db, self.settings, session_token, password)
        self.db.commit()

    @rpc(expected_exceptions=EXPECTED)
    def change_password(self, token, current_password, new_password, ip=""):
        self_service.change_password(self.db, self.settings, token, current_password,
                                     new_password, _ip(ip))
        self.db.commit()

    # ---- password links ------------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def request_password_reset(self, kind, login, ip=""):
        model_for(kind)
        links.request_reset(self.db, kind, login, _ip(ip))
        self.db.commit()

    @rpc(expected_exceptions=EXPECTED)
    def issue_password_link(self, kind, subject_id, purpose, request_key):
        link = links.issue(self.db, self.settings, kind, subject_id, purpose, request_key)
        self.db.commit()
        return link

    @rpc(expected_exceptions=EXPECTED)
    def check_password_link(self, token):
        return links.check(self.db, self.settings, token)

    @rpc(expected_exceptions=EXPECTED)
    def set_password_with_token(self, token, new_password, ip=""):
        result = links.set_password(self.db, self.settings, token, new_password, _ip(ip))
        self.db.commit()
        return result

    # ---- portal accounts -----------------------------------------------------
    @rpc(expected_exceptions=EXPECTED)
    def invite_to_portal(self, actor, client_id, email, name, relationship="self"):
        if not isinstance(actor, dict) and isinstance(relationship, dict):
            # also called record-first, actor-last like the other client RPCs:
            # invite_to_portal(client_id, email, name, relationship, actor)
            actor, client_id, email, name, relationship = relationship, actor, client_id, email, name
        who = actors.require(self.db, actor, "portal.invite", "portal.invite", str(client_id))
        fields = schemas.invitation(email, name, relationship)
        invited = people.invite(self.db, who, records.load_client(self.db, client_id), **fields)
        self.db.commit()
        return invited

    @rpc(expected_exceptions=EXPECTED)
    def get_account_contact(self, account_id):
        """For notifications: where to send a portal account's welcome link."""
        return views.account_contact(people.load_account(self.db, account_id))
