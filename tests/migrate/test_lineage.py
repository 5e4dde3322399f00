"""Stand-ins (``--stand-in TABLE``): rows made up, on request, for ids the source references
but does not hold, named so the owner finds them, listed in the report, recorded in the
ledger; such a run verifies, is listed by ``rms db runs`` and rolls back cleanly."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.migrate import MigrateOptions, preflight, rollback, run_migration, verify
from rms.migrate.lineage import ArchiveItem, RunIdentity, StandIn, archive_rows, stand_in_row
from rms.migrate.sqlite import SourceColumn, SourceTable
from rms.transfer.spec import table_specs
from tests.migrate.conftest import FIXTURES, base_rows, libpq, write_source
from tests.rms_cli import run_rms


def _rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq(url)) as conn:
        return list(conn.execute(sql).fetchall())


def _total(url: str) -> int:
    tables = ("accounts", "risk_group", "divDepositType", "universe", "trades", "divDeposits")
    with psycopg.connect(libpq(url)) as conn:
        return sum(
            conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # type: ignore[index]
            for t in tables
        )


def test_the_dangling_references_fixture_comes_over_with_stand_ins(
    tmp_path: Path, create_pg_database: Callable[[], str], state_dir: Path
) -> None:
    """The application's own file whose trades and deposits name symbols and deposit types
    it does not hold: with stand-ins every trade and deposit is loaded and verified; the run
    is listed, and rolls back to an empty target."""
    source = tmp_path / "dangling.db"
    shutil.copyfile(FIXTURES / "deposits-text-dates-dangling-refs.db", source)
    url = create_pg_database()
    args = ("--from", str(source), "--to", url)
    refused = run_rms("db", "migrate", *args)
    assert refused.exit_code == 2 and "--stand-in TABLE" in refused.error_lines[0]

    result = run_rms(
        "db", "migrate", *args, "--stand-in", "universe", "--stand-in", "divDepositType"
    )
    assert result.exit_code == 0, result.stderr
    assert _rows(url, "SELECT count(*) FROM trades") == [(5,)]
    assert _rows(url, 'SELECT count(*) FROM "divDeposits"') == [(5,)]
    assert _rows(url, "SELECT id, symbol FROM universe ORDER BY id") == [
        (f"universe-{i}", f"STAND-IN universe-{i}") for i in range(1, 6)
    ]
    assert _rows(url, 'SELECT id, name FROM "divDepositType" ORDER BY id') == [
        ("type-1", "stand-in deposit type type-1"),
        ("type-2", "stand-in deposit type type-2"),
    ]
    assert _rows(url, "SELECT name FROM risk_group") == [
        ("stand-in risk group of the stand-in symbols",)
    ]
    # Said to the owner, listed in the report, recorded in the ledger.
    assert (
        "stand-in universe id 'universe-1' (symbol 'STAND-IN universe-1'), referenced by "
        "trades.universeId 1"
    ) in result.stdout
    assert "warning: created 5 stand-in universe row(s)" in result.stderr
    reports = [json.loads(p.read_text()) for p in (state_dir / "migrate").glob("*/report.json")]
    (report,) = [r for r in reports if r["status"] == "committed"]
    stand_ins = report["accounting"]["stand_ins"]
    assert {(s["table"], s["id"]) for s in stand_ins} >= {("divDepositType", "type-1")}
    assert len(stand_ins) == 5 + 2 + 1
    assert report["options"]["stand_ins"] == ["universe", "divDepositType"]
    ledger = _rows(url, "SELECT options, accounting FROM rms_migrate.runs")
    ((options, accounting),) = ledger
    assert options["stand_ins"] == ["universe", "divDepositType"]
    assert accounting["stand_ins"] == stand_ins

    checked = run_rms("db", "verify", "--from", str(source), "--to", url)
    assert checked.exit_code == 0, checked.stderr
    assert "source and target agree" in checked.stdout
    runs = run_rms("db", "runs", "--to", url, "--format", "json")
    (run,) = json.loads(runs.stdout)
    assert run["run_id"] == report["run_id"] and run["status"] == "committed"
    loaded = {name: t["loaded"] for name, t in run["tables"].items() if t["loaded"]}
    assert loaded == {
        "accounts": 5, "trades": 5, "divDeposits": 5, "universe": 5, "divDepositType": 2,
        "risk_group": 1,
    }  # fmt: skip
    back = run_rms("db", "rollback", report["run_id"], "--to", url, "--yes")
    assert back.exit_code == 0, back.stderr
    assert _total(url) == 0


def _dangling(kind: str) -> tuple[dict[str, list[dict[str, Any]]], str, str]:
    """Rows whose one reference of ``kind`` names a row the file lacks: (rows, table, id)."""
    rows = base_rows()
    if kind == "universe":
        rows["trades"][0]["universeId"] = "u-gone"
        return rows, "universe", "u-gone"
    if kind == "accounts":
        rows["divDeposits"][0]["accountId"] = "acc-gone"
        return rows, "accounts", "acc-gone"
    if kind == "divDepositType":
        rows["divDeposits"][0]["divDepositTypeId"] = "dt-gone"
        return rows, "divDepositType", "dt-gone"
    rows["universe"][0]["risk_group_id"] = "rg-gone"
    return rows, "risk_group", "rg-gone"


NAMES = {
    "universe": ("symbol", "STAND-IN u-gone"),
    "accounts": ("name", "stand-in account acc-gone"),
    "divDepositType": ("name", "stand-in deposit type dt-gone"),
    "risk_group": ("name", "stand-in risk group rg-gone"),
}


@pytest.mark.parametrize("kind", list(NAMES))
def test_a_missing_reference_of_each_kind_gets_its_stand_in(
    kind: str, tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    rows, table, row_id = _dangling(kind)
    source = write_source(tmp_path / "rms.db", rows)
    url = create_pg_database()
    read = sum(len(r) for r in rows.values())
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json", stand_ins=(table,))
    report = run_migration(preflight(source, url, options), options)
    assert report.status == "committed"
    column, label = NAMES[kind]
    assert _rows(url, f"SELECT {column} FROM \"{table}\" WHERE id = '{row_id}'") == [(label,)]
    extra = 2 if kind == "universe" else 1  # a stand-in symbol brings its risk group
    assert report.rows_loaded == read + extra
    (made, *group) = report.accounting["stand_ins"]
    assert (made["table"], made["id"], made[column]) == (table, row_id, label)
    assert sum(made["referenced_by"].values()) == 1
    assert [g["table"] for g in group] == (["risk_group"] if kind == "universe" else [])
    assert verify(source, url).status == "verified"
    result = rollback(url, report.run_id, yes=True)
    assert sum(result.deleted.values()) == report.rows_loaded


def test_stand_ins_only_where_asked_and_only_for_known_tables(
    tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    rows, _table, _id = _dangling("accounts")
    source = write_source(tmp_path / "rms.db", rows)
    url = create_pg_database()
    bad = run_rms("db", "migrate", "--from", str(source), "--to", url, "--stand-in", "trades")
    assert bad.exit_code == 2
    assert bad.error_lines[0].startswith("error: --stand-in trades: stand-ins can be made for ")
    other = run_rms("db", "migrate", "--from", str(source), "--to", url, "--stand-in", "universe")
    assert other.exit_code == 2  # the missing account is still a problem
    assert "references accounts id 'acc-gone'" in other.stderr
    assert "--stand-in universe: every universe id the source references is in it" in (other.stderr)


def test_the_rows_a_run_makes_are_computed_from_the_decisions_alone() -> None:
    """Stand-in values and archive rows need no database: the same inputs, the same rows."""
    run = RunIdentity("run-1", 1_704_067_200_000)
    universe = next(s for s in table_specs() if s.name == "universe")
    row = dict(
        zip(
            universe.column_names,
            stand_in_row(universe, StandIn("universe", "u-gone", "STAND-IN u-gone", {}), "g", run),
            strict=True,
        )
    )
    assert (row["id"], row["symbol"], row["risk_group_id"]) == ("u-gone", "STAND-IN u-gone", "g")
    assert row["createdAt"] == run.run_start_ms
    assert row["last_price"] == 0.0
    table = SourceTable(
        "universe",
        [SourceColumn("id", "TEXT", False), SourceColumn("risk_group", "INTEGER", False)],
        2,
    )
    item = ArchiveItem("universe", "risk_group", 2, "dropped")
    rows = [(item, table, ("u-1", 2)), (item, table, ("u-1", 2))]
    made = list(archive_rows(rows, run))
    assert made == list(archive_rows(rows, run))
    assert [m[1:] for m in made] == [
        ("migrate:run-1", "universe", "u-1", "risk_group", "2", run.run_start_ms)
    ] * 2
    assert made[0][0] != made[1][0]  # the same row twice: two ids
