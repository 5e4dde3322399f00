"""Fixtures for the data migration: SQLite sources built on the spot, fresh PostgreSQL targets.

Everything is real: SQLite files written with the application's DDL (from the benchmark
generator) and empty PostgreSQL databases on the suite's cluster. Nothing is mocked.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bench.gen_sqlite import DDL, generate

from tests.pg import libpq

#: The real files of the existing application, copied unchanged from
#: ``../shared/fixtures/prisma-sqlite`` so the suite does not depend on that folder.
FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "prisma-sqlite"

#: Column lists of the application's DDL, for building rows by name.
COLUMNS = {
    "accounts": ["id", "name", "createdAt", "updatedAt", "deletedAt", "version"],
    "risk_group": ["id", "name", "createdAt", "updatedAt", "deletedAt", "version"],
    "divDepositType": ["id", "name", "createdAt", "updatedAt", "deletedAt", "version"],
    "holidays": ["id", "date", "name", "createdAt", "updatedAt", "deletedAt", "version"],
    "universe": [
        "id", "distribution", "distributions_per_year", "last_price", "most_recent_sell_date",
        "most_recent_sell_price", "symbol", "ex_date", "risk_group_id", "expired",
        "is_closed_end_fund", "createdAt", "updatedAt", "deletedAt", "version",
    ],
    "trades": [
        "id", "universeId", "accountId", "buy", "sell", "buy_date", "quantity", "sell_date",
        "createdAt", "updatedAt", "deletedAt", "version",
    ],
    "divDeposits": [
        "id", "date", "amount", "accountId", "divDepositTypeId", "universeId", "createdAt",
        "updatedAt", "deletedAt", "version",
    ],
    "settings": ["key", "value", "createdAt", "updatedAt", "deletedAt", "version"],
}  # fmt: skip

T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z in epoch ms


def base_rows() -> dict[str, list[dict[str, Any]]]:
    """A small, valid portfolio: every table, every kind of value."""
    common = {"createdAt": T0, "updatedAt": T0 + 1, "deletedAt": None, "version": 1}
    return {
        "accounts": [{"id": "acc-1", "name": "Main", **common}],
        "risk_group": [{"id": "rg-1", "name": "Income", **common}],
        "divDepositType": [{"id": "dt-1", "name": "Dividend", **common}],
        "holidays": [{"id": "h-1", "date": "2024-12-25", "name": "Christmas", **common}],
        "universe": [
            {
                "id": "u-1", "distribution": 0.1 + 0.2, "distributions_per_year": 12,
                "last_price": 25.5, "most_recent_sell_date": None,
                "most_recent_sell_price": None, "symbol": "PDI", "ex_date": T0,
                "risk_group_id": "rg-1", "expired": 0, "is_closed_end_fund": 1, **common,
            }
        ],
        "trades": [
            {
                "id": f"t-{i}", "universeId": "u-1", "accountId": "acc-1", "buy": 10.0 + i / 3,
                "sell": 11.0, "buy_date": T0 + i, "quantity": i + 1, "sell_date": None,
                **common,
            }
            for i in range(5)
        ],
        "divDeposits": [
            {
                "id": "d-1", "date": T0, "amount": 12.34, "accountId": "acc-1",
                "divDepositTypeId": "dt-1", "universeId": "u-1", **common,
            }
        ],
        "settings": [{"key": "theme", "value": '{"mode": "dark"}', **common}],
    }  # fmt: skip


def write_source(
    path: Path,
    rows: dict[str, list[dict[str, Any]]] | None = None,
    *,
    ddl: str = DDL,
    extra_sql: Sequence[str] = (),
) -> Path:
    """A SQLite file with the application's DDL holding ``rows`` (table -> dicts)."""
    rows = base_rows() if rows is None else rows
    conn = sqlite3.connect(path)
    conn.executescript(ddl)
    for table, table_rows in rows.items():
        for row in table_rows:
            cols = ", ".join(f'"{c}"' for c in row)
            marks = ", ".join("?" for _ in row)
            conn.execute(f'INSERT INTO "{table}" ({cols}) VALUES ({marks})', list(row.values()))
    for statement in extra_sql:
        conn.execute(statement)
    conn.commit()
    conn.close()
    return path


@pytest.fixture
def source(tmp_path: Path) -> Path:
    return write_source(tmp_path / "rms.db")


@pytest.fixture
def pg_url(create_pg_database: Callable[[], str]) -> str:
    return create_pg_database()


@pytest.fixture(scope="session")
def generated_20k(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("gen") / "rms-20k.db"
    generate(path, trades=20_000, deposits=4_000, universe=300, seed=7)
    return path


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Callable[..., tuple[int, str, str]]:
    """``rms`` in-process: (exit status, stdout, stderr); runs in tmp_path.

    stderr comes back with its lines joined by spaces (warnings, then the one error line).
    """
    from tests.rms_cli import run_rms

    monkeypatch.chdir(tmp_path)

    def run(*args: str) -> tuple[int, str, str]:
        result = run_rms(*args)
        return result.exit_code, result.stdout, " ".join(result.stderr.split())

    return run


def target_state(url: str) -> dict[str, Any]:
    """Everything a migration could change: row counts, the ledger, the schema objects."""
    with psycopg.connect(libpq(url)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT table_schema || '.' || table_name FROM information_schema.tables "
                "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1"
            )
        ]
        counts = {
            t: conn.execute(
                "SELECT count(*) FROM " + ".".join(f'"{p}"' for p in t.split(".", 1))
            ).fetchone()[0]  # type: ignore[index]
            for t in tables
        }
        indexes = sorted(
            r[0]
            for r in conn.execute("SELECT indexname FROM pg_indexes WHERE schemaname = 'public'")
        )
        constraints = sorted(
            r[0]
            for r in conn.execute(
                "SELECT conname FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace "
                "WHERE n.nspname = 'public'"
            )
        )
    return {"counts": counts, "indexes": indexes, "constraints": constraints}


@pytest.fixture
def migrated(pg_url: str, source: Path, tmp_path: Path) -> tuple[str, Any]:
    """A target loaded from ``source`` (the report is the second item)."""
    from rms.migrate import MigrateOptions, preflight, run_migration

    options = MigrateOptions(report_path=tmp_path / "run" / "report.json")
    report = run_migration(preflight(source, pg_url, options), options)
    return pg_url, report
