"""A pool that drains to zero: close every idle connection after a quiet spell.

Aurora Serverless v2 cannot pause while any client holds a connection, idle or not. The
SQLAlchemy pool keeps connections for reuse, so :class:`IdleReleaser` watches checkouts
and check-ins and, once nothing has been checked out for ``idle_seconds``, disposes of the
pool's idle connections (connections in use are never touched: a disposed pool closes
them when they come back). The next request opens a fresh connection.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from sqlalchemy import Engine, event
from sqlalchemy.pool import QueuePool

from rms.db.observe import PoolFigures

__all__ = ["IdleReleaser", "pool_figures"]


def pool_figures(engine: Engine, waiting: int = 0) -> PoolFigures | None:
    """Pool occupancy; ``waiting`` (requests queued for a connection) is counted by the caller."""
    pool = engine.pool
    if not isinstance(pool, QueuePool):
        return None
    return PoolFigures(
        size=pool.size(),
        in_use=pool.checkedout(),
        idle=pool.checkedin(),
        overflow=max(pool.overflow(), 0),
        waiting=waiting,
    )


class IdleReleaser:
    """Background thread that empties the pool after ``idle_seconds`` without checkouts."""

    def __init__(self, engine: Engine, idle_seconds: float) -> None:
        self.engine = engine
        self.idle_seconds = idle_seconds
        self.releases = 0
        self._in_use = 0
        self._last_activity = time.monotonic()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        event.listen(engine, "checkout", self._on_checkout)
        event.listen(engine, "checkin", self._on_checkin)

    def _on_checkout(self, *_args: Any) -> None:
        with self._lock:
            self._in_use += 1
            self._last_activity = time.monotonic()

    def _on_checkin(self, *_args: Any) -> None:
        with self._lock:
            self._in_use = max(self._in_use - 1, 0)
            self._last_activity = time.monotonic()

    def release_if_idle(self) -> bool:
        """Dispose of idle connections if the quiet spell is long enough; True if it did."""
        with self._lock:
            quiet = time.monotonic() - self._last_activity
            busy = self._in_use > 0
        figures = pool_figures(self.engine)
        if busy or quiet < self.idle_seconds or figures is None or figures.idle == 0:
            return False
        self.engine.dispose(close=True)
        self.releases += 1
        return True

    def start(self) -> IdleReleaser:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="rms-idle-release", daemon=True)
            self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _run(self) -> None:
        interval = max(0.1, min(self.idle_seconds / 4, 5.0))
        while not self._stop.wait(interval):
            self.release_if_idle()
