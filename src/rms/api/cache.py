"""An in-process TTL cache for reference data, so reading it does not wake the database.

Risk groups, deposit types, holidays and settings change rarely and are read often; with
Aurora scaling to zero, serving them from memory avoids waking a paused cluster. Every
write through the service clears that resource's entries. Writes made elsewhere (another
process, SQL by hand) show after at most ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Any

__all__ = ["TTLCache"]


class TTLCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl_seconds
        self._clock = clock
        self._entries: dict[tuple[str, Hashable], tuple[float, Any]] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def get_or_load(self, group: str, key: Hashable, load: Callable[[], Any]) -> Any:
        if self.ttl <= 0:
            return load()
        now = self._clock()
        with self._lock:
            entry = self._entries.get((group, key))
            if entry is not None and entry[0] > now:
                self.hits += 1
                return entry[1]
        value = load()
        with self._lock:
            self.misses += 1
            self._entries[(group, key)] = (now + self.ttl, value)
        return value

    def invalidate(self, group: str) -> None:
        with self._lock:
            for key in [k for k in self._entries if k[0] == group]:
                del self._entries[key]
