"""The clients service's settings, read in one place: the nameko config
(tests) wins over CAIRN_<NAME> environment variables."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from nameko.extensions import DependencyProvider

from servicekit import config

from clients.domain import SessionTimes

DEVELOPMENT_LINK_SECRET = "cairn-development-account-link-secret"


@dataclass(frozen=True)
class Settings:
    lockout_threshold: int = 5
    lockout_minutes: int = 15
    session_idle_minutes: int = 15
    session_max_hours: int = 12
    invite_ttl_hours: int = 72
    reset_ttl_hours: int = 1
    challenge_minutes: int = 5
    link_secret: str = DEVELOPMENT_LINK_SECRET

    @property
    def session_times(self) -> SessionTimes:
        return SessionTimes(timedelta(minutes=self.session_idle_minutes),
                            timedelta(hours=self.session_max_hours))

    def link_ttl(self, purpose: str) -> timedelta:
        return timedelta(hours=self.invite_ttl_hours if purpose == "welcome"
                         else self.reset_ttl_hours)


def load(container_config: dict) -> Settings:
    def number(name: str, default: int) -> int:
        return int(config.setting(container_config, name, default))

    return Settings(
        lockout_threshold=number("LOCKOUT_THRESHOLD", 5),
        lockout_minutes=number("LOCKOUT_MINUTES", 15),
        session_idle_minutes=number("SESSION_IDLE_MINUTES", 15),
        session_max_hours=number("SESSION_MAX_HOURS", 12),
        invite_ttl_hours=number("INVITE_TTL_HOURS", 72),
        reset_ttl_hours=number("RESET_TTL_HOURS", 1),
        link_secret=(config.setting(container_config, "ACCOUNT_LINK_SECRET")
                     or config.secret("ACCOUNT_LINK_SECRET", DEVELOPMENT_LINK_SECRET)),
    )


class ServiceSettings(DependencyProvider):
    """Injects the Settings, read once at start: in production mode a missing
    CAIRN_ACCOUNT_LINK_SECRET stops the service from starting."""

    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx) -> Settings:
        return self.settings
