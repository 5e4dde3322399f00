"""The one exception hierarchy of the package.

Every error a user can meet is an :class:`RmsError`. Subclasses carry the data that says
*what* was wrong and *where* (table, row id, column, value, or field and reason) as
attributes, so the CLI and the HTTP layer can render them without parsing messages.
Driver exceptions are translated into these in exactly one place (:mod:`rms.db.errors`),
always keeping the original as ``__cause__``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "AuthenticationError",
    "AwsError",
    "ConfigError",
    "ConflictError",
    "DatabaseAuthError",
    "DatabaseError",
    "DatabaseUnavailableError",
    "InUseError",
    "IntegrityViolationError",
    "InvalidInputError",
    "MigrationError",
    "NotFoundError",
    "ReferenceViolationError",
    "RmsError",
    "SchemaMigrationError",
    "StaleVersionError",
    "TransferError",
    "UniqueViolationError",
]


class RmsError(Exception):
    """Base of every error raised on purpose by this package."""

    #: A short, stable, human title for the kind of problem (used as the RFC 9457 title).
    title: str = "RMS error"
    #: Items the message introduces (problems, differences), one a line: the CLI prints
    #: them under its ``error:`` line, each on its own, instead of joining them into it.
    lines: tuple[str, ...] = ()

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details: dict[str, Any] = details

    def __str__(self) -> str:
        return self.message


class ConfigError(RmsError):
    """Configuration is missing, conflicting or invalid (names the variables involved)."""

    title = "Invalid configuration"


class DatabaseMissingError(ConfigError):
    """A configured SQLite database file does not exist (a typo is not a new database)."""

    title = "No such database"


class AwsError(RmsError):
    """An AWS call failed; ``kind`` says how, so callers can pick their own error.

    Raised only by :mod:`rms.aws`, the one place botocore errors are translated. ``kind`` is
    one of ``denied``, ``throttled``, ``not_found``, ``no_credentials``, ``no_region``,
    ``unreachable``, ``unavailable`` or ``failed``; ``transient`` is true for the kinds worth
    retrying later (throttling, AWS unavailable or unreachable).
    """

    title = "AWS request failed"

    def __init__(
        self,
        message: str,
        *,
        kind: str,
        code: str | None = None,
        transient: bool = False,
        **details: Any,
    ) -> None:
        super().__init__(message, **details)
        self.kind = kind
        self.code = code
        self.transient = transient


class AuthenticationError(RmsError):
    """A credential was missing or refused (HTTP 401).

    ``message`` is the reason, for the log only: a refused request is told that sign-in is
    required and nothing about which check failed.
    """

    title = "Sign-in required"


class InvalidInputError(RmsError):
    """A value given by the user is invalid; ``field`` names it."""

    title = "Invalid input"


class NotFoundError(RmsError):
    """A row that was asked for does not exist (or is soft-deleted)."""

    title = "Not found"

    def __init__(self, resource: str, row_id: str) -> None:
        super().__init__(f"{resource} {row_id!r} does not exist", field="id", resource=resource)
        self.resource = resource
        self.row_id = row_id


class ConflictError(RmsError):
    """The request conflicts with the current state of the data."""

    title = "Conflict"


class StaleVersionError(ConflictError):
    """An update carried a version that is not the row's current version."""

    title = "Stale version"

    def __init__(self, resource: str, row_id: str, given: int, current: int) -> None:
        super().__init__(
            f"{resource} {row_id!r} is at version {current}, the update was for version {given}",
            field="version",
            resource=resource,
            given=given,
            current=current,
        )


class IntegrityViolationError(ConflictError):
    """A database constraint refused the change."""

    title = "Constraint violation"


class UniqueViolationError(IntegrityViolationError):
    """A unique key already holds the value."""

    title = "Duplicate value"


class ReferenceViolationError(IntegrityViolationError):
    """A foreign key names a row that does not exist, or a referenced row is still in use."""

    title = "Unknown reference"


class InUseError(ConflictError):
    """A row cannot be deleted while live rows depend on it (an account's open trades).

    ``ids`` are the first of the dependent rows (at most :attr:`SHOWN`), ``count`` all of them.
    """

    title = "Still in use"
    SHOWN = 20

    def __init__(
        self, resource: str, row_id: str, dependents: str, ids: list[str], count: int
    ) -> None:
        shown = ", ".join(repr(i) for i in ids[: self.SHOWN])
        more = f" and {count - self.SHOWN} more" if count > self.SHOWN else ""
        super().__init__(
            f"{resource} {row_id!r} still has {count} {dependents}: {shown}{more}; "
            f"close or delete them first",
            field="id",
            resource=resource,
        )
        self.dependents = dependents
        self.ids = ids[: self.SHOWN]
        self.count = count


class DatabaseError(RmsError):
    """The database failed in a way the package did not expect."""

    title = "Database error"


class DatabaseUnavailableError(DatabaseError):
    """The database could not be reached within the budget (cold start, network, restart)."""

    title = "Database unavailable"

    def __init__(self, message: str, *, retry_after_seconds: int = 5, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after_seconds = retry_after_seconds


class DatabaseAuthError(DatabaseError):
    """The database refused the credentials (never retried in a loop)."""

    title = "Database authentication failed"

    def __init__(self, message: str, *, retry_after_seconds: int = 60, **details: Any) -> None:
        super().__init__(message, **details)
        self.retry_after_seconds = retry_after_seconds


class TransferError(RmsError):
    """Rows could not be moved between the two engines (:mod:`rms.transfer`); nothing was
    left half-done. The errors of each direction are its subclasses, side by side:
    :class:`MigrationError` (SQLite into PostgreSQL) and ``rms.export.errors.ExportError``
    (PostgreSQL into SQLite)."""

    title = "Transfer failed"


class MigrationError(TransferError):
    """A data migration could not complete; the target was left as it was."""

    title = "Migration failed"


class SchemaMigrationError(RmsError):
    """A schema revision (Alembic) refused to run or stopped; the database is unchanged."""

    title = "Schema migration refused"
