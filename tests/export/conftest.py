"""Fixtures of the export tests: real PostgreSQL sources with every kind of value, and the
export run as a function or through the real CLI. Nothing is mocked."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg.types.json import Jsonb
from sqlalchemy import create_engine
from sqlalchemy.pool import NullPool

from rms.db import build_database
from rms.export import ExportOptions, ExportReport, export_database
from rms.schema.migrations import upgrade
from rms.settings import load_settings
from tests.export.compare import libpq

Rows = dict[str, list[dict[str, Any]]]


def _t(text: str) -> datetime:
    """A naive UTC instant, what ``timestamp(3)`` holds."""
    return datetime.fromisoformat(text)


def _std(created: str, updated: str | None = None, deleted: str | None = None) -> dict[str, Any]:
    return {
        "createdAt": _t(created),
        "updatedAt": _t(updated or created),
        "deletedAt": _t(deleted) if deleted else None,
        "version": 1,
    }


def edge_rows() -> Rows:
    """Every table, every kind of value, and the values lossy copies get wrong."""
    return {
        "risk_group": [
            {"id": "rg-1", "name": "Equities", **_std("2025-06-23T22:58:01.100")},
            {"id": "rg-2", "name": "Income", **_std("2025-06-23T22:58:01.200")},
        ],
        "accounts": [
            {"id": "acc-1", "name": "Épargne ✓ 💰", **_std("0001-01-01T00:00:00.000")},
            {"id": "acc-2", "name": "a|b'\"c\\n\t", **_std("2024-03-10T06:59:59.999")},
            {"id": "trade-1", "name": "ids like trade-1", **_std("9999-12-31T23:59:59.999")},
        ],
        "divDepositType": [{"id": "dt-1", "name": "Dividend", **_std("2025-07-04T18:21:49.001")}],
        "universe": [
            {
                "id": "u-1", "distribution": 0.1 + 0.2, "distributions_per_year": 12,
                "last_price": 5e-324, "most_recent_sell_date": None,
                "most_recent_sell_price": None, "symbol": "PDI",
                "ex_date": _t("2024-01-15T00:00:00"),
                "risk_group_id": "rg-1", "expired": False, "is_closed_end_fund": True,
                "volatility_long": None, "volatility_short": "0.12",
                "volatility_calculated_at": _t("2026-04-26T14:26:17.123"),
                **_std("2025-06-13T19:27:13.622", "2026-01-05T14:02:11.999"),
            },
            {
                "id": "u-2", "distribution": 1.7976931348623157e308, "distributions_per_year": 4,
                "last_price": float("inf"), "most_recent_sell_date": _t("2025-11-02T06:30:00.5"),
                "most_recent_sell_price": 2.0**60, "symbol": "NEA", "ex_date": None,
                "risk_group_id": "rg-2", "expired": True, "is_closed_end_fund": False,
                "volatility_long": "x" * 5000, "volatility_short": None,
                "volatility_calculated_at": None,
                **_std("2025-06-13T19:27:13.623", deleted="2026-02-01T00:00:00.001"),
            },
        ],
        "trades": [
            {
                "id": f"t-{i}", "universeId": "u-1" if i % 2 else "u-2", "accountId": "acc-1",
                "buy": 10.0 + i / 3, "sell": -(i / 7),
                "buy_date": _t(f"2024-0{1 + i % 9}-15T13:10:07.{i:03d}"),
                "quantity": (2**31 - 1) if i == 3 else -i,
                "sell_date": None if i % 3 else _t("2024-12-31T23:59:59.999"),
                **_std("2024-01-01T00:00:00.000"),
            }
            for i in range(1, 9)
        ],
        "divDeposits": [
            {"id": "d-1", "date": _t("2024-06-14T00:00:00"), "amount": 12.34, "accountId": "acc-1",
             "divDepositTypeId": "dt-1", "universeId": "u-1", **_std("2024-06-14T00:00:00")},
            {"id": "d-2", "date": _t("2024-06-15T00:00:00"), "amount": 1e-300, "accountId": "acc-2",
             "divDepositTypeId": "dt-1", "universeId": None, **_std("2024-06-15T00:00:00")},
        ],
        "holidays": [{"id": "h-1", "date": _t("2024-12-25T00:00:00"), "name": "Christmas",
                      **_std("2024-01-01T00:00:00")}],
        "screener": [
            {"id": "s-1", "symbol": "PDI", "distribution": 0.11, "distributions_per_year": 12,
             "last_price": 19.99, "ex_date": None, "risk_group_id": "rg-2",
             **_std("2025-07-17T23:03:26.000")},
        ],
        "cusip_cache": [
            {"id": "c-1", "cusip": "72201Y101", "symbol": "PDI", "source": "THIRTEENF",
             "resolvedAt": _t("2026-03-06T00:00:00.001"),
             "lastUsedAt": _t("2026-03-07T00:00:00.002"),
             "createdAt": _t("2026-03-06T00:00:00.001"),
             "updatedAt": _t("2026-03-07T00:00:00.002")},
            {"id": "c-2", "cusip": "67066V104", "symbol": "NEA", "source": "YAHOO_FINANCE",
             "resolvedAt": _t("2026-03-19T00:00:00"), "lastUsedAt": _t("2026-03-19T00:00:00"),
             "createdAt": _t("2026-03-19T00:00:00"), "updatedAt": _t("2026-03-19T00:00:00")},
        ],
        "cusip_cache_archive": [
            {"id": "a-1", "cusip": "000000000", "symbol": "OLD", "source": "OPENFIGI",
             "resolvedAt": _t("2026-03-01T00:00:00"), "archivedAt": _t("2026-03-29T18:12:57.000"),
             "reason": None},
        ],
        "cusip_cache_audit": [
            {"id": "au-1", "cusip": "72201Y101", "symbol": "PDI", "action": "create",
             "source": "THIRTEENF", "userId": None, "reason": "import",
             "createdAt": _t("2026-03-06T00:00:00.001")},
        ],
        "settings": [
            {"key": "theme", "value": Jsonb({"mode": "dark", "ratios": [0.1, 2.5e-10, 1e300]}),
             **_std("2024-01-01T00:00:00")},
            {"key": "epoch", "value": Jsonb(1758316433622), **_std("2024-01-01T00:00:00")},
            {"key": "null", "value": Jsonb(None), **_std("2024-01-01T00:00:00")},
            {"key": "text", "value": Jsonb("ünïcode ✓"), **_std("2024-01-01T00:00:00")},
        ],
        "rms_archive": [
            {"id": "ar-1", "origin": "alembic:0002", "table_name": "screener", "row_id": "s-1",
             "column_name": "has_volitility", "value": Jsonb(True),
             "archived_at": _t("2026-11-28T10:00:00.000")},
            {"id": "ar-2", "origin": "migrate:run", "table_name": "universe", "row_id": "u-1",
             "column_name": "risk", "value": Jsonb(3),
             "archived_at": _t("2026-11-28T10:00:00.001")},
            {"id": "ar-3", "origin": "migrate:run", "table_name": "status", "row_id": None,
             "column_name": None,
             "value": Jsonb({"accountId": "acc-1", "createdAt": 1758316433622}),
             "archived_at": _t("2026-11-28T10:00:00.002")},
        ],
    }  # fmt: skip


def insert_rows(url: str, rows: Rows) -> None:
    """Plain INSERTs, parents first (the order of ``rows``)."""
    with psycopg.connect(libpq(url)) as conn:
        for table, table_rows in rows.items():
            for row in table_rows:
                cols = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join("%s" for _ in row)
                conn.execute(
                    f'INSERT INTO "{table}" ({cols}) VALUES ({marks})',  # type: ignore[arg-type]
                    list(row.values()),
                )


def upgraded_database(create_pg_database: Callable[[], str], revision: str = "head") -> str:
    url = create_pg_database()
    engine = create_engine(url, poolclass=NullPool)
    try:
        upgrade(engine, revision)
    finally:
        engine.dispose()
    return url


@pytest.fixture
def empty_url(create_pg_database: Callable[[], str]) -> str:
    """A database at the schema head, no rows."""
    return upgraded_database(create_pg_database)


@pytest.fixture
def source_url(empty_url: str) -> str:
    """A database at the schema head holding :func:`edge_rows`."""
    insert_rows(empty_url, edge_rows())
    return empty_url


def export_to(url: str, target: Path, **options: Any) -> ExportReport:
    """``export_database`` with the service's own database construction for ``url``."""
    options.setdefault("report_path", target.with_name(target.name + ".report.json"))
    db = build_database(load_settings(database_url=url))
    try:
        return export_database(db, target, ExportOptions(**options))
    finally:
        db.dispose()


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    """``rms ARGS`` in-process with ``DATABASE_URL`` set to the given URL."""
    from tests.rms_cli import run_rms

    def run(url: str | None, *args: str) -> Any:
        if url is None:
            monkeypatch.delenv("DATABASE_URL", raising=False)
        else:
            monkeypatch.setenv("DATABASE_URL", url)
        return run_rms(*args)

    return run


def leftovers(directory: Path) -> list[str]:
    """Temporary files of exports (and SQLite companions) in ``directory``."""
    return sorted(p.name for p in directory.iterdir() if ".rms-export-" in p.name)


# The application's own Prisma toolchain (tests/prisma), for the tests that read the file
# with the application's client.
from tests.prisma.toolchain import prisma_toolchain  # noqa: E402, F401
