"""The one place where database driver errors become :mod:`rms.errors` exceptions.

Both dialects are handled: PostgreSQL (psycopg 3, by SQLSTATE and diagnostics) and SQLite
(by the message text, which is all sqlite3 gives). The original exception is always kept
as ``__cause__``. Messages never include bound parameters, so no value a user sent (or a
password) is echoed back from the driver.
"""

from __future__ import annotations

import enum
import re
import sqlite3
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from functools import cache

import psycopg
from sqlalchemy import exc as sa_exc
from sqlalchemy.sql.schema import CheckConstraint, ColumnCollectionConstraint, Index

from rms.errors import (
    DatabaseAuthError,
    DatabaseError,
    DatabaseUnavailableError,
    IntegrityViolationError,
    InvalidInputError,
    ReferenceViolationError,
    RmsError,
    UniqueViolationError,
)

__all__ = [
    "DRIVER_ERRORS",
    "FOREIGN_KEY_VIOLATION",
    "INVALID_TEXT_REPRESENTATION",
    "LOCK_NOT_AVAILABLE",
    "READ_ONLY_SQL_TRANSACTION",
    "SQLITE_ERRORS",
    "Failure",
    "classify",
    "driver_errors",
    "on_sqlstate",
    "sqlstate_of",
    "translate",
    "translate_db_error",
]

#: What callers at a boundary (CLI, unit of work) catch and hand to :func:`translate_db_error`.
DRIVER_ERRORS: tuple[type[BaseException], ...] = (sa_exc.DBAPIError, psycopg.Error)
#: The errors of a bare ``sqlite3`` connection (the SQLite files the tools read and write).
SQLITE_ERRORS: tuple[type[BaseException], ...] = (sqlite3.Error,)

#: SQLSTATEs that callers give their own meaning to (see :func:`on_sqlstate`).
LOCK_NOT_AVAILABLE = "55P03"  # lock_timeout passed (LOCK TABLE ... NOWAIT or a timeout)
FOREIGN_KEY_VIOLATION = "23503"
INVALID_TEXT_REPRESENTATION = "22P02"  # e.g. a string that is not a UUID cast to uuid
#: A write on a server that does not take writes (a reader, a standby in recovery).
READ_ONLY_SQL_TRANSACTION = "25006"

#: Makes the error to raise from the translated one and the driver's original.
Make = Callable[[RmsError, BaseException], BaseException]

_SQLITE_CONSTRAINT = re.compile(r"(UNIQUE|NOT NULL) constraint failed: ([\w.]+(?:, [\w.]+)*)")
_SQLITE_CHECK = re.compile(r"CHECK constraint failed: (\w+)")


@cache
def _constraint_columns() -> dict[str, tuple[str, list[str]]]:
    """Constraint or index name -> (table, columns), from the tables (Prisma's names).

    Unique keys are unique *indexes* (as Prisma creates them), and PostgreSQL reports a
    violation of one under the index's name, so indexes are mapped as well as constraints.
    A CHECK constraint names no columns; ``<table>_<column>_check`` gives its column.
    """
    from rms.schema.core import metadata  # the tables only when a constraint failed

    found: dict[str, tuple[str, list[str]]] = {}
    for table in metadata.tables.values():
        items: list[ColumnCollectionConstraint | Index] = [
            c for c in table.constraints if isinstance(c, ColumnCollectionConstraint)
        ]
        for item in [*items, *table.indexes]:
            if not item.name:
                continue
            columns = [c.name for c in item.columns]
            if columns:
                found[str(item.name)] = (table.name, columns)
            elif isinstance(item, CheckConstraint):
                prefix, suffix = f"{table.name}_", "_check"
                column = str(item.name).removeprefix(prefix).removesuffix(suffix)
                found[str(item.name)] = (table.name, [column] if column in table.c else [])
    return found


def sqlstate_of(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error (psycopg), or None."""
    orig = getattr(exc, "orig", exc)
    code = getattr(orig, "sqlstate", None)
    return code if isinstance(code, str) else None


def translate_db_error(exc: BaseException) -> RmsError:
    """Map a driver error (psycopg or sqlite3, bare or wrapped by SQLAlchemy) to ours."""
    orig = getattr(exc, "orig", None) or exc
    if isinstance(exc, sa_exc.IntegrityError) or isinstance(orig, psycopg.IntegrityError):
        return _integrity(orig)
    code = sqlstate_of(exc)
    if (code is not None and code.startswith("22")) or isinstance(orig, psycopg.DataError):
        return InvalidInputError(f"the database rejected a value: {_first_line(exc)}")
    if isinstance(orig, sqlite3.OperationalError) and "locked" in str(orig):
        return DatabaseUnavailableError("the SQLite database is locked by another writer")
    if code == READ_ONLY_SQL_TRANSACTION:
        return DatabaseUnavailableError(
            "the database server does not accept writes (a reader or a standby; just after a "
            f"failover the name may still lead to the old writer): {_first_line(exc)}"
        )
    kind = classify(exc)
    if kind is Failure.FATAL and code is not None and code.startswith("53"):
        # Insufficient resources (out of memory, disk full, a configured limit): the
        # database's state, not the service's fault; not retried at once (that would add
        # load), but a 503 with Retry-After, not a 500.
        return DatabaseUnavailableError(
            f"the database ran out of resources: {_first_line(exc)}", retry_after_seconds=30
        )
    if kind is Failure.AUTH:
        return DatabaseAuthError(f"the database refused the credentials: {_first_line(exc)}")
    if kind in (Failure.RETRY_CONNECT, Failure.RETRY_TRANSACTION):
        return DatabaseUnavailableError(f"the database is not reachable: {_first_line(exc)}")
    if _unresolved_host(exc):
        return DatabaseUnavailableError(
            "the database's host name does not resolve (check the host in DATABASE_URL, "
            f"DB_HOST or --to): {_first_line(exc)}"
        )
    if kind is Failure.TIMEOUT:
        return DatabaseUnavailableError(
            f"the database stopped the statement, which took too long: {_first_line(exc)}"
        )
    if _tls_misconfigured(exc):
        return DatabaseUnavailableError(
            "the connection to the database failed its TLS checks (see DB_SSLMODE and "
            f"DB_SSLROOTCERT, or the URL's sslmode and sslrootcert): {_first_line(exc)}",
            retry_after_seconds=60,
        )
    return DatabaseError(f"database error: {_first_line(exc)}")


def translate(
    exc: BaseException,
    doing: str | None = None,
    *,
    where: str | None = None,
    into: type[RmsError] | Make | None = None,
    table: str | None = None,
    row_id: object | None = None,
    column: str | None = None,
) -> BaseException:
    """``exc`` (a driver error) as our error, its message naming what failed and where.

    The message is ``"<where>: <doing>: <translated>"`` (the parts given), e.g.
    ``target postgresql://u@h/db: cannot read the ledger: database error: ...``. ``into`` is
    the class of the error raised (the translated error's kind is kept in
    ``details["kind"]``), or a function that makes it from the translated error (its message
    with the context prefixed) and the original; without ``into`` the translated error
    itself, with the context prefixed. ``table``, ``row_id`` and ``column`` go into
    ``details`` (``column`` is the error's ``field`` when the driver named none).
    """
    translated = translate_db_error(exc)
    prefix = ": ".join(part for part in (where, doing) if part)
    message = f"{prefix}: {translated}" if prefix else translated.message
    context = {
        name: value
        for name, value in (("table", table), ("row_id", row_id), ("operation", doing))
        if value is not None
    }
    if isinstance(into, type):
        error: RmsError = into(message, field=translated.field or column)
        error.details.update(context)
        error.details["kind"] = type(translated).__name__
        return error
    translated.message = message
    translated.args = (message,)
    translated.field = translated.field or column
    translated.details.update(context)
    if into is None:
        return translated
    made: BaseException = into(translated, exc)
    return made


@contextmanager
def driver_errors(
    doing: str | None = None,
    *,
    where: str | None = None,
    into: type[RmsError] | Make | None = None,
    table: str | None = None,
    row_id: object | None = None,
    column: str | None = None,
    errors: tuple[type[BaseException], ...] = DRIVER_ERRORS,
) -> Iterator[None]:
    """The one translation point: a driver error raised in the block is raised again as
    :func:`translate` makes it, with the original as ``__cause__``.

    As httpx's ``map_httpcore_exceptions``: ``with driver_errors("cannot read the ledger",
    where=f"target {label}", into=TargetError): ...``. Also a decorator
    (``@driver_errors(...)``). ``errors`` are the exceptions caught: psycopg's and
    SQLAlchemy's (:data:`DRIVER_ERRORS`) unless told otherwise (:data:`SQLITE_ERRORS` for a
    bare sqlite3 connection). Our own errors pass through untouched.
    """
    try:
        yield
    except errors as exc:
        raise translate(
            exc, doing, where=where, into=into, table=table, row_id=row_id, column=column
        ) from exc


@contextmanager
def on_sqlstate(makers: Mapping[str, Make]) -> Iterator[None]:
    """A driver error with one of these SQLSTATEs becomes the error its maker makes (given
    the translated error and the original); any other passes through untouched, to an
    enclosing :func:`driver_errors`.

    ``with on_sqlstate({LOCK_NOT_AVAILABLE: lambda _t, _e: TargetError("in use")}): ...``
    """
    try:
        yield
    except DRIVER_ERRORS as exc:
        make = makers.get(sqlstate_of(exc) or "")
        if make is None:
            raise
        raise make(translate_db_error(exc), exc) from exc


def _integrity(orig: BaseException) -> RmsError:
    code = sqlstate_of(orig)
    if code is not None:
        diag = getattr(orig, "diag", None)
        constraint = getattr(diag, "constraint_name", None)
        table, columns = _constraint_columns().get(constraint or "", ("", []))
        field = columns[0] if columns else getattr(diag, "column_name", None)
        where = f"{table}.{field}" if table and field else (field or "a column")
        if code == "23505":
            return UniqueViolationError(f"{where} must be unique", field=field)
        if code == "23503":
            return ReferenceViolationError(
                f"{where} references a row that does not exist", field=field
            )
        if code == "23502":
            return InvalidInputError(f"{where} must not be null", field=field)
        return IntegrityViolationError(f"constraint {constraint} refused the change", field=field)
    message = str(orig)
    match = _SQLITE_CONSTRAINT.search(message)
    if match:
        where = match.group(2).split(", ")[0]
        field = where.split(".")[-1]
        if match.group(1) == "UNIQUE":
            return UniqueViolationError(f"{where} must be unique", field=field)
        return InvalidInputError(f"{where} must not be null", field=field)
    check = _SQLITE_CHECK.search(message)
    if check:
        table, columns = _constraint_columns().get(check.group(1), ("", []))
        field = columns[0] if columns else None
        where = f"{table}.{field}" if table and field else f"constraint {check.group(1)}"
        return InvalidInputError(f"{where} holds a value it does not allow", field=field)
    if "FOREIGN KEY" in message:
        return ReferenceViolationError("a reference names a row that does not exist")
    return IntegrityViolationError(f"a constraint refused the change: {message}")


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip()
    return text.splitlines()[0] if text else type(orig).__name__


class Failure(enum.Enum):
    """What to do about a failed database operation (see :func:`classify`)."""

    RETRY_CONNECT = "connect"  # the server is unreachable, starting, full or went away
    RETRY_TRANSACTION = "transaction"  # serialization failure or deadlock: run it again
    AUTH = "auth"  # credentials refused: re-read the secret once, never loop
    TIMEOUT = "timeout"  # statement cancelled (statement_timeout, a cancel): report, no retry
    FATAL = "fatal"  # anything else: report it


# 25006: the server does not take writes, so this connection leads to a reader or standby
# (the engine replaces it; see rms.db.engine): a new connection may reach the writer.
_RETRY_CONNECT_CODES = {"57P01", "57P02", "57P03", "53300", "57P05", READ_ONLY_SQL_TRANSACTION}
_RETRY_TRANSACTION_CODES = {"40001", "40P01"}
_AUTH_CODES = {"28P01", "28000"}
#: query_canceled: the server's statement_timeout, or the cancel the watchdog sends when a
#: deadline passes. Running the same statement again would only meet the same limit.
_TIMEOUT_CODES = {"57014"}

# At connect time psycopg has no SQLSTATE, only the server's message (English, the default
# lc_messages), so connect failures are also told apart by these fragments.
_AUTH_TEXT = (
    "password authentication failed",
    "authentication failed",
    "no pg_hba.conf entry",
    "pam authentication failed",
)
_ROLE_MISSING = re.compile(r'role "[^"]*" does not exist')
# Server states that pass: starting up, shutting down, in recovery, not yet accepting
# connections (all start "the database system is"), full, or an admin/crash shutdown.
_TRANSIENT_FATAL_TEXT = (
    "the database system is",
    "too many clients",
    "remaining connection slots are reserved",
    "terminating connection",
)
# The peer went away in the middle of the TLS handshake (a server restarting, resuming or
# failing over resets the connection): libpq reports it as an SSL error, but it is the
# network failing, not TLS set up wrongly, and is retried like any other dropped connection.
_TLS_DROPPED_TEXT = (
    "ssl syscall",  # "SSL SYSCALL error: EOF detected" / "...: Connection reset by peer"
    "unexpected eof",  # OpenSSL 3: "SSL error: unexpected eof while reading"
)
# TLS set up wrongly (CA, host name, certificate files): retrying cannot help.
_TLS_TEXT = (
    "certificate verify failed",
    "does not match host name",
    "root certificate file",
    "certificate file",
    "private key file",
    "ssl error",
    "server does not support ssl",
    "sslmode value",
    "sslrootcert",
)
# No server message at all: the network or the socket failed.
_NETWORK_TEXT = (
    "server closed the connection unexpectedly",
    "connection refused",
    "connection reset",
    "timeout expired",
    "timed out",
    "could not receive data",
    "could not send data",
    "connection to server",
    "consuming input failed",
    "the connection is lost",  # psycopg, on a connection libpq already marked bad
)
# A host name that did not resolve: libpq says "could not translate host name", psycopg
# (which resolves names itself before libpq connects) "failed to resolve host". Only the
# resolver's own temporary failure (EAI_AGAIN) is worth retrying; a name that does not exist
# (a typo, a deleted cluster) stays so, and is reported at once as unreachable, not retried
# for the whole budget.
_UNRESOLVED_TEXT = ("could not translate host name", "failed to resolve host")
_RESOLVER_BUSY_TEXT = "temporary failure in name resolution"


def _says(exc: BaseException, fragments: tuple[str, ...]) -> bool:
    """Whether a psycopg OperationalError (bare or wrapped) has one of ``fragments`` in its
    message (lower case): what a failed connect has instead of a SQLSTATE."""
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).lower() if isinstance(orig, psycopg.OperationalError) else ""
    return any(fragment in text for fragment in fragments)


def _tls_misconfigured(exc: BaseException) -> bool:
    """Whether ``exc`` says TLS is set up wrongly (not that the network dropped it)."""
    return _says(exc, _TLS_TEXT) and not _says(exc, _TLS_DROPPED_TEXT)


def _unresolved_host(exc: BaseException) -> bool:
    """Whether ``exc`` says the database's host name did not resolve."""
    return _says(exc, _UNRESOLVED_TEXT)


def classify(exc: BaseException) -> Failure:
    """The one place that decides whether a database failure is worth retrying.

    By SQLSTATE when the driver has one; otherwise (connection failures) by the error's
    type and the server's message. Unknown FATAL messages are not retried.
    """
    code = sqlstate_of(exc)
    if code is not None:
        if code in _RETRY_TRANSACTION_CODES:
            return Failure.RETRY_TRANSACTION
        if code in _AUTH_CODES:
            return Failure.AUTH
        if code in _TIMEOUT_CODES:
            return Failure.TIMEOUT
        if code.startswith("08") or code in _RETRY_CONNECT_CODES:
            return Failure.RETRY_CONNECT
        return Failure.FATAL
    if getattr(exc, "connection_invalidated", False):
        return Failure.RETRY_CONNECT
    orig = getattr(exc, "orig", None) or exc
    if isinstance(orig, OSError | TimeoutError):
        return Failure.RETRY_CONNECT
    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return Failure.FATAL
    text = str(orig).lower()
    if any(fragment in text for fragment in _AUTH_TEXT) or _ROLE_MISSING.search(text):
        return Failure.AUTH
    if any(fragment in text for fragment in _TLS_DROPPED_TEXT):
        return Failure.RETRY_CONNECT
    if _tls_misconfigured(orig):
        return Failure.FATAL
    if any(fragment in text for fragment in _TRANSIENT_FATAL_TEXT):
        return Failure.RETRY_CONNECT
    if _unresolved_host(orig):
        return Failure.RETRY_CONNECT if _RESOLVER_BUSY_TEXT in text else Failure.FATAL
    if "fatal:" not in text and any(fragment in text for fragment in _NETWORK_TEXT):
        return Failure.RETRY_CONNECT
    if isinstance(orig, psycopg.InterfaceError) and "closed" in text:
        return Failure.RETRY_CONNECT
    return Failure.FATAL
