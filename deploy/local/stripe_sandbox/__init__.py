"""A loopback stand-in for Stripe's REST API, for tests and local runs."""
from .sandbox import Sandbox
from .webhooks import signature_header

__all__ = ["Sandbox", "signature_header"]
