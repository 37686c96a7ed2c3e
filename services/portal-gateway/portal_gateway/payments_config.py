"""How payment pages reach Stripe's card and bank form (Stripe.js and its
Payment Element in live mode; the local sandbox's stand-in otherwise), and
the Content-Security-Policy that lets exactly that in."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from nameko.extensions import DependencyProvider

from servicekit import config

LIVE_JS = "https://js.stripe.com/v3/"
# what Stripe.js itself loads, frames and calls in live mode
LIVE_ORIGINS = {"script": ["https://js.stripe.com"],
                "frame": ["https://js.stripe.com", "https://hooks.stripe.com"],
                "connect": ["https://api.stripe.com"]}


@dataclass(frozen=True)
class StripeJs:
    publishable_key: str
    js_url: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.js_url)
        return f"{parts.scheme}://{parts.netloc}"

    def csp(self, base: str) -> str:
        live = self.js_url == LIVE_JS
        script = " ".join(LIVE_ORIGINS["script"]) if live else self.origin
        frame = " ".join(LIVE_ORIGINS["frame"]) if live else self.origin
        connect = " ".join(LIVE_ORIGINS["connect"]) if live else self.origin
        return (f"{base}; script-src 'self' {script}; frame-src {frame}; "
                f"connect-src 'self' {connect}")


class StripeJsConfig(DependencyProvider):
    def setup(self):
        settings = self.container.config
        key = config.setting(settings, "STRIPE_PUBLISHABLE_KEY") or config.secret(
            "STRIPE_PUBLISHABLE_KEY", "pk_test_cairn_sandbox")
        default = LIVE_JS if key.startswith("pk_live") or config.is_production() \
            else "http://127.0.0.1:12111/v3/"
        self.stripe_js = StripeJs(key, config.setting(settings, "STRIPE_JS_URL", default))
        if key.startswith("pk_live") and not self.stripe_js.js_url.startswith("https://"):
            raise config.ConfigError("live payments load Stripe.js over https only")

    def get_dependency(self, worker_ctx) -> StripeJs:
        return self.stripe_js
