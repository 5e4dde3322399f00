"""``rms db seed --remove-demo``: the demo portfolio goes, the owner's rows stay, in words."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from tests.rms_cli import run_rms


def _sql(url: str, statement: str) -> int:
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            result = conn.execute(text(statement))
            return int(result.scalar_one()) if result.returns_rows else 0
    finally:
        engine.dispose()


OWNER_TRADE = (
    'INSERT INTO trades (id, "universeId", "accountId", buy, sell, buy_date, quantity, '
    "\"createdAt\", \"updatedAt\", version) VALUES ('mine', 'demo-pdi', '{account}', 9, 0, "
    "'2025-03-03 00:00:00', 10, '2025-03-03 00:00:00', '2025-03-03 00:00:00', 1)"
)


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_remove_demo_refused_then_kept_then_gone(
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    create_pg_database: Callable[[], str],
) -> None:
    url = f"sqlite:///{tmp_path / 'mine.db'}" if backend == "sqlite" else create_pg_database()
    monkeypatch.setenv("DATABASE_URL", url)
    assert run_rms("db", "upgrade", "--create").exit_code == 0
    seeded = run_rms("db", "seed", "--demo", "--allow-non-embedded", "--last-year", "2026")
    assert seeded.exit_code == 0, seeded.stderr
    groups = _sql(url, "SELECT count(*) FROM risk_group")
    holidays = _sql(url, "SELECT count(*) FROM holidays")
    trades = _sql(url, "SELECT count(*) FROM trades")
    _sql(url, OWNER_TRADE.format(account="demo-account-1"))

    refused = run_rms("db", "seed", "--remove-demo")
    assert refused.exit_code == 2
    assert "demo portfolio not removed" in refused.stderr and "--keep-used" in refused.stderr
    assert "1 of your trades in the demo account Brokerage" in refused.stderr
    assert _sql(url, "SELECT count(*) FROM trades") == trades + 1

    kept = run_rms("db", "seed", "--remove-demo", "--keep-used")
    assert kept.exit_code == 0, kept.stderr
    assert "removed the demo portfolio: dividends and deposits" in kept.stdout
    assert "kept 2 demo accounts and symbols" in kept.stdout
    assert _sql(url, "SELECT count(*) FROM trades") == 1
    assert _sql(url, "SELECT count(*) FROM accounts") == 1
    assert _sql(url, "SELECT count(*) FROM risk_group") == groups
    assert _sql(url, "SELECT count(*) FROM holidays") == holidays

    _sql(url, "DELETE FROM trades")
    last = run_rms("db", "seed", "--remove-demo")
    assert last.exit_code == 0, last.stderr
    assert _sql(url, "SELECT count(*) FROM accounts") == 0
    again = run_rms("db", "seed", "--remove-demo")
    assert "no demo portfolio to remove" in again.stdout


def test_remove_demo_misuse_is_said() -> None:
    both = run_rms("db", "seed", "--remove-demo", "--demo")
    assert both.exit_code == 2 and "cannot be combined" in both.stderr
    alone = run_rms("db", "seed", "--keep-used")
    assert alone.exit_code == 2 and "--keep-used only goes with --remove-demo" in alone.stderr
