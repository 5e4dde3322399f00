"""Stop waiting on a connection when its deadline passes: one timer thread, one action.

psycopg waits for the server in C, in the request's own thread, and nothing in that thread
can look at a clock while it waits for bytes that will never come. So a second thread
holds every armed deadline and, when one passes with the connection still in use, calls
:func:`abandon_connection`: it shuts the socket down (the blocked call returns at once with
"server closed the connection", the connection is invalidated, never pooled again) and,
in the background, asks the server to cancel the query (``PQcancelCreate``, libpq >= 17,
bounded by a timeout), so a server that is merely slow stops working on it instead of
running it to its ``statement_timeout``.

Written by hand because no library offers it: :class:`threading.Timer` is a thread per
unit of work, and :mod:`sched` cannot be woken by a new, earlier entry. :class:`Watchdog`
is a heap and a condition variable; its thread starts on the first :meth:`Watchdog.arm`
and ends after ``linger_seconds`` with nothing armed, so an idle process holds no thread.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import logging
import os
import select
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from psycopg import pq

__all__ = ["Guard", "Watchdog", "abandon_connection"]

log = logging.getLogger(__name__)

_ARMED, _FIRING, _FIRED, _DISARMED = range(4)


class Guard:
    """One armed deadline: fires ``action`` once, unless disarmed first."""

    __slots__ = ("_lock", "_state", "action", "at", "reason")

    def __init__(self, at: float, action: Callable[[], None], reason: str) -> None:
        self.at = at
        self.action = action
        self.reason = reason
        self._state = _ARMED
        self._lock = threading.Lock()

    @property
    def armed(self) -> bool:
        return self._state == _ARMED

    @property
    def fired(self) -> bool:
        return self._state in (_FIRING, _FIRED)

    def fire(self) -> bool:
        """Run the action if still armed; True if it ran. Holds the lock while it runs."""
        with self._lock:
            if self._state != _ARMED:
                return False
            self._state = _FIRING
            try:
                self.action()
            except Exception:  # a failed abandon must not kill the watchdog thread
                log.warning("abandoning a connection failed", exc_info=True)
            finally:
                self._state = _FIRED
            return True

    def disarm(self) -> tuple[bool, bool]:
        """Disarm: (whether this call disarmed it, whether it had fired).

        Waits for an action that is running. The wait matters: the action reads the driver
        connection (its socket, a cancel key), so the owner must not close that connection
        while the action runs.
        """
        with self._lock:
            if self._state == _ARMED:
                self._state = _DISARMED
                return True, False
            return False, self._state == _FIRED


class Watchdog:
    """Fires guards at their deadlines from one background thread (thread-safe)."""

    def __init__(self, *, name: str = "rms-db-watchdog", linger_seconds: float = 5.0) -> None:
        self.name = name
        self.linger_seconds = linger_seconds
        self.fired = 0
        self._heap: list[tuple[float, int, Guard]] = []
        self._armed = 0
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def arm(self, at: float, action: Callable[[], None], reason: str = "deadline") -> Guard:
        """Call ``action`` at monotonic time ``at`` unless the guard is disarmed first."""
        guard = Guard(at, action, reason)
        with self._cond:
            heapq.heappush(self._heap, (at, next(self._seq), guard))
            self._armed += 1
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                self._thread.start()
            elif self._heap[0][2] is guard:
                self._cond.notify()
        return guard

    def disarm(self, guard: Guard) -> bool:
        """Disarm ``guard``; True if it had already fired (its connection is abandoned)."""
        disarmed, fired = guard.disarm()
        if disarmed:
            with self._cond:
                self._armed -= 1
                # Disarmed entries wait in the heap for their time; drop them in bulk when
                # they outnumber the live ones, so the heap stays the size of the load.
                if len(self._heap) > 64 and len(self._heap) > 4 * self._armed:
                    self._heap = [entry for entry in self._heap if entry[2].armed]
                    heapq.heapify(self._heap)
        return fired

    @property
    def running(self) -> bool:
        return self._thread is not None

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            with self._cond:
                now = time.monotonic()
                while self._heap and not self._heap[0][2].armed:
                    heapq.heappop(self._heap)
                if not self._heap:
                    idle_since = idle_since if idle_since is not None else now
                    if now - idle_since >= self.linger_seconds:
                        self._thread = None
                        return
                    self._cond.wait(self.linger_seconds - (now - idle_since))
                    continue
                idle_since = None
                at, _, guard = self._heap[0]
                if at > now:
                    self._cond.wait(at - now)
                    continue
                heapq.heappop(self._heap)
            if guard.fire():  # outside the condition: arm() and disarm() never wait on it
                with self._cond:
                    self._armed -= 1
                    self.fired += 1


def abandon_connection(conn: Any, *, cancel_timeout_seconds: float = 2.0) -> None:
    """Give up on a psycopg connection now: shut its socket, cancel its query meanwhile.

    Safe to call from another thread while the owner is blocked in the driver (psycopg's
    own cancel is made for that). The socket is shut down, not closed: the descriptor stays
    the driver's, which sees end-of-file, marks the connection bad and raises; closing it
    is left to the owner, who invalidates the connection.
    """
    if not isinstance(conn, psycopg.Connection) or conn.closed:
        return
    pgconn = conn.pgconn
    cancel: pq.abc.PGcancelConn | None = None
    with contextlib.suppress(psycopg.Error):  # libpq < 17, or no backend key yet
        cancel = pgconn.cancel_conn()
    with contextlib.suppress(psycopg.Error, OSError):
        sock = socket.socket(fileno=os.dup(pgconn.socket))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()
    if cancel is not None:
        threading.Thread(
            target=_send_cancel,
            args=(cancel, cancel_timeout_seconds),
            name="rms-db-cancel",
            daemon=True,
        ).start()


def _send_cancel(cancel: pq.abc.PGcancelConn, timeout: float) -> None:
    """Drive a non-blocking cancel request to its end or to ``timeout``; never raises.

    A server that vanished never answers, so the request is bounded; a server that is only
    slow gets the cancel and stops the query (the backstop is its ``statement_timeout``).
    """
    deadline = time.monotonic() + timeout
    try:
        cancel.start()
        while True:
            status = cancel.poll()
            if status in (pq.PollingStatus.OK, pq.PollingStatus.FAILED):
                return
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return
            fd = cancel.socket
            if status == pq.PollingStatus.READING:
                select.select([fd], [], [], remaining)
            else:
                select.select([], [fd], [], remaining)
    except (psycopg.Error, OSError, ValueError):
        return
    finally:
        cancel.finish()
