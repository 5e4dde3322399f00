"""``rms db load-quarantine``: the rows a run set aside, corrected by the owner and loaded
later as a run of their own: verified, in the ledger, listed by ``rms db runs``, removed
alone by ``rms db rollback`` (and a migration with such a load on top is not rolled back
before it). A file that is still wrong is listed like a migration's problems and leaves
the target as it was. Real SQLite files, real PostgreSQL."""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.migrate import MigrateOptions, preflight, rollback, run_migration, verify
from rms.migrate.errors import RollbackRefusedError
from rms.migrate.reload import ReloadOptions, load_quarantine, verify_quarantine
from tests.migrate.conftest import FIXTURES, base_rows, target_state, write_source
from tests.pg import libpq
from tests.rms_cli import run_rms

TABLES = ("accounts", "risk_group", "divDepositType", "universe", "trades", "divDeposits")


def _contents(url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the portfolio tables, as text, in id order."""
    with psycopg.connect(libpq(url)) as conn:
        return {
            t: [r[0] for r in conn.execute(f'SELECT x::text FROM "{t}" x ORDER BY id')]
            for t in TABLES
        }


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def _write(path: Path, records: list[dict[str, Any]]) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return path


def _symbol(row_id: str, symbol: str, group: str) -> dict[str, Any]:
    """A universe line as an owner would add it: only what the symbol needs."""
    return {
        "table": "universe",
        "row": {
            "id": row_id,
            "symbol": symbol,
            "distribution": 0.1,
            "distributions_per_year": 12,
            "last_price": 10.0,
            "risk_group_id": group,
        },
    }


def test_the_dangling_references_fixture_through_quarantine_then_a_corrected_load(
    tmp_path: Path, create_pg_database: Callable[[], str], state_dir: Path
) -> None:
    """The owner's way: migrate with quarantine (only the accounts load), add the missing
    symbols and deposit types to the quarantine file (one of the trades is pointed at
    another symbol instead), load it, verify both runs, see both in the ledger, roll the
    load back to the state after the first run, then the first run to an empty target."""
    source = tmp_path / "dangling.db"
    shutil.copyfile(FIXTURES / "deposits-text-dates-dangling-refs.db", source)
    url = create_pg_database()
    first = run_rms("db", "migrate", "--from", str(source), "--to", url, "--on-error", "quarantine")
    assert first.exit_code == 0, first.stderr
    assert "rms db load-quarantine" in first.stdout
    (report_path,) = (state_dir / "migrate").glob("*/report.json")
    report = json.loads(report_path.read_text())
    quarantined = Path(report["quarantine_file"])
    after_first = _contents(url)
    state_after_first = target_state(url)
    assert len(after_first["accounts"]) == 5 and not after_first["trades"]

    # Correct it: the symbols and deposit types the file lacked, and one trade moved.
    records = _lines(quarantined)
    assert {r["table"] for r in records} == {"trades", "divDeposits"}
    for record in records:
        if record["id"] == "trade-5":
            record["row"]["universeId"] = "universe-1"
    used = sorted({r["row"]["universeId"] for r in records if r["row"].get("universeId")})
    assert len(used) == 4 and "universe-1" in used
    corrected = quarantined.with_name("corrected.jsonl")
    _write(
        corrected,
        [
            {"table": "risk_group", "row": {"id": "rg-cef", "name": "Closed-end funds"}},
            *[_symbol(u, f"SYM{u[-1]}", "rg-cef") for u in used],
            {"table": "divDepositType", "row": {"id": "type-1", "name": "Dividend"}},
            {"table": "divDepositType", "row": {"id": "type-2", "name": "Interest"}},
            *records,
        ],
    )
    loaded = run_rms("db", "load-quarantine", str(corrected), "--to", url)
    assert loaded.exit_code == 0, loaded.stderr
    assert "rows of" in loaded.stdout and "loaded and verified" in loaded.stdout
    counts = {t: len(rows) for t, rows in _contents(url).items()}
    assert counts == {
        "accounts": 5, "risk_group": 1, "divDepositType": 2, "universe": 4, "trades": 5,
        "divDeposits": 5,
    }  # fmt: skip

    # Both runs verify, each against its own file.
    assert run_rms("db", "verify", "--from", str(source), "--to", url).exit_code == 0
    again = run_rms("db", "verify", "--from", str(corrected), "--to", url)
    assert again.exit_code == 0, again.stderr
    assert "source and target agree" in again.stdout

    runs = json.loads(run_rms("db", "runs", "--to", url, "--format", "json").stdout)
    assert [(r["kind"], r["status"]) for r in runs] == [
        ("quarantine-load", "committed"),
        ("migrate", "committed"),
    ]
    load_run, migrate_run = runs
    assert load_run["source_path"] == str(corrected.resolve())
    assert load_run["options"]["loaded_onto"] == [migrate_run["run_id"]]
    assert sum(t["loaded"] for t in load_run["tables"].values()) == 1 + 4 + 2 + 10
    table = run_rms("db", "runs", "--to", url)
    assert "quarantine-load" in table.stdout

    # The migration is not rolled back under the load that depends on it.
    refused = run_rms("db", "rollback", migrate_run["run_id"], "--to", url, "--yes")
    assert refused.exit_code == 2
    assert load_run["run_id"] in refused.stderr and "roll those back first" in refused.stderr
    assert counts == {t: len(rows) for t, rows in _contents(url).items()}

    back = run_rms("db", "rollback", load_run["run_id"], "--to", url, "--yes")
    assert back.exit_code == 0, back.stderr
    assert _contents(url) == after_first
    state = target_state(url)
    assert {k: v for k, v in state["counts"].items() if k.startswith("public.")} == {
        k: v for k, v in state_after_first["counts"].items() if k.startswith("public.")
    }
    assert (state["indexes"], state["constraints"]) == (
        state_after_first["indexes"],
        state_after_first["constraints"],
    )
    assert run_rms("db", "verify", "--from", str(source), "--to", url).exit_code == 0
    assert run_rms("db", "rollback", migrate_run["run_id"], "--to", url, "--yes").exit_code == 0
    assert not any(_contents(url).values())


def _dangling(kind: str) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Any]]:
    """Rows with one reference of ``kind`` to a row the file lacks, and the line that
    supplies that row."""
    rows = base_rows()
    common = {"createdAt": "2024-02-01T00:00:00Z", "updatedAt": "2024-02-01T00:00:00Z"}
    if kind == "symbol":
        rows["trades"][0]["universeId"] = "u-gone"
        return rows, _symbol("u-gone", "GONE", "rg-1")
    if kind == "account":
        rows["divDeposits"][0]["accountId"] = "acc-gone"
        return rows, {"table": "accounts", "row": {"id": "acc-gone", "name": "IRA", **common}}
    if kind == "deposit type":
        rows["divDeposits"][0]["divDepositTypeId"] = "dt-gone"
        return rows, {"table": "divDepositType", "row": {"id": "dt-gone", "name": "Interest"}}
    rows["universe"][0]["risk_group_id"] = "rg-gone"
    return rows, {"table": "risk_group", "row": {"id": "rg-gone", "name": "Growth"}}


@pytest.mark.parametrize("kind", ["symbol", "account", "deposit type", "risk group"])
def test_a_missing_reference_of_each_kind_loads_once_its_row_is_added(
    kind: str, tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    rows, supplied = _dangling(kind)
    source = write_source(tmp_path / "rms.db", rows)
    url = create_pg_database()
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json", on_error="quarantine")
    first = run_migration(preflight(source, url, options), options)
    assert first.rows_quarantined >= 1
    before = _contents(url)
    corrected = _write(
        tmp_path / "corrected.jsonl", [supplied, *_lines(Path(first.quarantine_file or ""))]
    )
    report = load_quarantine(
        corrected, url, ReloadOptions(report_path=tmp_path / "load" / "report.json")
    )
    assert report.status == "committed"
    assert report.rows_loaded == first.rows_quarantined + 1
    assert all(t.verified for t in report.tables.values())
    assert {t: len(r) for t, r in _contents(url).items()} == {
        t: len(rows[t]) + (t == supplied["table"]) for t in TABLES
    }
    assert verify(source, url).status == "verified"
    assert verify_quarantine(corrected, url).status == "verified"
    with pytest.raises(RollbackRefusedError):
        rollback(url, first.run_id, yes=True)
    result = rollback(url, report.run_id, yes=True)
    assert sum(result.deleted.values()) == report.rows_loaded
    assert _contents(url) == before


def test_a_corrected_file_still_wrong_is_listed_and_changes_nothing(
    tmp_path: Path, create_pg_database: Callable[[], str], state_dir: Path
) -> None:
    """Every problem of the file (a reference still dangling, a value that does not
    convert, an id the target holds, an unknown column, a line that is not JSON) is listed
    with table, row id, column, value, reason and line; the target is left as it was."""
    rows, _supplied = _dangling("symbol")
    rows["divDeposits"][0]["accountId"] = "acc-gone"
    source = write_source(tmp_path / "rms.db", rows)
    url = create_pg_database()
    migrated = run_rms(
        "db", "migrate", "--from", str(source), "--to", url, "--on-error", "quarantine"
    )
    assert migrated.exit_code == 0, migrated.stderr
    (report_path,) = (state_dir / "migrate").glob("*/report.json")
    records = _lines(Path(json.loads(report_path.read_text())["quarantine_file"]))
    assert {r["id"] for r in records} == {"t-0", "d-1"}
    (t0,) = [r for r in records if r["id"] == "t-0"]
    dated = {**t0, "id": "t-new", "row": {**t0["row"], "id": "t-new", "universeId": "u-1"}}
    dated["row"]["buy_date"] = "yesterday"  # a date that does not convert
    before = target_state(url), _contents(url)
    wrong = _write(
        tmp_path / "still-wrong.jsonl",
        [
            *records,  # lines 1-2: d-1 and t-0 still name acc-gone and u-gone
            dated,  # line 3
            {"table": "accounts", "row": {"id": "acc-1", "name": "Again"}},  # held already
            {"table": "accounts", "row": {"id": "acc-9", "name": "X", "colour": "red"}},
        ],
    )
    with wrong.open("a") as fh:
        fh.write("{not json\n")
    result = run_rms("db", "load-quarantine", str(wrong), "--to", url)
    assert result.exit_code == 2
    first, *listed = result.error_lines
    assert first.startswith(
        f"error: 6 problem(s) in the quarantine file {wrong}, nothing was written: correct"
    )
    assert "full list: " in first
    text = "\n".join(listed)
    assert "trades row id 't-new': buy_date = 'yesterday': " in text
    assert "trades row id 't-0': universeId = 'u-gone': references universe id 'u-gone', " in text
    assert "neither in the target nor in this file" in text
    assert "divDeposits row id 'd-1': accountId = 'acc-gone': references accounts id" in text
    assert "accounts row id 'acc-1': id = 'acc-1': a row with this id is in the target" in text
    assert (
        "accounts rowid 5: colour = 'red': accounts has no such column in the target (line 5)"
        in text
    )
    assert "rowid 6: * = '{not json': not a JSON object" in text
    assert all(len(line) <= 162 for line in listed)
    assert (target_state(url), _contents(url)) == before
    listing = Path(first.split("full list: ", 1)[1])
    assert len(listing.read_text().splitlines()) == 6


def test_a_dry_run_changes_nothing_and_a_missing_file_is_one_line(
    migrated: tuple[str, Any], tmp_path: Path, state_dir: Path
) -> None:
    url, _report = migrated
    before = target_state(url), _contents(url)
    extra = _write(
        tmp_path / "extra.jsonl", [{"table": "accounts", "row": {"id": "acc-2", "name": "IRA"}}]
    )
    dry = run_rms("db", "load-quarantine", str(extra), "--to", url, "--dry-run")
    assert dry.exit_code == 0, dry.stderr
    assert "1 rows of" in dry.stdout and "dry run, nothing committed" in dry.stdout
    assert (target_state(url), _contents(url)) == before
    missing = run_rms("db", "load-quarantine", str(tmp_path / "nope.jsonl"), "--to", url)
    assert missing.exit_code == 2
    assert missing.error_lines == [
        f"error: {tmp_path / 'nope.jsonl'} does not exist or is not a file"
    ]
