"""The unit of work: run a function in one transaction, with errors translated once.

Request handlers and commands never open sessions themselves; they pass a function to
:meth:`Database.run`. That gives one place to begin, commit, roll back, translate driver
errors, and retry whole transactions that are safe to retry: those that failed on a lost
connection, a serialization failure or a deadlock. Writes are made safe to replay by the
repository (client-side ids for creates; updates and deletes recognise their own effect),
so a connection lost during COMMIT, when nobody can know whether it landed, is retried too.

On SQLite, write transactions (``run(..., write=True)``) wait for each other instead of
failing with "database is locked": one at a time per :class:`Database` (a lock held from
BEGIN to COMMIT), each starting with ``BEGIN IMMEDIATE`` so it holds SQLite's write lock
before it reads anything (a deferred transaction that read first and then finds another
writer's newer commit fails at once, whatever ``busy_timeout`` says); ``busy_timeout``
remains the backstop against writers in other processes. Readers never wait (WAL).

Under a deadline (a request's or a command's, :mod:`rms.db.deadline`) retries stop when it
is spent, and an error that surfaces after it passed (the watchdog abandoned the
connection) is reported as the spent budget: 503 with ``Retry-After``, never retried.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy import exc as sa_exc

from rms.db.connect import RetryPolicy
from rms.db.deadline import Deadline, current_deadline, deadline_error
from rms.db.engine import SQLITE_WRITE_OPTION
from rms.db.errors import DRIVER_ERRORS, Failure, classify, translate_db_error
from rms.db.observe import DbObserver
from rms.db.pool import pool_figures
from rms.errors import DatabaseMissingError, DatabaseUnavailableError

if TYPE_CHECKING:  # the ORM is imported with the first unit of work (see Database._sessions)
    from sqlalchemy.orm import Session, sessionmaker

__all__ = ["Database"]

T = TypeVar("T")

MAX_TRANSACTION_ATTEMPTS = 5


class Database:
    """An engine plus the session factory used for every unit of work."""

    def __init__(
        self,
        engine: Engine,
        *,
        bind: Connection | None = None,
        observer: DbObserver | None = None,
        policy: RetryPolicy | None = None,
    ) -> None:
        self.engine = engine
        self.observer = observer or DbObserver()
        self.policy = policy or RetryPolicy()
        self._waiting = 0
        self._waiting_lock = threading.Lock()  # request threads update it concurrently
        self._sqlite_writer = threading.Lock()  # one SQLite write transaction at a time
        self.observer.pool_figures = lambda: pool_figures(engine, self._waiting)
        self._bind = bind
        self._session_factory: sessionmaker[Session] | None = None
        self._session_factory_lock = threading.Lock()

    def _sessions(self) -> Session:
        """A new session. The factory, and with it the ORM, is made on first use: a command
        that only needs the engine (``rms db migrate``) never imports ``sqlalchemy.orm``."""
        factory = self._session_factory
        if factory is None:  # the lock only until the factory is made, not per request
            with self._session_factory_lock:
                factory = self._session_factory or self._make_session_factory()
                self._session_factory = factory
        return factory()

    def _make_session_factory(self) -> sessionmaker[Session]:
        from sqlalchemy.orm import sessionmaker

        if self._bind is None:
            return sessionmaker(self.engine, expire_on_commit=False)
        # Tests bind to an outer connection whose transaction is rolled back afterwards;
        # each unit of work then runs inside a SAVEPOINT of it.
        return sessionmaker(
            bind=self._bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def run(self, work: Callable[[Session], T], *, retry: bool = True, write: bool = False) -> T:
        """Run ``work`` in one transaction; commit if it returns, roll back if it raises.

        ``work`` may run more than once (when ``retry``), so it must not have effects
        outside the session other than ones that are safe to repeat. ``write`` marks a
        transaction that writes: on SQLite it waits for the other writers (see above).
        """
        serialise = write and self.dialect == "sqlite"
        options = {SQLITE_WRITE_OPTION: True} if serialise else None
        ambient = current_deadline()
        deadline = ambient.at if ambient else time.monotonic() + self.policy.budget_seconds
        attempt = 0
        while True:
            attempt += 1
            self._check_deadline(ambient)
            try:
                with (
                    self._writing(serialise, deadline),
                    self._sessions() as session,
                    session.begin(),
                ):
                    self._count_waiting(+1)
                    try:
                        session.connection(execution_options=options)
                    finally:
                        self._count_waiting(-1)
                    result = work(session)
                self.observer.succeeded()
                return result
            except DatabaseMissingError as exc:  # a configured SQLite file is not there
                self.observer.failed("fatal", exc.message)
                raise
            except sa_exc.TimeoutError as exc:  # every pooled connection stayed busy
                self._check_deadline(ambient, "a free pooled connection", exc)
                self.observer.failed("pool", "no free connection in the pool")
                raise DatabaseUnavailableError(
                    "every database connection is busy (pool exhausted); retry shortly",
                    retry_after_seconds=1,
                ) from exc
            except DRIVER_ERRORS as exc:
                self._check_deadline(ambient, None, exc)
                kind = classify(exc)
                retryable = kind in (Failure.RETRY_CONNECT, Failure.RETRY_TRANSACTION)
                pause = self.policy.backoff(attempt)
                if (
                    not retry
                    or not retryable
                    or attempt >= MAX_TRANSACTION_ATTEMPTS
                    or time.monotonic() + pause >= deadline
                ):
                    raise translate_db_error(exc) from exc
                self.observer.retry(f"transaction_{kind.value}")
                self.policy.sleep(pause)

    @contextmanager
    def _writing(self, serialise: bool, deadline: float) -> Iterator[None]:
        """Hold the SQLite write lock for one transaction (nothing when not ``serialise``)."""
        if not serialise:
            yield
            return
        if not self._sqlite_writer.acquire(timeout=max(deadline - time.monotonic(), 0.001)):
            raise DatabaseUnavailableError(
                "another write kept the SQLite database busy for longer than the "
                f"{self.policy.budget_seconds:g} s budget; retry shortly",
                retry_after_seconds=1,
            )
        try:
            yield
        finally:
            self._sqlite_writer.release()

    def _check_deadline(
        self,
        deadline: Deadline | None,
        doing: str | None = None,
        cause: BaseException | None = None,
    ) -> None:
        """Raise the spent-budget error if ``deadline`` has passed."""
        if deadline is not None and deadline.expired():
            error = deadline_error(deadline, doing)
            self.observer.failed("deadline", error.message)
            raise error from cause

    def _count_waiting(self, delta: int) -> None:
        with self._waiting_lock:
            self._waiting += delta

    def dispose(self) -> None:
        self.engine.dispose()
