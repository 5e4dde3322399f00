"""What an export records: per-table results on both sides, the checks, the problems.

The report is the proof of an export: for every table the row count and content checksum
computed by PostgreSQL (in SQL, over the snapshot) and by Python (over the SQLite file),
the foreign-key and integrity checks, the snapshot it was taken from, and the SHA-256 of the
file that was put in place. It is written whether the export succeeded or failed after it
started, so a failure is on disk in full.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ExportReport", "Mismatch", "TableResult", "ValueProblem"]

_MAX_VALUE_CHARS = 200


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "..."


@dataclass(frozen=True)
class ValueProblem:
    """One value of the database that the SQLite file could not hold exactly."""

    table: str
    row_id: Any
    column: str
    value: Any
    reason: str

    def describe(self) -> str:
        where = f"{self.table} row id {self.row_id!r}"
        return f"{where}: {self.column} = {_short(self.value)}: {self.reason}"


@dataclass(frozen=True)
class Mismatch:
    """A value (or a row, ``column == "*"``) that differs between the snapshot and the file."""

    table: str
    row_id: Any
    column: str
    postgresql: str
    sqlite: str

    def describe(self) -> str:
        return (
            f"{self.table} row id {self.row_id!r} column {self.column}: "
            f"PostgreSQL {_short(self.postgresql)} != SQLite {_short(self.sqlite)}"
        )


@dataclass
class TableResult:
    name: str
    rows: int = 0
    pg_rows: int | None = None
    pg_checksum: str | None = None
    sqlite_rows: int | None = None
    sqlite_checksum: str | None = None
    verified: bool | None = None
    seconds: float = 0.0


@dataclass
class ExportReport:
    run_id: str
    status: str = "started"  # exported | failed
    source: str = ""
    target: str = ""
    temporary_file: str = ""
    replaced_existing: bool = False
    tool_version: str = ""
    schema_revision: str | None = None
    #: The snapshot every row came from: isolation, read-only, pg_current_snapshot(), now().
    snapshot: dict[str, Any] = field(default_factory=dict)
    #: How instants are stored in the file, and why (see docs/export.md).
    datetime_storage: str = ""
    prisma_migrations: dict[str, Any] = field(default_factory=dict)
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    tables: dict[str, TableResult] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[ValueProblem] = field(default_factory=list)
    problems_total: int = 0
    mismatches: list[Mismatch] = field(default_factory=list)
    file_bytes: int | None = None
    file_sha256: str | None = None
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    report_path: str | None = None

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["totals"] = {
            "rows": self.rows,
            "verified": bool(self.tables) and all(t.verified for t in self.tables.values()),
        }
        return data

    def write(self, path: Path) -> None:
        """Write atomically (a reader never sees half a report), readable by the owner only."""
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        tmp.replace(path)
        self.report_path = str(path)
