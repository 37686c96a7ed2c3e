"""Plumbing every Cairn service shares. No business rules live here."""
import warnings

# eventlet warns on import that it is in maintenance mode; nameko 2.14 needs it.
warnings.filterwarnings("ignore", message=r"\s*Eventlet is deprecated")
