"""Deadlines: how long one request (or one CLI command) may spend on the database.

A database that vanishes without a word (a Multi-AZ failover, a cut-off availability zone,
a middlebox that forgot the connection) leaves a client waiting for an answer that never
comes: the server-side ``statement_timeout`` cannot help, because the server never sees
the query. So every unit of work the service does for a request runs under a
:class:`Deadline`, taken when the request arrived, and everything it waits for is bounded
by what is left of it: a worker thread, a pooled connection, connect attempts and their
backoff, the check of a pooled connection, every statement and the COMMIT, and retries.
When it is spent, the connection in use is abandoned (see :mod:`rms.db.watchdog`), and the
caller gets :class:`~rms.errors.DatabaseUnavailableError` with a ``Retry-After``.

The deadline travels in a :class:`contextvars.ContextVar`, which asyncio tasks and anyio's
worker threads inherit, so the HTTP layer sets it once per request
(:mod:`rms.http.deadline`) and the CLI once per command (:func:`within_budget`), and the
database layer reads it wherever it waits, without a parameter threaded through every
repository function. Work outside any deadline (a library caller, a long data migration)
keeps the old bounds: the cold-start budget for connecting, keepalives and
``tcp_user_timeout`` for a dead peer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rms.db.errors import DRIVER_ERRORS
from rms.errors import DatabaseUnavailableError

if TYPE_CHECKING:
    from rms.settings import Settings

__all__ = [
    "Deadline",
    "command_budget",
    "current_deadline",
    "deadline_error",
    "deadline_scope",
    "retry_after_for",
    "within_budget",
]


@dataclass
class Deadline:
    """A point on the monotonic clock by which the work must be answered.

    ``what`` names the budget in messages (``DB_REQUEST_BUDGET_SECONDS``); ``expired_in``
    records what was waited for when it ran out (set by whoever noticed), so the error can
    say so. Mutable on purpose: the copy a worker thread inherits is the same object.
    """

    at: float
    budget_seconds: float
    what: str = "the request's budget"
    retry_after_seconds: int = 5
    expired_in: str | None = field(default=None, compare=False)

    @classmethod
    def after(
        cls, seconds: float, *, what: str = "the request's budget", retry_after_seconds: int = 5
    ) -> Deadline:
        return cls(time.monotonic() + seconds, seconds, what, retry_after_seconds)

    def remaining(self) -> float:
        """Seconds left (negative once it has passed)."""
        return self.at - time.monotonic()

    def expired(self) -> bool:
        return time.monotonic() >= self.at


_current: ContextVar[Deadline | None] = ContextVar("rms_db_deadline", default=None)


def current_deadline() -> Deadline | None:
    """The deadline of the request or command this code runs for, if any."""
    return _current.get()


@contextmanager
def deadline_scope(deadline: Deadline) -> Iterator[Deadline]:
    """Run the block under ``deadline``; an enclosing, earlier deadline still wins."""
    outer = _current.get()
    effective = outer if outer is not None and outer.at <= deadline.at else deadline
    token = _current.set(effective)
    try:
        yield effective
    finally:
        _current.reset(token)


def deadline_error(deadline: Deadline, doing: str | None = None) -> DatabaseUnavailableError:
    """The error for a spent budget: what was pending, the budget, when to come back."""
    pending = doing or deadline.expired_in or "the database"
    return DatabaseUnavailableError(
        f"no answer from the database within {deadline.what} of "
        f"{deadline.budget_seconds:g} s (waiting for {pending}); the connection was "
        "abandoned, retry shortly",
        retry_after_seconds=deadline.retry_after_seconds,
        budget_seconds=deadline.budget_seconds,
    )


@contextmanager
def within_budget(seconds: float, *, what: str, retry_after_seconds: int = 5) -> Iterator[Deadline]:
    """Run a command's database work under a deadline of ``seconds``.

    A driver error that surfaces after the deadline passed is the abandoned connection
    speaking; it is reported as the spent budget instead, naming ``what``.
    """
    with deadline_scope(
        Deadline.after(seconds, what=what, retry_after_seconds=retry_after_seconds)
    ) as deadline:
        try:
            yield deadline
        except DRIVER_ERRORS as exc:
            if deadline.expired():
                raise deadline_error(deadline) from exc
            raise


def retry_after_for(settings: Settings) -> int:
    """The ``Retry-After`` of a spent budget: two of the longest backoffs, at least 1 s."""
    return max(1, round(settings.db_retry_max_backoff_seconds * 2))


def command_budget(settings: Settings) -> AbstractContextManager[Deadline]:
    """The deadline of one CLI command's database work (``DB_COMMAND_BUDGET_SECONDS``)."""
    return within_budget(
        settings.db_command_budget_seconds,
        what="the command budget (DB_COMMAND_BUDGET_SECONDS)",
        retry_after_seconds=retry_after_for(settings),
    )
