"""The original application runs on a migrated database: its own Prisma client says so.

A realistic portfolio is written into SQLite through the application's client (its default
ISO text, and its ``unixepoch-ms`` option), migrated with ``rms db migrate``, then every model
and field is read back through the application's PostgreSQL client and compared with what
the same client read from the SQLite file: 0 differences. Its usual writes (create a trade,
update a universe row, delete a symbol that has deposits, CUSIP cache rows of both enum
values) run in rolled-back transactions: none fails. All of it again with the database's
TimeZone set to America/New_York (the migration's own session included).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from rms.migrate import MigrateOptions, preflight, run_migration, verify
from tests.prisma.harness import (
    TimestampFormat,
    compare,
    format_differences,
    read_all,
    run_app_operations,
    set_database_timezone,
    write_sqlite,
)
from tests.prisma.portfolio import sample_portfolio
from tests.prisma.toolchain import Toolchain, prisma_toolchain

__all__ = ["prisma_toolchain"]


@pytest.mark.parametrize("zone", ["UTC", "America/New_York"])
@pytest.mark.parametrize("timestamp_format", [None, "unixepoch-ms"], ids=["iso", "epoch-ms"])
def test_the_application_reads_and_writes_the_migrated_database(
    timestamp_format: TimestampFormat | None,
    zone: str,
    prisma_toolchain: Toolchain,
    create_pg_database: Callable[[], str],
    tmp_path: Path,
) -> None:
    tool = prisma_toolchain
    source = tmp_path / "app.db"
    written = write_sqlite(source, sample_portfolio(), timestamp_format, toolchain=tool)
    in_sqlite = read_all(source, timestamp_format, toolchain=tool)
    assert compare(sample_portfolio(), in_sqlite) == []  # the client wrote what it was given
    url = create_pg_database()
    set_database_timezone(url, zone)
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json")
    report = run_migration(preflight(source, url, options), options)
    assert report.status == "committed"
    assert verify(source, url).status == "verified"
    in_postgres = read_all(url, toolchain=tool)
    differences = compare(in_sqlite, in_postgres)
    assert not differences, format_differences(differences)
    operations = run_app_operations(url, toolchain=tool)
    failed = [op for op in operations if not op.ok]
    assert operations and not failed, [(op.name, op.error) for op in failed]
    fields = sum(len(row) for rows in in_postgres.values() for row in rows)
    _record(
        {
            "format": timestamp_format or "iso (default)",
            "zone": zone,
            "models": len(in_postgres),
            "rows_written": sum(written.values()),
            "rows_read_back": sum(len(rows) for rows in in_postgres.values()),
            "fields_compared": fields,
            "differences": len(differences),
            "operations": {op.name: op.ok for op in operations},
        }
    )


def _record(figures: dict[str, Any]) -> None:
    """Append the figures to ``$RMS_PRISMA_FIGURES`` (JSON lines) when it is set."""
    where = os.environ.get("RMS_PRISMA_FIGURES")
    if where:
        with open(where, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(figures) + "\n")
