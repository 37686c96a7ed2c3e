"""Short-lived caches of what changes rarely (a session check, the
organization, the service catalog), shared by every worker of one process.

A cache holds a value for at most `ttl` seconds and is emptied at once by
the event that changes the value: `broadcast(...)` handlers (servicekit.events)
reach every running copy of a service. The TTL bounds how stale a value can
get if such an event is missed (a broker reconnect)."""
from __future__ import annotations

import time
from collections import OrderedDict
from typing import Callable, Hashable

from nameko.extensions import DependencyProvider

from servicekit import config

MISSING = object()


class TtlCache:
    """A dict whose entries expire; the oldest are evicted beyond `max_entries`."""

    def __init__(self, ttl: float, max_entries: int = 10_000, clock: Callable[[], float] = time.monotonic):
        self.ttl, self.max_entries, self.clock = ttl, max_entries, clock
        self._entries: OrderedDict[Hashable, tuple[float, object]] = OrderedDict()
        self.hits = self.misses = 0
        # bumped by every drop: a value loaded while something was dropped may
        # predate that change, so `put(..., loaded_at=generation)` skips it
        self.generation = 0

    def get(self, key: Hashable, default=MISSING):
        entry = self._entries.get(key)
        if entry is None or entry[0] <= self.clock():
            if entry is not None:
                del self._entries[key]
            self.misses += 1
            return default
        self.hits += 1
        return entry[1]

    def put(self, key: Hashable, value, ttl: float | None = None,
            loaded_at: int | None = None) -> None:
        """Keep `value`; unless a drop happened since `loaded_at` (the
        generation read before the value was loaded)."""
        if loaded_at is not None and loaded_at != self.generation:
            return
        self._entries.pop(key, None)
        self._entries[key] = (self.clock() + (self.ttl if ttl is None else ttl), value)
        while len(self._entries) > self.max_entries:
            self._entries.popitem(last=False)

    def get_or_load(self, key: Hashable, load: Callable[[], object]):
        value = self.get(key)
        if value is MISSING:
            generation = self.generation
            value = load()
            self.put(key, value, loaded_at=generation)
        return value

    def drop(self, key: Hashable) -> None:
        self.generation += 1
        self._entries.pop(key, None)

    def drop_where(self, predicate: Callable[[object], bool]) -> None:
        self.generation += 1
        for key, (_, value) in list(self._entries.items()):
            if predicate(value):
                self._entries.pop(key, None)

    def clear(self) -> None:
        self.generation += 1
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)


class Cache(DependencyProvider):
    """Injects one TtlCache shared by every worker of the service. Its TTL is
    the setting `ttl_setting` (CAIRN_<name> or nameko config), else `default`;
    0 turns caching off (every read goes to the owner)."""

    def __init__(self, ttl_setting: str, default: float, max_entries: int = 10_000):
        self.ttl_setting, self.default, self.max_entries = ttl_setting, default, max_entries

    def setup(self):
        ttl = float(config.setting(self.container.config, self.ttl_setting, self.default))
        self.cache = TtlCache(ttl, self.max_entries) if ttl > 0 else TtlCache(0, 0)

    def get_dependency(self, worker_ctx) -> TtlCache:
        return self.cache
