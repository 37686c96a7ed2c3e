"""Settings read once when the service starts, so a production start
without its secrets fails at once rather than at the first payment."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from nameko.extensions import DependencyProvider

from servicekit import config


@dataclass(frozen=True)
class PayLinks:
    secret: str
    ttl: timedelta


class PayLinkSettings(DependencyProvider):
    def setup(self):
        settings = self.container.config
        secret = config.setting(settings, "PAY_LINK_SECRET") or config.secret(
            "PAY_LINK_SECRET", "cairn-development-pay-link-secret")
        hours = int(config.setting(settings, "PAY_LINK_TTL_HOURS", "336"))
        self.links = PayLinks(secret, timedelta(hours=hours))

    def get_dependency(self, worker_ctx) -> PayLinks:
        return self.links
