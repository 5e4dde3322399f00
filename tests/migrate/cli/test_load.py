"""The commands as a user meets them: warnings, dry run, replace, quiet output off a terminal."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import psycopg

from tests.migrate.conftest import base_rows, libpq, target_state, write_source

Cli = Callable[..., tuple[int, str, str]]


def test_dry_run_prints_what_would_happen(source: Path, pg_url: str, run_cli: Cli) -> None:
    before = target_state(pg_url)
    code, out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url, "--dry-run")
    assert code == 0, err
    assert "dry run (rolled back)" in out
    assert "would be loaded" in out
    assert target_state(pg_url) == before


def test_quiet_off_a_terminal_and_summary_printed(source: Path, pg_url: str, run_cli: Cli) -> None:
    code, out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 0, err
    assert "rows/s" not in out and "━" not in out.split("migrated, run")[0]
    assert "divDeposits" in out and "trades" in out and "total" in out
    assert err == ""  # no warnings for a complete, current file


def test_unknown_columns_and_tables_fail_unless_named_to_leave_behind(
    tmp_path: Path, pg_url: str, run_cli: Cli
) -> None:
    source = write_source(
        tmp_path / "extra.db",
        extra_sql=[
            "ALTER TABLE trades ADD COLUMN note TEXT",
            "UPDATE trades SET note = 'kept in the source' WHERE id = 't-1'",
            "CREATE TABLE audit (id TEXT)",
            "INSERT INTO audit VALUES ('a'), ('b')",
        ],
    )
    before = target_state(pg_url)
    code, _out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 2
    assert "no place for (nothing was written)" in err
    assert "table audit: 2 row(s)" in err and "column trades.note: 1 non-NULL value(s)" in err
    assert "--leave-behind audit --leave-behind trades.note" in err
    assert target_state(pg_url) == before
    # Named, they may stay behind: the run goes on and says so, in the report and the ledger.
    report_path = tmp_path / "r" / "report.json"
    code, out, err = run_cli(
        "db", "migrate", "--from", str(source), "--to", pg_url, "--report", str(report_path),
        "--leave-behind", "audit", "--leave-behind", "trades.note",
    )  # fmt: skip
    assert code == 0, err
    left = "audit (2 row(s)), trades.note (1 value(s))"
    assert f"left behind in the SQLite file (--leave-behind): {left}" in out
    report = json.loads(report_path.read_text())
    assert report["accounting"]["left_behind"] == {"audit": 2, "trades.note": 1}
    assert report["options"]["leave_behind"] == ["audit", "trades.note"]
    assert report["accounting"]["source_tables"]["trades"]["columns"]["note"] == "left behind"
    with psycopg.connect(libpq(pg_url)) as conn:
        row = conn.execute(
            "SELECT options -> 'leave_behind', accounting -> 'left_behind' FROM rms_migrate.runs"
        ).fetchone()
    assert row == (["audit", "trades.note"], {"audit": 2, "trades.note": 1})


def test_replace_with_yes(tmp_path: Path, pg_url: str, run_cli: Cli) -> None:
    first = write_source(tmp_path / "first.db")
    assert run_cli("db", "migrate", "--from", str(first), "--to", pg_url)[0] == 0
    rows = base_rows()
    rows["trades"] = rows["trades"][:1]
    second = write_source(tmp_path / "second.db", rows)
    code, _out, err = run_cli("db", "migrate", "--from", str(second), "--to", pg_url, "--replace")
    assert code == 2
    assert "refusing to replace 12 rows without --yes (cannot ask: not a terminal)" in err
    code, _out, err = run_cli(
        "db", "migrate", "--from", str(second), "--to", pg_url, "--replace", "--yes"
    )
    assert code == 0, err
    assert target_state(pg_url)["counts"]["public.trades"] == 1


def test_quarantine_file_option_and_report_accounting(
    tmp_path: Path, pg_url: str, run_cli: Cli
) -> None:
    rows = base_rows()
    rows["trades"][2]["accountId"] = "ghost"
    source = write_source(tmp_path / "q.db", rows)
    qfile = tmp_path / "bad-rows.jsonl"
    report_path = tmp_path / "r" / "report.json"
    code, out, err = run_cli(
        "db", "migrate", "--from", str(source), "--to", pg_url, "--on-error", "quarantine",
        "--quarantine-file", str(qfile), "--report", str(report_path),
    )  # fmt: skip
    assert code == 0, err
    assert "1 row(s) quarantined" in out
    (line,) = [json.loads(x) for x in qfile.read_text().splitlines()]
    assert line["id"] == "t-2" and line["problems"][0]["column"] == "accountId"
    report = json.loads(report_path.read_text())
    trades = report["tables"]["trades"]
    assert (trades["read"], trades["loaded"], trades["quarantined"]) == (5, 4, 1)
    assert report["totals"]["balanced"] is True
    assert Path(report["backup"]).exists()


def test_default_files_go_to_the_state_directory(
    source: Path, pg_url: str, run_cli: Cli, tmp_path: Path, state_dir: Path
) -> None:
    """Without --report, the report and the backup land in <state dir>/migrate/<run>/ (0700),
    never in the directory the command was started in."""
    before = set(tmp_path.iterdir())
    code, out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 0, err
    (run_dir,) = (state_dir / "migrate").iterdir()
    report = json.loads((run_dir / "report.json").read_text())
    assert report["run_id"] == run_dir.name
    assert Path(report["backup"]).parent == run_dir
    assert f"report {run_dir / 'report.json'}" in out
    for directory in (state_dir, state_dir / "migrate", run_dir):
        assert directory.stat().st_mode & 0o777 == 0o700, directory
    assert set(tmp_path.iterdir()) == before


def test_workers_takes_a_count_or_auto(source: Path, pg_url: str, run_cli: Cli) -> None:
    before = target_state(pg_url)
    for bad in ("two", "-1", "65", "2.5", "²", ""):
        code, out, err = run_cli(
            "db", "migrate", "--from", str(source), "--to", pg_url, "--workers", bad
        )
        assert code == 2, (bad, out, err)
        assert f"--workers {bad}: expected auto or a whole number from 0 to 64" in err
        assert "Traceback" not in err
    assert target_state(pg_url) == before
    for good in ("AUTO", "0", "2"):
        code, _out, err = run_cli(
            "db", "migrate", "--from", str(source), "--to", pg_url, "--workers", good, "--dry-run"
        )
        assert code == 0, (good, err)


def test_many_problems_are_a_screenful_of_short_lines_and_the_full_list_is_on_disk(
    tmp_path: Path, pg_url: str, state_dir: Path
) -> None:
    """500 bad rows: the first line says what to do and where the list is, then 20 problems
    one a line (table, row id, column, value, reason), then "and 480 more"; every one is in
    the run's problems.txt."""
    from tests.rms_cli import run_rms

    rows = base_rows()
    trade = rows["trades"][0]
    rows["trades"] += [
        {**trade, "id": f"bad-{i:03}", "buy_date": 1_704_067_200.5 + i} for i in range(500)
    ]
    source = write_source(tmp_path / "bad.db", rows)
    result = run_rms("db", "migrate", "--from", str(source), "--to", pg_url, "--dry-run")
    assert result.exit_code == 2
    first, *problems, more = result.error_lines
    listing = next((state_dir / "migrate").glob("*/problems.txt"))
    assert first.startswith("error: 500 problem(s) in the source data, nothing was written: ")
    assert "--on-error quarantine" in first and first.endswith(f"full list: {listing}")
    assert len(problems) == 20
    for number, line in enumerate(problems):
        assert line.startswith(f"  trades row id 'bad-{number:03}': buy_date = "), line
        assert "fraction" in line or "Julian" in line, line
        assert len(line) <= 2 + 160
    assert more == f"  ... and 480 more in {listing}"
    listed = listing.read_text().splitlines()
    assert len(listed) == 500 and listed[0] == problems[0].strip()


def test_a_wrong_local_port_fails_at_once(source: Path, state_dir: Path) -> None:
    """The issue's command: one attempt (nothing resumes on this machine), one error line."""
    from tests.rms_cli import run_rms

    to = "postgresql://nobody@127.0.0.1:1/x"
    result = run_rms("db", "migrate", "--from", str(source), "--to", to)
    assert result.exit_code == 2
    (line,) = result.error_lines
    assert line.startswith(
        "error: target postgresql://nobody@127.0.0.1:1/x: cannot connect: nothing "
        "accepts connections at 127.0.0.1:1/x (Connection refused): check the host and port"
    )
    assert line.endswith("(a refusal by this machine is not waited for; 1 attempt(s))")
    assert list(state_dir.glob("migrate/*")) == []  # no run: it stopped in the preflight
