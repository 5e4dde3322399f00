"""Errors of ``rms db export``: what can stop an export, with the data behind it.

They are :class:`rms.errors.TransferError` subclasses (an export moves rows the other way
from a migration; the two directions' errors are siblings), so the CLI prints each once and
exits non-zero, and callers can tell the source
(the PostgreSQL database), the target (the SQLite file), the data and the verification apart
without parsing messages. Whatever the error, no file is left at the target path.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from rms.errors import TransferError

if TYPE_CHECKING:
    from rms.export.report import Mismatch, ValueProblem

__all__ = [
    "ExportDataError",
    "ExportError",
    "ExportSourceError",
    "ExportTargetError",
    "ExportVerificationError",
]

#: How many problems or mismatches a message lists before "and N more".
SHOWN = 10


class ExportError(TransferError):
    """An export could not complete; nothing was put at the target path."""

    title = "Export failed"


class ExportSourceError(ExportError):
    """The PostgreSQL database cannot be exported: not PostgreSQL, unreachable, lost, or its
    schema is not the one this version of rms knows."""

    title = "Unusable export source"


class ExportTargetError(ExportError):
    """The SQLite file cannot be written where asked: it exists, its directory is missing or
    not writable, a journal of an earlier file lies next to it, or the disk refused a write."""

    title = "Unusable export target"


def _listed(lines: list[str], total: int) -> str:
    more = total - len(lines)
    if more > 0:
        lines.append(f"... and {more} more (all of them are in the report)")
    return "\n  " + "\n  ".join(lines) if lines else ""


class ExportDataError(ExportError):
    """Values SQLite cannot hold exactly (NaN, -0.0, instants outside the years 1 to 9999,
    JSON numbers a SQLite JSON column would round); ``problems`` names each one."""

    title = "Values that cannot be exported exactly"

    def __init__(self, problems: Sequence[ValueProblem], total: int | None = None) -> None:
        self.problems = list(problems)
        self.total = total if total is not None else len(self.problems)
        lines = [p.describe() for p in self.problems[:SHOWN]]
        super().__init__(
            f"{self.total} value(s) in the database cannot be stored exactly in SQLite; "
            "nothing was written (change them in PostgreSQL, then export again):"
            + _listed(lines, self.total)
        )


class ExportVerificationError(ExportError):
    """The SQLite file does not hold exactly what the snapshot holds; it was deleted."""

    title = "Export verification failed"

    def __init__(self, message: str, mismatches: Sequence[Mismatch] = ()) -> None:
        self.mismatches = list(mismatches)
        lines = [m.describe() for m in self.mismatches[:SHOWN]]
        super().__init__(message + _listed(lines, len(self.mismatches)))
