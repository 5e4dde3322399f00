"""The unit of work: run a function in one transaction, with errors translated once.

Request handlers and commands never open sessions themselves; they pass a function to
:meth:`Database.run`. That gives one place to begin, commit, roll back, translate driver
errors and (for PostgreSQL) retry whole transactions that are safe to retry.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from rms.db.errors import DRIVER_ERRORS, translate_db_error

__all__ = ["Database"]

T = TypeVar("T")


class Database:
    """An engine plus the session factory used for every unit of work."""

    def __init__(self, engine: Engine, *, bind: Connection | None = None) -> None:
        self.engine = engine
        if bind is None:
            self._sessions = sessionmaker(engine, expire_on_commit=False)
        else:
            # Tests bind to an outer connection whose transaction is rolled back afterwards;
            # each unit of work then runs inside a SAVEPOINT of it.
            self._sessions = sessionmaker(
                bind=bind, expire_on_commit=False, join_transaction_mode="create_savepoint"
            )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def run(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one transaction; commit if it returns, roll back if it raises."""
        try:
            with self._sessions() as session, session.begin():
                return work(session)
        except DRIVER_ERRORS as exc:
            raise translate_db_error(exc) from exc

    def dispose(self) -> None:
        self.engine.dispose()
