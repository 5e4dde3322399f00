"""Waking the database ahead of the data: a page view starts a resume in the background.

Aurora Serverless v2 resumes from a pause only when a connection arrives, and that takes
15 s or more. The owner's first step after a pause is a page that needs no data (the
sign-in page, or a bookmarked page sent to it) a few seconds before the first request that
does. :class:`WakeAhead` turns that page view into the start of the resume:

* **Only when it may be paused.** The database counts as *seen* whenever the pool opens,
  lends, takes back or closes a connection (the engine's pool events). A page view starts a
  wake only if no connection is lent out and the last sighting is older than the pause delay
  (``DB_AUTO_PAUSE_SECONDS``, Aurora's ``SecondsUntilAutoPause``), or if there has been
  none yet (a new process, a new Lambda environment: it cannot know).
* **Bounded.** One wake at a time, and at most one per pause delay whatever the page views;
  a wake is one ordinary connect through the engine (credentials, TLS and the cold-start
  connector's retries within ``DB_COLD_START_BUDGET_SECONDS``), a ``SELECT 1``, and then
  the connection is *invalidated*: closed, not given back to the pool. So nothing is held
  afterwards and Aurora's pause timer starts again at once.
* **Never on its own.** Only a page view calls :meth:`WakeAhead.page_view`; the health
  probes and the API do not (the caller decides, :mod:`rms.http.wake`). With nobody looking
  nothing connects, so the database pauses as before.

The clock and the wake itself are injectable (tests); :func:`wake_ahead_for` wires one to
an engine.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine, event

from rms.db.engine import is_sqlite
from rms.db.pool import pool_figures
from rms.settings import Settings

__all__ = ["WakeAhead", "wake_ahead_for"]

log = logging.getLogger("rms.db.wake")


class WakeAhead:
    """Decides whether a page view starts a background resume, and runs it."""

    def __init__(
        self,
        wake: Callable[[], None],
        *,
        pause_seconds: float,
        open_connections: Callable[[], int] = lambda: 0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if pause_seconds <= 0:
            raise ValueError("pause_seconds must be > 0")
        self.pause_seconds = pause_seconds
        self.wakes = 0
        self.failures = 0
        self._wake = wake
        self._open_connections = open_connections
        self._clock = clock
        self._lock = threading.Lock()
        self._last_seen: float | None = None
        self._last_wake: float | None = None
        self._done = threading.Event()
        self._done.set()

    def seen(self, *_args: Any) -> None:
        """The database was just in contact (a pool event): it is awake now."""
        now = self._clock()
        with self._lock:
            self._last_seen = now

    @property
    def running(self) -> bool:
        """True while a wake is under way."""
        return not self._done.is_set()

    def due(self) -> bool:
        """Would a page view now start a wake? (No side effect.)"""
        with self._lock:
            return self._due(self._clock())

    def _due(self, now: float) -> bool:
        if not self._done.is_set():
            return False  # one at a time
        if self._last_wake is not None and now - self._last_wake < self.pause_seconds:
            return False  # at most one per pause interval
        if self._last_seen is not None and now - self._last_seen < self.pause_seconds:
            return False  # seen recently: not paused yet
        return self._open_connections() == 0  # an open connection keeps it awake

    def page_view(self) -> bool:
        """A page is being served: start a wake in the background if one is due.

        Returns True when this call started one. Never blocks and never raises.
        """
        now = self._clock()
        with self._lock:
            if not self._due(now):
                return False
            self._last_wake = now
            self._done.clear()
            self.wakes += 1
        thread = threading.Thread(target=self._run, name="rms-wake-ahead", daemon=True)
        try:
            thread.start()
        except RuntimeError:  # no thread to be had (interpreter shutting down)
            self._done.set()
            return False
        return True

    def wait(self, timeout: float) -> bool:
        """Wait up to ``timeout`` s for the wake under way to finish; True if none is left."""
        return self._done.wait(timeout)

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self._wake()
            log.info(
                "woke the database ahead of a request in %.1f s", time.perf_counter() - started
            )
        except Exception as exc:  # the database's own errors are the next request's to report
            self.failures += 1
            log.info("waking the database ahead failed (the next request retries): %s", exc)
        finally:
            self._done.set()


def _connect_and_let_go(engine: Engine) -> None:
    """One connection through the engine's connector, ``SELECT 1``, then closed for good."""
    with engine.connect() as conn:
        try:
            conn.exec_driver_sql("SELECT 1")
        finally:
            conn.invalidate()  # closed, never returned to the pool: nothing stays open


def wake_ahead_for(engine: Engine, settings: Settings) -> WakeAhead | None:
    """The engine's :class:`WakeAhead`, or None (SQLite, or ``DB_WAKE_AHEAD=false``)."""
    if is_sqlite(engine) or not settings.db_wake_ahead:
        return None

    def open_connections() -> int:
        # Lent connections only: a connection closed by invalidation leaves an empty record
        # that the pool counts as idle. Idle ones are covered by the sightings: the pool's
        # idle release closes them (a "close" event) well within the pause delay.
        figures = pool_figures(engine)
        return 0 if figures is None else figures.in_use

    waker = WakeAhead(
        lambda: _connect_and_let_go(engine),
        pause_seconds=settings.db_auto_pause_seconds,
        open_connections=open_connections,
    )
    for name in ("connect", "checkout", "checkin", "close", "invalidate"):
        event.listen(engine, name, waker.seen)
    return waker
