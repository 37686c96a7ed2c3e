"""The service's own settings, read once at start from the nameko config
(tests) or CAIRN_* environment variables."""
from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from nameko.extensions import DependencyProvider

from servicekit.config import ConfigError, setting

DEFAULT_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class SchedulingSettings:
    timezone: str = DEFAULT_TIMEZONE          # the clinic's zone: dates and times typed by staff
    telehealth_base_url: str = "https://telehealth.example/join/"  # + a random room id
    join_opens_minutes: int = 10              # Join opens this long before the start


def clinic_timezone(container_config: dict) -> str:
    """CLINIC_TIMEZONE, else TIMEZONE (what notifications uses for emails),
    else America/New_York."""
    return str(setting(container_config, "CLINIC_TIMEZONE", None)
               or setting(container_config, "TIMEZONE", None) or DEFAULT_TIMEZONE)


def load(container_config: dict) -> SchedulingSettings:
    defaults = SchedulingSettings()
    loaded = SchedulingSettings(
        timezone=clinic_timezone(container_config),
        telehealth_base_url=str(setting(container_config, "TELEHEALTH_BASE_URL",
                                        defaults.telehealth_base_url)),
        join_opens_minutes=int(setting(container_config, "JOIN_OPENS_MINUTES",
                                       defaults.join_opens_minutes)))
    try:
        ZoneInfo(loaded.timezone)
    except Exception as exc:
        raise ConfigError(f"CLINIC_TIMEZONE {loaded.timezone!r} is not a known time zone") from exc
    if not loaded.telehealth_base_url.startswith(("https://", "http://")):
        raise ConfigError("TELEHEALTH_BASE_URL must start with https://")
    if not 0 <= loaded.join_opens_minutes <= 240:
        raise ConfigError("JOIN_OPENS_MINUTES must be from 0 to 240")
    return loaded


class Settings(DependencyProvider):
    def setup(self):
        self.settings = load(self.container.config)

    def get_dependency(self, worker_ctx) -> SchedulingSettings:
        return self.settings
