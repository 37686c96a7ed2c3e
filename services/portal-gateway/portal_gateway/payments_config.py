"""How payment pages reach Stripe's card and bank form (Stripe.js and its
Payment Element in live mode; the local sandbox's stand-in otherwise), and
the Content-Security-Policy that lets exactly that in."""
from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from nameko.extensions import DependencyProvider

from servicekit import config

LIVE_JS = "https://js.stripe.com/v3/"
# what Stripe.js itself loads, frames and calls in live mode; a payment
# form's answer may redirect to Stripe's 3-D Secure page (form-action covers
# the redirects that follow a form submission)
LIVE_ORIGINS = {"script": ["https://js.stripe.com"],
                "frame": ["https://js.stripe.com", "https://hooks.stripe.com"],
                "connect": ["https://api.stripe.com"],
                "form": ["https://hooks.stripe.com"]}


@dataclass(frozen=True)
class StripeJs:
    publishable_key: str
    js_url: str

    @property
    def origin(self) -> str:
        parts = urlsplit(self.js_url)
        return f"{parts.scheme}://{parts.netloc}"

    def csp(self, base: str) -> str:
        """`base` with Stripe's origins added where a payment page needs them."""
        live = self.js_url == LIVE_JS

        def origins(kind: str) -> str:
            return " ".join(LIVE_ORIGINS[kind]) if live else self.origin
        kept = [part for part in base.split("; ") if not part.startswith("form-action")]
        return "; ".join(kept + [f"form-action 'self' {origins('form')}",
                                 f"script-src 'self' {origins('script')}",
                                 f"frame-src {origins('frame')}",
                                 f"connect-src 'self' {origins('connect')}"])


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
