"""Errors of the data migration: every failure a user can meet, with the data behind it.

All are :class:`rms.errors.MigrationError` subclasses, so the CLI prints them once and exits
non-zero, and callers can tell *what* failed (the source, the target, the data, the
verification) without parsing messages.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rms.errors import MigrationError

if TYPE_CHECKING:
    from rms.migrate.report import Difference, Problem

__all__ = [
    "BadDataError",
    "CommitUnknownError",
    "ConcurrentMigrationError",
    "ReplaceNotConfirmedError",
    "ReportNotWrittenError",
    "RollbackNotConfirmedError",
    "RollbackRefusedError",
    "SchemaMismatchError",
    "SourceChangedError",
    "SourceError",
    "TargetError",
    "TargetNotEmptyError",
    "VerificationError",
]

#: How many problems or differences a message lists before saying "and N more": with the
#: first line and the "and N more" line, a screenful (24 lines).
SHOWN = 20
#: The longest a listed problem or difference may be (the full text is in the run's files).
LINE_CHARS = 160


def clip(line: str, width: int = LINE_CHARS) -> str:
    """``line`` cut to ``width`` characters, with an ellipsis where it was cut."""
    return line if len(line) <= width else line[: width - 3] + "..."


class SourceError(MigrationError):
    """The SQLite file cannot be used: missing, empty, not SQLite, corrupt or locked."""

    title = "Unusable source"


class SourceChangedError(SourceError):
    """Another process committed to the source during the run: the copy is not the file any
    more, so the run does not commit (the application is still running)."""

    title = "Source still being written"


class SchemaMismatchError(MigrationError):
    """The source or target schema cannot be mapped (a required column is missing, ...)."""

    title = "Schema mismatch"


class TargetError(MigrationError):
    """The target PostgreSQL database cannot be used (unreachable, refused, wrong schema)."""

    title = "Unusable target"


class TargetNotEmptyError(TargetError):
    """The target already holds rows and ``--replace`` was not given."""

    title = "Target not empty"

    def __init__(self, message: str, counts: dict[str, int]) -> None:
        super().__init__(message, counts=counts)
        self.counts = counts


class ReplaceNotConfirmedError(TargetError):
    """Rows would be replaced but nobody confirmed it (no ``--yes`` and no terminal to ask)."""

    title = "Replace not confirmed"


class ConcurrentMigrationError(TargetError):
    """Another migration or rollback holds the lock on the target database."""

    title = "Migration already running"


class BadDataError(MigrationError):
    """Source rows that cannot be migrated exactly; ``problems`` lists every one found.

    ``message`` is one line saying what to do and where the full list is (``listing``, a
    file in the run's directory, once the run wrote it); ``lines`` are the first
    :data:`SHOWN` problems, one a line (table, row id, column, value, reason), then
    "and N more".
    """

    title = "Bad source data"

    def __init__(
        self,
        problems: Sequence[Problem],
        total: int | None = None,
        listing: Path | None = None,
        *,
        advice: str | None = None,
    ) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        self.listing = listing
        self.advice = advice
        where = f"; full list: {listing}" if listing is not None else ""
        dangling = any(p.reason.startswith("references ") for p in self.problems)
        stand_in = (
            ", or make stand-ins for the rows it references but lacks with --stand-in TABLE"
            if dangling
            else ""
        )
        what = advice or (
            f"{self.total} problem(s) in the source data, nothing was written: correct them in "
            f"the source, or load the good rows with --on-error quarantine{stand_in}"
        )
        super().__init__(what + where)
        shown = [clip(p.describe()) for p in self.problems[:SHOWN]]
        more = self.total - len(shown)
        if more > 0:
            shown.append(f"... and {more} more" + (f" in {listing}" if listing else ""))
        self.lines = tuple(shown)

    def listed_in(self, listing: Path) -> BadDataError:
        """The same error, saying where the full list was written."""
        return BadDataError(self.problems, self.total, listing, advice=self.advice)

    def __str__(self) -> str:
        return "\n  ".join((self.message, *self.lines))


class VerificationError(MigrationError):
    """The target does not hold exactly the converted source rows."""

    title = "Verification failed"

    def __init__(self, message: str, differences: Sequence[Difference] = (), **details: Any):
        self.differences = list(differences)
        super().__init__(message, **details)
        shown = [clip(d.describe()) for d in self.differences[:SHOWN]]
        if len(self.differences) > len(shown):
            shown.append(f"... and {len(self.differences) - len(shown)} more in the report")
        self.lines = tuple(shown)

    def __str__(self) -> str:
        return "\n  ".join((self.message, *self.lines))


class CommitUnknownError(MigrationError):
    """The connection was lost while COMMIT was in flight: the outcome is unknown."""

    title = "Commit outcome unknown"


class ReportNotWrittenError(MigrationError):
    """The run COMMITTED (the data is in the target) but its report file could not be
    written; ``report`` holds it, so the caller can print it instead."""

    title = "Report not written"

    def __init__(self, message: str, report: Any) -> None:
        super().__init__(message)
        self.report = report


class RollbackRefusedError(MigrationError):
    """Rows loaded by the run were changed or removed since; rollback needs ``--force``."""

    title = "Rollback refused"


class RollbackNotConfirmedError(MigrationError):
    """A rollback would delete rows but nobody confirmed it (no ``--yes``, no terminal)."""

    title = "Rollback not confirmed"
