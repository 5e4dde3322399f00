"""An in-process cache for reference data: bounded, and never older than the last write.

Risk groups, deposit types, holidays and settings change rarely and are read often; with
Aurora scaling to zero, serving them from memory avoids waking a paused cluster.

**Reads see writes.** Each group (a resource) has a generation number. A reader notes the
generation *before* it loads from the database and keeps what it loaded only if the
generation is still the same afterwards; a write bumps the generation *after* its commit
(:meth:`ReferenceCache.writing`, also when the write failed, since a lost COMMIT may have
landed). So a reader that loaded the row before a concurrent write committed cannot put
the old row back, and a read that starts after a write answered never sees the state
before it: the entry it could have found belongs to an older generation.

**Bounded.** Entries live at most ``REFERENCE_CACHE_TTL_SECONDS`` (so a change made by
another process, a migration with ``--replace`` or SQL by hand, shows within that time),
at most ``REFERENCE_CACHE_MAX_ENTRIES`` of them and at most ``REFERENCE_CACHE_MAX_BYTES``
in all, counted as the size of their JSON; the least recently used go first
(``cachetools.TTLCache``), and an entry larger than the whole budget is served but not
kept.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from typing import Any

import cachetools
from pydantic_core import to_json

__all__ = ["ReferenceCache"]


def _json_size(value: Any) -> int:
    try:
        return len(to_json(value))
    except Exception:  # not serialisable: count it as too large to keep
        return 1 << 62


class ReferenceCache:
    def __init__(
        self,
        ttl_seconds: float,
        *,
        max_entries: int = 512,
        max_bytes: int = 8 * 1024 * 1024,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.ttl = ttl_seconds
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: cachetools.TTLCache[tuple[str, int, Hashable], tuple[int, Any]] = (
            cachetools.TTLCache(
                maxsize=max_bytes, ttl=max(ttl_seconds, 0.001), timer=clock, getsizeof=_size
            )
        )
        self._generations: dict[str, int] = {}
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0

    def generation(self, group: str) -> int:
        with self._lock:
            return self._generations.get(group, 0)

    def get_or_load(self, group: str, key: Hashable, load: Callable[[], Any]) -> Any:
        if self.ttl <= 0:
            return load()
        with self._lock:
            generation = self._generations.get(group, 0)
            entry = self._entries.get((group, generation, key))
            if entry is not None:
                self.hits += 1
                return entry[1]
            self.misses += 1
        value = load()
        size = _json_size(value)
        with self._lock:
            # Keep it only if no write committed meanwhile (else it may be the old state).
            if self._generations.get(group, 0) == generation and size <= self.max_bytes:
                self._entries[(group, generation, key)] = (size, value)
                while len(self._entries) > self.max_entries:
                    self._entries.popitem()
        return value

    @contextmanager
    def writing(self, group: str) -> Iterator[None]:
        """Around a write to ``group``: its entries are outdated once the write is over."""
        try:
            yield
        finally:
            self.invalidate(group)

    def invalidate(self, group: str) -> None:
        """Outdate every entry of ``group`` (call after the change committed)."""
        with self._lock:
            self._generations[group] = self._generations.get(group, 0) + 1
            for key in [k for k in self._entries if k[0] == group]:
                del self._entries[key]

    @property
    def size_bytes(self) -> int:
        with self._lock:
            return int(self._entries.currsize)

    def __len__(self) -> int:
        with self._lock:
            return len(self._entries)


def _size(entry: tuple[int, Any]) -> int:
    return entry[0]
