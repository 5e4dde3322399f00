"""The run's transaction after the copy, and all of ``rms db verify``: the target compared
with the converted source, table by table (counts and checksums:
:mod:`rms.transfer.digest`), references with orphan queries, and for a table that differs
the first differing values (:mod:`rms.transfer.diff`).
"""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Iterator
from itertools import islice
from typing import Any

from sqlalchemy import Connection

from rms.db.pg import PgConnection, PgCursor
from rms.migrate.errors import VerificationError
from rms.migrate.lineage import Lineage
from rms.migrate.report import Difference, MigrationReport
from rms.migrate.scan import TableMapping
from rms.migrate.sqlite import iter_rows
from rms.migrate.target import orphan_counts, raw, target_digest
from rms.transfer.diff import differences
from rms.transfer.digest import TableDigest, python_renderers
from rms.transfer.postgresql import rendered_rows
from rms.transfer.spec import TableSpec, table_specs

__all__ = ["first_differences", "verify_loaded"]

#: Differences listed when a verification fails.
MAX_DIFFERENCES = 10


def verify_loaded(
    cur: PgCursor,
    conn: Connection,
    source: sqlite3.Connection,
    lineage: Lineage,
    report: MigrationReport,
    expected: dict[str, TableDigest],
    bad_rowids: dict[str, set[int]],
    validated: frozenset[tuple[str, str, str, str]] = frozenset(),
) -> None:
    """Counts and checksums of every table against the converted source, and no orphans:
    ``validated`` names the references the run's just-created foreign keys proved sound
    (:func:`rms.migrate.target.validated_references`), which are not queried again."""
    specs = table_specs()
    mismatched: list[TableSpec] = []
    for spec in specs:
        actual = target_digest(cur, spec)
        table_report = report.tables[spec.name]
        table_report.target_rows = actual.count
        table_report.target_checksum = actual.checksum
        table_report.verified = actual == expected[spec.name] and table_report.balanced
        if not table_report.verified:
            mismatched.append(spec)
    report.orphans = orphan_counts(cur, specs, validated)
    orphaned = {k: v for k, v in report.orphans.items() if v}
    if mismatched:
        mapping_by_name = {m.spec.name: m for m in lineage.mappings}
        differences: list[Difference] = []
        for spec in mismatched:
            differences += first_differences(
                raw(conn), source, mapping_by_name[spec.name], bad_rowids[spec.name]
            )
        raise VerificationError(
            "the target does not hold exactly the converted source rows in "
            + ", ".join(s.name for s in mismatched)
            + "; rolled back",
            differences,
        )
    if orphaned:
        raise VerificationError(f"rows whose references do not resolve: {orphaned}; rolled back")


def first_differences(
    pg: PgConnection,
    source: sqlite3.Connection,
    mapping: TableMapping,
    skip_rowids: set[int],
    limit: int = MAX_DIFFERENCES,
) -> list[Difference]:
    """Merge both sides in primary-key byte order and name the first differing values."""
    spec = mapping.spec
    renderers = python_renderers(spec)
    from rms.migrate.convert import BadValue, converter

    converters = [converter(c) for c in spec.columns]
    pk_index = spec.column_names.index(spec.pk)

    def source_rows() -> Iterator[tuple[Any, list[str]]]:
        if mapping.source is None:
            return
        for raw_row in iter_rows(source, mapping.source, mapping.select, order_by_pk=spec.pk):
            if raw_row[0] in skip_rowids:
                continue
            try:
                values = [conv(v) for conv, v in zip(converters, raw_row[1:], strict=True)]
            except BadValue:
                continue
            yield values[pk_index], [r(v) for r, v in zip(renderers, values, strict=True)]

    with pg.cursor(name=f"rms_diff_{uuid.uuid4().hex[:8]}") as named:
        found = differences(spec.column_names, source_rows(), rendered_rows(named, spec))
        return [Difference(spec.name, *d) for d in islice(found, limit)]
