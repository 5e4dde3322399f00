"""The application itself on the exported file: its Prisma client (better-sqlite3 adapter)
reads every model and field exactly as it reads them on the PostgreSQL source, its usual
writes work, and the file's schema is the application's own, table by table."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

from sqlalchemy import create_engine

from tests.export.conftest import export_to
from tests.prisma.harness import (
    APP_LATEST_SQLITE,
    MODELS,
    compare,
    format_differences,
    read_all,
    run_app_operations,
    write_portfolio,
)
from tests.prisma.portfolio import sample_portfolio
from tests.prisma.toolchain import Toolchain
from tests.schema.catalog import sqlite_catalog
from tests.schema.prisma_ddl import OUR_COLUMNS, OUR_TABLES


def test_the_application_reads_the_file_as_it_reads_postgresql(
    prisma_toolchain: Toolchain, empty_url: str, tmp_path: Path
) -> None:
    portfolio = sample_portfolio()
    write_portfolio(empty_url, portfolio, toolchain=prisma_toolchain)
    target = tmp_path / "rms.db"
    export_to(empty_url, target)
    on_postgresql = read_all(empty_url, toolchain=prisma_toolchain)
    on_file = read_all(target, toolchain=prisma_toolchain)
    assert set(on_file) == set(MODELS)
    assert sum(len(rows) for rows in on_file.values()) == sum(len(r) for r in portfolio.values())
    diffs = compare(on_postgresql, on_file)
    assert diffs == [], format_differences(diffs)
    diffs = compare(portfolio, on_file)
    assert diffs == [], format_differences(diffs)


def test_the_applications_usual_writes_work_on_the_file(
    prisma_toolchain: Toolchain, empty_url: str, tmp_path: Path
) -> None:
    write_portfolio(empty_url, sample_portfolio(), toolchain=prisma_toolchain)
    target = tmp_path / "rms.db"
    export_to(empty_url, target)
    results = run_app_operations(target, toolchain=prisma_toolchain)
    failed = [r for r in results if not r.ok]
    assert results and failed == [], failed


def test_the_files_schema_is_the_applications(source_url: str, tmp_path: Path) -> None:
    """Every application table with its declared types, NOT NULLs, defaults, keys, indexes and
    foreign keys as the application's own migrations leave them; only our additions (and
    Prisma's migrations table) besides."""
    target = tmp_path / "rms.db"
    export_to(source_url, target)
    app_file = shutil.copy(APP_LATEST_SQLITE, tmp_path / "app.db")
    ours, theirs = create_engine(f"sqlite:///{target}"), create_engine(f"sqlite:///{app_file}")
    try:
        with ours.connect() as a, theirs.connect() as b:
            mine, expected = sqlite_catalog(a), sqlite_catalog(b)
    finally:
        ours.dispose()
        theirs.dispose()
    assert set(mine) - set(expected) == OUR_TABLES | {"_prisma_migrations"}
    for table, column in OUR_COLUMNS:
        del mine[table]["columns"][column]
    for name, table in expected.items():
        assert mine[name] == table, name
    with sqlite3.connect(target) as conn:
        (check,) = conn.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'cusip_cache'"
        ).fetchone()
    assert "CHECK (source IN ('THIRTEENF', 'YAHOO_FINANCE'))" in check
