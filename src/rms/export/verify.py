"""Verification of the new file before it is put in place, both sides at once.

Three things run concurrently, because each waits on something else: PostgreSQL computes the
snapshot's checksums in SQL (server work, on the export's connection, in a thread),
``PRAGMA integrity_check`` reads every page of the file (C code that releases the GIL, in a
thread), and this thread reads the file back value by value and digests it
(:mod:`rms.export.check`) and runs ``PRAGMA foreign_key_check``. Then counts and checksums
must be equal table by table; for any table that differs, the two sides are merged in key
order to name the first differing rows.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Any, Generic, TypeVar

from rms.db.pg import PgConnection
from rms.export.check import (
    CACHE_KIB,
    StoredValueError,
    foreign_key_problems,
    integrity_problems,
    sqlite_digest,
    sqlite_rendered_rows,
)
from rms.export.errors import ExportVerificationError
from rms.export.report import ExportReport, Mismatch
from rms.transfer.diff import differences
from rms.transfer.digest import TableDigest
from rms.transfer.postgresql import rendered_rows, table_digest
from rms.transfer.spec import TableSpec
from rms.transfer.sqlite import file_sha256, open_readonly

__all__ = ["verify_file"]

#: Differing values listed when a table does not match.
MAX_MISMATCHES = 10

T = TypeVar("T")


class _Background(Generic[T]):
    """Run a function in a thread; join() returns its result or raises its exception."""

    def __init__(self, work: Callable[[], T], name: str) -> None:
        self._work = work
        self._result: T | None = None
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            self._result = self._work()
        except BaseException as exc:
            self._error = exc

    def join(self, *, quiet: bool = False) -> T:
        """The function's result (or its exception, unless ``quiet``: then None)."""
        self._thread.join()
        if self._error is not None and not quiet:
            raise self._error
        return self._result  # type: ignore[return-value]


@dataclass
class _Sides:
    pg: dict[str, TableDigest] = field(default_factory=dict)
    sqlite: dict[str, TableDigest] = field(default_factory=dict)
    bad_values: list[Mismatch] = field(default_factory=list)


class PgDigests:
    """The server's counts and checksums of the snapshot, computed in a thread on the
    export's connection (the file's indexes are built meanwhile); nothing else may use the
    connection until :meth:`result` or :meth:`abandon` returns."""

    def __init__(self, pg: PgConnection, specs: Sequence[TableSpec]) -> None:
        self._pg = pg

        def work() -> dict[str, TableDigest]:
            with pg.cursor() as cur:
                return {spec.name: table_digest(cur, spec) for spec in specs}

        self._job = _Background(work, "rms-export-pg-digest")
        self._done = False

    @property
    def connection(self) -> PgConnection:
        """The export's connection, free again once :meth:`result` returned."""
        return self._pg

    def result(self) -> dict[str, TableDigest]:
        digests = self._job.join()
        self._done = True
        return digests

    def abandon(self) -> None:
        """Stop the server's work if it is still running (an error elsewhere); idempotent."""
        if self._done:
            return
        self._done = True
        self._pg.cancel_safe()
        self._job.join(quiet=True)


def verify_file(
    path: Path, specs: Sequence[TableSpec], report: ExportReport, digests: PgDigests
) -> None:
    """Raise :class:`ExportVerificationError` unless the file holds exactly the snapshot.

    Uses the export's connection for the mismatches only, after ``digests`` are in.
    """
    integrity_job = _Background(lambda: integrity_problems(path), "rms-export-integrity")
    sha_job = _Background(lambda: file_sha256(path), "rms-export-sha256")
    sides = _Sides()
    try:
        fk_problems = _read_back(path, specs, sides)
    except BaseException:
        digests.abandon()
        for job in (integrity_job, sha_job):
            job.join(quiet=True)
        raise
    integrity = integrity_job.join()
    sides.pg = digests.result()
    report.file_sha256 = sha_job.join()
    report.checks["foreign_key_check"] = fk_problems
    report.checks["integrity_check"] = integrity or "ok"
    mismatches = list(sides.bad_values)
    differing: list[TableSpec] = []
    for spec in specs:
        result = report.tables[spec.name]
        pg_digest_, lite_digest = sides.pg[spec.name], sides.sqlite.get(spec.name)
        result.pg_rows, result.pg_checksum = pg_digest_.count, pg_digest_.checksum
        if lite_digest is not None:
            result.sqlite_rows, result.sqlite_checksum = lite_digest.count, lite_digest.checksum
        result.verified = lite_digest == pg_digest_ and result.rows == pg_digest_.count
        if lite_digest is not None and not result.verified:
            differing.append(spec)
    for spec in differing:
        mismatches += first_mismatches(digests.connection, path, spec)
    report.mismatches = mismatches
    failed = [s.name for s in specs if not report.tables[s.name].verified]
    if failed or fk_problems or integrity:
        reasons = []
        if failed:
            reasons.append("the content of " + ", ".join(failed) + " differs from the snapshot")
        if fk_problems:
            reasons.append(
                f"{len(fk_problems)} rows fail PRAGMA foreign_key_check ({fk_problems[0]})"
            )
        if integrity:
            reasons.append(f"PRAGMA integrity_check: {'; '.join(integrity[:3])}")
        raise ExportVerificationError(
            "the new file does not hold exactly the database's snapshot, so it was deleted: "
            + "; ".join(reasons),
            mismatches,
        )


def _bad_value(table: str, row_id: Any, column: str, value: str, reason: str) -> Mismatch:
    return Mismatch(table, row_id, column, "a value of the column's type", f"{value} ({reason})")


def _read_back(path: Path, specs: Sequence[TableSpec], sides: _Sides) -> list[str]:
    """Digest every table of the file (this thread); returns foreign_key_check's findings."""
    lite = open_readonly(path, cache_kib=CACHE_KIB)
    try:
        fk_problems = foreign_key_problems(lite)
        for spec in specs:
            try:
                sides.sqlite[spec.name] = sqlite_digest(lite, spec)
            except StoredValueError as exc:
                sides.bad_values.append(
                    _bad_value(spec.name, exc.row_id, exc.column, repr(exc.value), exc.reason)
                )
    finally:
        lite.close()
    return fk_problems


def first_mismatches(pg: PgConnection, path: Path, spec: TableSpec) -> list[Mismatch]:
    """Merge both sides in key order and name the first values (or rows) that differ."""
    out: list[Mismatch] = []
    lite = open_readonly(path, cache_kib=CACHE_KIB)
    try:
        with pg.cursor() as cur:
            left = ((str(pk), values) for pk, values in rendered_rows(cur, spec))
            right = sqlite_rendered_rows(lite, spec)
            for found in islice(differences(spec.column_names, left, right), MAX_MISMATCHES):
                out.append(Mismatch(spec.name, *found))
    except StoredValueError:
        pass  # already reported as a bad value
    finally:
        lite.close()
    return out
