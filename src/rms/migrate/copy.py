"""The run's transaction, the copy: one table streamed from the backup into binary ``COPY``.

Each row is converted and checked (:mod:`rms.migrate.scan`, by worker processes for big
tables: :mod:`rms.migrate.parallel`); a row with problems is refused, or with
``--on-error quarantine`` set aside whole, with every reason, in the quarantine file
(:class:`QuarantineWriter`, one JSON object per line; ``rms db migrate --from`` that file
loads it once corrected: :mod:`rms.migrate.reload`).
"""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from rms.db.pg import PgCursor, sql
from rms.migrate.fastpath import COPY_HEADER
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import Problem, jsonable
from rms.migrate.scan import ScanContext, TableMapping, scan_table
from rms.transfer.digest import TableDigest

if TYPE_CHECKING:
    from rms.migrate.parallel import ConverterPool
    from rms.migrate.plan import MigrateOptions

__all__ = ["CopyResult", "QuarantineWriter", "copy_table"]

#: Rows per write to the COPY stream (about 0.5 MB for trades): memory stays flat.
COPY_BATCH_ROWS = 4000
#: A write this big (a chunk converted by a worker) goes to the COPY stream at once.
CHUNK_BYTES = 1 << 16


class QuarantineWriter:
    """Writes each set-aside row whole, with every reason, one JSON object per line."""

    def __init__(self, path: Path, run_id: str) -> None:
        self.path = path
        self.run_id = run_id
        self._fh: IO[str] | None = None

    def __call__(self, mapping: TableMapping, raw_row: tuple[Any, ...], problems: list[Problem]):  # type: ignore[no-untyped-def]
        if self._fh is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._fh = self.path.open("w", encoding="utf-8")
        spec = mapping.spec
        row = {
            col.name: jsonable(raw_row[i + 1])
            for i, col in enumerate(spec.columns)
            if col.name not in mapping.defaulted
        }
        record = {
            "run_id": self.run_id,
            "table": spec.name,
            "id": jsonable(raw_row[spec.column_names.index(spec.pk) + 1]),
            "rowid": raw_row[0],
            "problems": [
                {"column": p.column, "value": jsonable(p.value), "reason": p.reason}
                for p in problems
            ],
            "row": row,
        }
        self._fh.write(json.dumps(record, ensure_ascii=False) + "\n")

    def close(self) -> None:
        if self._fh is not None:
            self._fh.close()


@dataclass
class CopyResult:
    read: int
    good: int
    bad: int
    digest: TableDigest
    bad_rowids: set[int]
    seconds: float


def copy_table(
    cur: PgCursor,
    source: sqlite3.Connection,
    mapping: TableMapping,
    ctx: ScanContext,
    quarantine: QuarantineWriter | None,
    observer: MigrationObserver,
    options: MigrateOptions,
    pool: ConverterPool | None = None,
    *,
    freeze: bool = True,
) -> CopyResult:
    """Stream one table into COPY. ``freeze`` (the migration's tables were truncated in
    its transaction) writes frozen rows; a load into a table holding rows cannot."""
    spec = mapping.spec
    started = time.perf_counter()
    total = mapping.source.rows if mapping.source else 0
    observer.table_started(spec.name, total)
    observer.event(f"table-start:{spec.name}")

    def progress(rows: int) -> None:
        observer.table_advanced(spec.name, rows)
        observer.event(f"rows:{spec.name}")

    if mapping.source is None or total == 0:
        result = scan_table(source, mapping, ctx, None, quarantine, progress)
    else:
        statement = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT BINARY{})").format(
            sql.Identifier(spec.name),
            sql.SQL(", ").join(sql.Identifier(c) for c in spec.column_names),
            sql.SQL(", FREEZE" if freeze else ""),
        )
        with cur.copy(statement) as copy:
            buffer: list[bytes] = [COPY_HEADER]
            append = buffer.append

            def write(row: bytes) -> None:
                append(row)
                if len(buffer) >= COPY_BATCH_ROWS or len(row) > CHUNK_BYTES:
                    copy.write(b"".join(buffer))
                    buffer.clear()

            result = scan_table(
                source,
                mapping,
                ctx,
                write,
                quarantine,
                progress,
                pool=pool,
                parallel_min_rows=options.parallel_min_rows,
            )
            copy.write(b"".join(buffer))
    observer.table_finished(spec.name)
    return CopyResult(
        result.read,
        result.good,
        result.bad,
        result.digest,
        result.bad_rowids,
        time.perf_counter() - started,
    )
