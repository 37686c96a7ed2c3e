"""Configuration from CAIRN_* environment variables, read here and only here.
Defaults work on one machine; secrets have no default in production mode."""
from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[3]


class ConfigError(RuntimeError):
    pass


def env(name: str, default: str | None = None) -> str | None:
    return os.environ.get(f"CAIRN_{name}", default)


def is_production() -> bool:
    return env("MODE", "development") == "production"


def secret(name: str, development_default: str) -> str:
    value = env(name)
    if value:
        return value
    if is_production():
        raise ConfigError(f"CAIRN_{name} must be set in production mode")
    return development_default


def var_dir() -> Path:
    path = Path(env("VAR_DIR") or REPO_ROOT / "var")
    path.mkdir(parents=True, exist_ok=True)
    return path


def database_url(service: str) -> str:
    """CAIRN_<SERVICE>_DATABASE_URL, else CAIRN_DATABASE_URL_TEMPLATE with
    {service}, else a SQLite file under var/."""
    key = service.upper().replace("-", "_") + "_DATABASE_URL"
    explicit = env(key)
    if explicit:
        return explicit
    template = env("DATABASE_URL_TEMPLATE")
    if template:
        return template.format(service=service.replace("-", "_"))
    return f"sqlite:///{var_dir() / (service + '.db')}"


def amqp_uri() -> str:
    return env("AMQP_URI", "amqp://guest:guest@localhost:5672/")


# Concurrent workers per service copy (nameko's max_workers; its default of
# 10 is not a decision). A service worker mostly waits on PostgreSQL or an
# RPC, so 16 keep 2 cores busy; each holds one pooled connection, and 4
# services x (16 + 4) stay under PostgreSQL's default 100 connections. The
# gateway holds no connection and waits on RPC replies for every page, so it
# gets enough for 100 concurrent sessions.
DEFAULT_MAX_WORKERS = 16
MAX_WORKERS_BY_SERVICE = {"portal-gateway": 100}


def max_workers(service: str | None = None) -> int:
    """CAIRN_<SERVICE>_MAX_WORKERS, else CAIRN_MAX_WORKERS, else the default."""
    key = (service or "").upper().replace("-", "_") + "_MAX_WORKERS"
    return int(env(key) or env("MAX_WORKERS") or MAX_WORKERS_BY_SERVICE.get(service or "",
                                                                               DEFAULT_MAX_WORKERS))


def nameko_config(service: str | None = None, **extra) -> dict:
    """The nameko config dict a service runs with."""
    config = {
        "AMQP_URI": amqp_uri(),
        "WEB_SERVER_ADDRESS": env("WEB_ADDRESS", "127.0.0.1:8000"),
        "serializer": "json",
        "max_workers": max_workers(service),
    }
    config.update(extra)
    return config


def retry_delays_ms() -> list[int]:
    raw = env("EVENT_RETRY_DELAYS_MS", "1000,5000,30000,120000")
    return [int(part) for part in raw.split(",") if part.strip()]


def setting(container_config: dict, name: str, default=None):
    """A service setting: the nameko config (tests) wins over CAIRN_<NAME>."""
    if name in container_config:
        return container_config[name]
    return env(name, default)
