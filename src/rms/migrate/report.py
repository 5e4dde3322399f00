"""The records a migration produces: problems, differences, per-table results, the report.

Plain dataclasses that turn into JSON; the report is the proof of what happened (rows read
= rows loaded + rows quarantined per table, checksums on both sides, the source checksum
before and after, where every source table and column went), so it is written whether the
run committed, was a dry run or failed after the preflight.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["Difference", "MigrationReport", "Problem", "TableReport", "jsonable"]

_MAX_VALUE_CHARS = 200


def jsonable(value: Any) -> Any:
    """A source value as JSON without losing what it was (bytes and odd floats tagged)."""
    from rms.migrate.convert import BadText

    if isinstance(value, BadText):
        return {"$invalid_utf8_hex": value.raw.hex()}
    if isinstance(value, bytes):
        return {"$blob_hex": value.hex()}
    if isinstance(value, float) and not math.isfinite(value):
        return {"$float": repr(value)}
    return value


def _show(value: Any) -> str:
    text = repr(jsonable(value))
    return text if len(text) <= _MAX_VALUE_CHARS else text[:_MAX_VALUE_CHARS] + "..."


@dataclass
class Problem:
    """One value (or row) that cannot be migrated exactly."""

    table: str
    row_id: Any
    column: str
    value: Any
    reason: str
    rowid: int | None = None

    def describe(self) -> str:
        where = f"row id {self.row_id!r}" if self.row_id is not None else f"rowid {self.rowid}"
        return f"{self.table} {where}: {self.column} = {_show(self.value)}: {self.reason}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "table": self.table,
            "id": jsonable(self.row_id),
            "rowid": self.rowid,
            "column": self.column,
            "value": jsonable(self.value),
            "reason": self.reason,
        }


@dataclass
class Difference:
    """A value that differs between the source (converted) and the target."""

    table: str
    row_id: Any
    column: str
    source: str
    target: str

    def describe(self) -> str:
        return (
            f"{self.table} id {self.row_id!r} column {self.column}: "
            f"source {self.source} != target {self.target}"
        )


@dataclass
class TableReport:
    name: str
    present_in_source: bool = True
    read: int = 0
    loaded: int = 0
    quarantined: int = 0
    source_checksum: str | None = None
    target_rows: int | None = None
    target_checksum: str | None = None
    verified: bool | None = None
    replaced_rows: int = 0
    #: Target columns the source lacks: the default each got, the value given with
    #: ``--fill``, or how it was derived (e.g. risk_group_id from the init-era risk_group).
    defaulted_columns: dict[str, Any] = field(default_factory=dict)
    filled_columns: dict[str, Any] = field(default_factory=dict)
    derived_columns: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def balanced(self) -> bool:
        """Rows read = rows loaded + rows quarantined."""
        return self.read == self.loaded + self.quarantined


@dataclass
class MigrationReport:
    run_id: str
    status: str = "started"  # committed | dry-run | failed | verified | mismatch
    source: str = ""
    source_sha256_before: str = ""
    source_sha256_after: str = ""
    backup: str | None = None
    backup_sha256: str | None = None
    target: str = ""
    schema_revision: str | None = None
    schema_upgraded: bool = False
    tool_version: str = ""
    on_error: str = "abort"
    dry_run: bool = False
    started_at: str = ""
    finished_at: str = ""
    seconds: float = 0.0
    tables: dict[str, TableReport] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    problems_total: int = 0
    quarantine_file: str | None = None
    differences: list[Difference] = field(default_factory=list)
    orphans: dict[str, int] = field(default_factory=dict)
    timings: dict[str, float] = field(default_factory=dict)
    error: str | None = None
    report_path: str | None = None
    #: Where each source table and column went, what was archived, left behind, defaulted,
    #: filled or derived, and the history point (see rms.migrate.lineage); in the ledger too.
    accounting: dict[str, Any] = field(default_factory=dict)
    #: The decisions the run was given (--leave-behind, --map-risk-group, --fill) and its
    #: start instant; ``verify`` reads them back from the ledger.
    options: dict[str, Any] = field(default_factory=dict)
    #: Facts worth knowing that need no action (e.g. columns given their default).
    notes: list[str] = field(default_factory=list)
    #: verify: source tables or columns nothing accounts for (``table`` or ``table.column``).
    unaccounted: dict[str, int] = field(default_factory=dict)
    #: verify: the run compared against.
    compared_run: str | None = None

    @property
    def rows_read(self) -> int:
        return sum(t.read for t in self.tables.values())

    @property
    def rows_loaded(self) -> int:
        return sum(t.loaded for t in self.tables.values())

    @property
    def rows_quarantined(self) -> int:
        return sum(t.quarantined for t in self.tables.values())

    @property
    def values_archived(self) -> int:
        return sum(int(n) for n in self.accounting.get("archived", {}).values())

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["tables"] = {
            name: {**asdict(t), "balanced": t.balanced} for name, t in self.tables.items()
        }
        data["problems"] = [p.to_dict() for p in self.problems]
        data["totals"] = {
            "read": self.rows_read,
            "loaded": self.rows_loaded,
            "quarantined": self.rows_quarantined,
            "balanced": all(t.balanced for t in self.tables.values()),
        }
        return data

    def write(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_text(json.dumps(self.to_dict(), indent=2, default=str) + "\n")
        tmp.replace(path)
        self.report_path = str(path)
