"""The service's own settings, read once at start from the nameko config
(tests) or CAIRN_* environment variables. Mail settings live in mailer.py."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider

from servicekit.config import ConfigError, setting


@dataclass(frozen=True)
class NotificationSettings:
    public_url: str = "http://127.0.0.1:8000"  # where the portal and /pay/ pages live
    timezone: str = "UTC"                      # dates in emails are shown in this zone
    rpc_timeout_seconds: float = 30.0          # a collaborator that does not answer -> retry later
    lease_seconds: float = 120.0               # how long a worker owns a delivery it is sending


def load(container_config: dict) -> NotificationSettings:
    defaults = NotificationSettings()
    loaded = NotificationSettings(
        public_url=str(setting(container_config, "PUBLIC_URL", defaults.public_url)).rstrip("/"),
        timezone=str(setting(container_config, "TIMEZONE", defaults.timezone)),
        rpc_timeout_seconds=float(setting(container_config, "RPC_TIMEOUT_SECONDS",
                                          defaults.rpc_timeout_seconds)),
        lease_seconds=float(setting(container_config, "DELIVERY_LEASE_SECONDS",
                                    defaults.lease_seconds)))
    try:
        ZoneInfo(loaded.timezone)
    except Exception as exc:
        raise ConfigError(f"TIMEZONE {loaded.timezone!r} is not a known time zone") from exc
    return loaded


class Settings(DependencyProvider):
    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx) -> NotificationSettings:
        return self.settings
