"""Settings read once when the service starts, so a production start
without its secrets fails at once rather than at the first payment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from nameko.extensions import DependencyProvider

from servicekit import config

from payments.domain import LinkLimits


@dataclass(frozen=True)
class PaymentSettings:
    link_secret: str
    link_ttl: timedelta
    limits: LinkLimits
    nightly_hour: int          # UTC hour after which yesterday is compared with Stripe


class Settings(DependencyProvider):
    def setup(self):
        settings = self.container.config
        secret = config.setting(settings, "PAY_LINK_SECRET") or config.secret(
            "PAY_LINK_SECRET", "cairn-development-pay-link-secret")
        hours = int(config.setting(settings, "PAY_LINK_TTL_HOURS", "336"))
        limits = LinkLimits(
            pay_per_link_per_hour=int(config.setting(settings, "PAY_LINK_ATTEMPTS_PER_HOUR", "10")),
            pay_per_address_per_hour=int(config.setting(settings, "PAY_ADDRESS_ATTEMPTS_PER_HOUR",
                                                        "20")),
            declines_to_lock=int(config.setting(settings, "PAY_LINK_DECLINES_TO_LOCK", "5")))
        self.settings = PaymentSettings(
            secret, timedelta(hours=hours), limits,
            int(config.setting(settings, "RECONCILE_NIGHTLY_HOUR_UTC", "3")))

    def get_dependency(self, worker_ctx) -> PaymentSettings:
        return self.settings


def reconcile_interval_seconds() -> float:
    """How often the reconciler sweeps; read when the service class is made."""
    return float(config.env("RECONCILE_INTERVAL_SECONDS", "15"))
