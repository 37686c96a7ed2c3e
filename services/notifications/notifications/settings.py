"""The service's own settings, read once at start from the nameko config
(tests) or CAIRN_* environment variables. Mail settings live in mailer.py."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider

from servicekit.config import ConfigError, setting

from notifications.domain import QuietHours, parse_quiet_hours

DEFAULT_CLINIC_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class NotificationSettings:
    public_url: str = "http://127.0.0.1:8000"  # where the portal and /pay/ pages live
    timezone: str = "UTC"                      # dates in emails are shown in this zone
    rpc_timeout_seconds: float = 30.0          # a collaborator that does not answer -> retry later
    lease_seconds: float = 120.0               # how long a worker owns a delivery it is sending
    # appointment reminders: how long before the start, never in quiet hours
    # (clinic wall-clock time in clinic_timezone: CLINIC_TIMEZONE, else
    # TIMEZONE, else America/New_York — the same rule as scheduling's)
    reminder_lead_hours: float = 24.0
    quiet_hours: str = "21:00-08:00"
    clinic_timezone: str = DEFAULT_CLINIC_TIMEZONE

    @property
    def quiet(self) -> QuietHours | None:
        return parse_quiet_hours(self.quiet_hours)


def load(container_config: dict) -> NotificationSettings:
    defaults = NotificationSettings()
    loaded = NotificationSettings(
        public_url=str(setting(container_config, "PUBLIC_URL", defaults.public_url)).rstrip("/"),
        timezone=str(setting(container_config, "TIMEZONE", defaults.timezone)),
        rpc_timeout_seconds=float(setting(container_config, "RPC_TIMEOUT_SECONDS",
                                          defaults.rpc_timeout_seconds)),
        lease_seconds=float(setting(container_config, "DELIVERY_LEASE_SECONDS",
                                    defaults.lease_seconds)),
        reminder_lead_hours=float(setting(container_config, "REMINDER_LEAD_HOURS",
                                          defaults.reminder_lead_hours)),
        quiet_hours=str(setting(container_config, "QUIET_HOURS", defaults.quiet_hours)),
        clinic_timezone=str(setting(container_config, "CLINIC_TIMEZONE", None)
                            or setting(container_config, "TIMEZONE", None)
                            or DEFAULT_CLINIC_TIMEZONE))
    for name, zone in (("TIMEZONE", loaded.timezone), ("CLINIC_TIMEZONE", loaded.clinic_timezone)):
        try:
            ZoneInfo(zone)
        except Exception as exc:
            raise ConfigError(f"{name} {zone!r} is not a known time zone") from exc
    try:
        loaded.quiet
    except ValueError as exc:
        raise ConfigError(f"QUIET_HOURS: {exc}") from None
    if not 0 < loaded.reminder_lead_hours <= 24 * 14:
        raise ConfigError("REMINDER_LEAD_HOURS must be more than 0 and at most 336")
    return loaded


class Settings(DependencyProvider):
    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx) -> NotificationSettings:
        return self.settings
