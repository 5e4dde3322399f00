"""A corpus of bad inputs: each gives a clear message, a non-zero exit and writes nothing.

Every case runs the real CLI (``rms.cli.main``) against a real SQLite file and a real,
empty PostgreSQL database; the target's tables, rows, indexes and ledger are compared
before and after.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg
import pytest
from bench.gen_sqlite import DDL
from sqlalchemy.engine import make_url

from rms.devtools.pgcluster import free_port
from tests.migrate.conftest import T0, base_rows, libpq, target_state, write_source

LOOSE_DDL = DDL.replace("NOT NULL", "").replace("UNIQUE", "")


@dataclass
class Case:
    """Builds a source (and maybe changes the target URL); says what stderr must name."""

    build: Callable[[Path], Path]
    expect: list[str]
    args: list[str] = field(default_factory=list)
    target: Callable[[str], str] | None = None
    env: dict[str, str] = field(default_factory=dict)


def _rows(**changes: Any) -> dict[str, list[dict[str, Any]]]:
    """Base rows with ``table__column=value`` applied to the first row of the table."""
    rows = base_rows()
    for key, value in changes.items():
        table, column = key.split("__")
        rows[table][0][column] = value
    return rows


def _bad(loose: bool = False, **changes: Any) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        return write_source(tmp / "bad.db", _rows(**changes), ddl=LOOSE_DDL if loose else DDL)

    return build


def _file(content: bytes) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / "file.db"
        path.write_bytes(content)
        return path

    return build


def _corrupt(tmp: Path) -> Path:
    path = write_source(tmp / "corrupt.db")
    data = bytearray(path.read_bytes())
    for offset in range(4096, len(data), 4096):  # every page but the first: garbage
        data[offset + 10 : offset + 200] = os.urandom(190)
    path.write_bytes(bytes(data))
    return path


def _truncated(tmp: Path) -> Path:
    path = write_source(tmp / "truncated.db")
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    return path


def _no_rms_tables(tmp: Path) -> Path:
    path = tmp / "other.db"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")
    conn.commit()
    conn.close()
    return path


def _duplicate_holiday_instant(tmp: Path) -> Path:
    rows = base_rows()
    rows["holidays"].append({**rows["holidays"][0], "id": "h-2", "date": 1_735_084_800_000})
    return write_source(tmp / "dup-holiday.db", rows)


def _duplicate_name(tmp: Path) -> Path:
    rows = base_rows()
    rows["accounts"].append({**rows["accounts"][0], "id": "acc-2"})
    return write_source(tmp / "dup-name.db", rows, ddl=LOOSE_DDL)


def _missing_required_column(tmp: Path) -> Path:
    ddl = DDL.replace('"buy" REAL NOT NULL, ', "")
    rows = base_rows()
    for trade in rows["trades"]:
        del trade["buy"]
    return write_source(tmp / "no-buy.db", rows, ddl=ddl)


def _big_integer_in_float(tmp: Path) -> Path:
    # A REAL column would convert it itself; an older NUMERIC column keeps the integer.
    ddl = DDL.replace('"sell" REAL', '"sell" NUMERIC')
    return write_source(tmp / "big.db", _rows(trades__sell=2**60 + 1), ddl=ddl)


def _invalid_utf8(tmp: Path) -> Path:
    return write_source(
        tmp / "utf8.db",
        extra_sql=["UPDATE accounts SET name = CAST(x'4d61696effe9' AS TEXT) WHERE id = 'acc-1'"],
    )


def _missing_quantity(tmp: Path) -> Path:
    """Trades from before the application's migration 05 (no quantity column)."""
    ddl = DDL.replace('"quantity" INTEGER NOT NULL, ', "")
    rows = base_rows()
    for trade in rows["trades"]:
        del trade["quantity"]
    return write_source(tmp / "no-quantity.db", rows, ddl=ddl)


def _screener_without_risk_group(tmp: Path) -> Path:
    """A screener row from before the application's migrations 14 and 15."""
    path = write_source(tmp / "screener.db")
    conn = sqlite3.connect(path)
    conn.execute("DROP TABLE screener")
    conn.execute(
        'CREATE TABLE screener (id TEXT PRIMARY KEY, symbol TEXT NOT NULL, "createdAt" DATETIME, '
        '"updatedAt" DATETIME, "deletedAt" DATETIME, version INTEGER NOT NULL DEFAULT 1)'
    )
    conn.execute("INSERT INTO screener VALUES ('s-1', 'PDI', ?, ?, NULL, 1)", (T0, T0))
    conn.commit()
    conn.close()
    return path


def _unknown_table(tmp: Path) -> Path:
    return write_source(tmp / "extra.db", extra_sql=["CREATE TABLE audit (id TEXT, what TEXT)"])


def _unknown_enum_value(tmp: Path) -> Path:
    rows = base_rows()
    rows["cusip_cache"] = [
        {"id": "c-1", "cusip": "037833100", "symbol": "AAPL", "source": "BLOOMBERG",
         "resolvedAt": T0, "lastUsedAt": T0, "createdAt": T0, "updatedAt": T0}
    ]  # fmt: skip
    return write_source(tmp / "enum.db", rows)


def _target_with_data(url: str) -> str:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute('CREATE TABLE "accounts" (id text)')
    return url


def _seeded_target(url: str) -> str:
    import tempfile

    from rms.migrate import MigrateOptions, preflight, run_migration

    with tempfile.TemporaryDirectory() as tmp:
        source = write_source(Path(tmp) / "seed.db")
        options = MigrateOptions(report_path=Path(tmp) / "run" / "report.json")
        run_migration(preflight(source, url, options), options)
    return url


def _unreachable(url: str) -> str:
    return make_url(url).set(port=free_port()).render_as_string(hide_password=False)


def _missing_database(url: str) -> str:
    return make_url(url).set(database="no_such_database_here").render_as_string(False)


CASES: dict[str, Case] = {
    "missing file": Case(lambda t: t / "nope.db", ["does not exist"]),
    "empty file": Case(_file(b""), ["is empty"]),
    "not a sqlite file": Case(_file(b"id,name\n1,x\n" * 100), ["not a SQLite database"]),
    "directory": Case(lambda t: t, ["is not a file"]),
    "corrupt file": Case(_corrupt, ["corrupt", "malformed", "not a usable"]),
    "truncated file": Case(_truncated, ["corrupt", "malformed", "not a usable"]),
    "no rms tables": Case(_no_rms_tables, ["none of the RMS tables"]),
    "text in a REAL column": Case(
        _bad(trades__buy="12,50"), ["trades row id 't-0'", "buy", "'12,50'", "number"]
    ),
    "NULL in NOT NULL": Case(
        _bad(loose=True, trades__buy_date=None), ["trades row id 't-0'", "buy_date", "NULL"]
    ),
    "integer beyond int32": Case(
        _bad(trades__quantity=2**31), ["quantity", "2147483648", "32-bit"]
    ),
    "boolean not 0/1": Case(
        _bad(universe__expired=2), ["universe row id 'u-1'", "expired", "0 or 1"]
    ),
    "unparseable date": Case(
        _bad(trades__buy_date="next tuesday"), ["buy_date", "'next tuesday'", "not a date"]
    ),
    "impossible date": Case(
        _bad(trades__sell_date="2024-02-30"), ["sell_date", "not a valid date"]
    ),
    "sub-millisecond date": Case(
        _bad(divDeposits__date="2024-01-15T12:00:00.1234Z"), ["divDeposits", "date", "millisecond"]
    ),
    "REAL with fraction as date": Case(
        _bad(accounts__createdAt=2460311.5), ["createdAt", "2460311.5", "fraction"]
    ),
    "date beyond year 9999": Case(_bad(holidays__date=10**16), ["holidays", "date", "9999"]),
    "NUL in text": Case(_bad(accounts__name="Ma\x00in"), ["accounts row id 'acc-1'", "NUL"]),
    "invalid UTF-8": Case(_invalid_utf8, ["accounts", "name", "UTF-8"]),
    "BLOB in text": Case(_bad(divDepositType__name=b"\x01\x02"), ["divDepositType", "BLOB"]),
    "integer too big for a double": Case(_big_integer_in_float, ["sell", "exact double"]),
    "duplicate unique name": Case(
        _duplicate_name, ["accounts row id 'acc-2'", "name", "duplicate"]
    ),
    "duplicate instant in unique date": Case(
        _duplicate_holiday_instant, ["holidays row id 'h-2'", "date", "same instant"]
    ),
    "dangling reference": Case(
        _bad(divDeposits__universeId="u-404"), ["divDeposits row id 'd-1'", "universeId", "u-404"]
    ),
    "value outside an enum": Case(
        _unknown_enum_value, ["cusip_cache row id 'c-1'", "source", "'BLOOMBERG'", "THIRTEENF"]
    ),
    "invalid JSON": Case(_bad(settings__value="{mode: dark}"), ["settings", "value", "JSON"]),
    "JSON with NaN": Case(_bad(settings__value='{"x": NaN}'), ["settings", "JSON"]),
    "missing required column": Case(
        _missing_required_column,
        ["trades: 5 row(s) have no buy", "no default", "--fill trades.buy"],
    ),
    "unknown table": Case(_unknown_table, ["table audit: 0 row(s)", "--leave-behind audit"]),
    "unknown column": Case(
        lambda t: write_source(t / "extra.db", extra_sql=["ALTER TABLE trades ADD COLUMN x INT"]),
        ["column trades.x: 0 non-NULL value(s)", "--leave-behind trades.x"],
    ),
    "leave-behind of a target column": Case(
        lambda t: write_source(t / "ok.db"),
        ["--leave-behind trades.buy", "column of the target table trades"],
        ["--leave-behind", "trades.buy"],
    ),
    "--fill of a column the source has": Case(
        lambda t: write_source(t / "ok.db"),
        ["--fill trades.quantity", "the source has the column"],
        ["--fill", "trades.quantity=3"],
    ),
    "--fill without a value": Case(
        lambda t: write_source(t / "ok.db"),
        ["--fill trades", "TABLE.COLUMN=VALUE"],
        ["--fill", "trades"],
    ),
    "--fill of the wrong type": Case(
        _missing_quantity,
        ["--fill trades.quantity=many", "not an integer"],
        ["--fill", "trades.quantity=many"],
    ),
    "--fill of an unknown risk group": Case(
        _screener_without_risk_group,
        ["--fill screener.risk_group_id=Nope", "no risk group with that id or name"],
        [
            "--fill",
            "screener.risk_group_id=Nope",
            "--fill",
            "screener.distribution=0",
            "--fill",
            "screener.distributions_per_year=12",
            "--fill",
            "screener.last_price=1",
        ],
    ),
    "non-empty target": Case(
        lambda t: write_source(t / "ok.db"), ["not empty", "--replace"], target=_seeded_target
    ),
    "--replace without --yes, no terminal": Case(
        lambda t: write_source(t / "ok.db"),
        ["--yes", "not a terminal"],
        ["--replace"],
        _seeded_target,
    ),
    "foreign tables in target": Case(
        lambda t: write_source(t / "ok.db"), ["no Alembic revision"], target=_target_with_data
    ),
    "unreachable host": Case(  # on this machine: said at once, not waited for
        lambda t: write_source(t / "ok.db"),
        ["cannot connect", "nothing accepts connections at", "Connection refused"],
        target=_unreachable,
    ),
    "missing database": Case(
        lambda t: write_source(t / "ok.db"), ["no_such_database_here"], target=_missing_database
    ),
    "not a postgres url": Case(
        lambda t: write_source(t / "ok.db"),
        ["must be a PostgreSQL URL"],
        target=lambda u: "sqlite:///x.db",
    ),
    "not a url": Case(
        lambda t: write_source(t / "ok.db"),
        ["--to must start with"],
        target=lambda u: "::nonsense::",
    ),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(
    name: str,
    pg_url: str,
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str, str]],
    state_dir: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    case = CASES[name]
    for variable, value in case.env.items():
        monkeypatch.setenv(variable, value)
    work = tmp_path / "in"
    work.mkdir()
    source = case.build(work)
    target = case.target(pg_url) if case.target else pg_url
    before = target_state(pg_url)
    sha = _sha(source)
    code, out, err = run_cli("db", "migrate", "--from", str(source), "--to", target, *case.args)
    assert code != 0
    assert "Traceback" not in out + err
    # One error line, after the lines of a wait for the target if there was one.
    assert err.startswith(("error: ", "waiting for the database at ")), err
    assert "error: " in err, err
    message = " ".join(err.split())
    if name in ("corrupt file", "truncated file"):
        assert any(word in message for word in case.expect), message
    else:
        for part in case.expect:
            assert part in message, (part, message)
    assert target_state(pg_url) == before
    assert _sha(source) == sha
    # Nothing left behind but (after a bad-data abort) the report saying why and the list
    # of problems, and nothing at all in the current directory.
    leftovers = [p.name for p in (state_dir / "migrate").glob("*/*")]
    assert all(n in ("report.json", "problems.txt") for n in leftovers), leftovers
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in"]


def _sha(path: Path) -> str | None:
    from rms.transfer.sqlite import file_sha256

    return file_sha256(path) if path.is_file() else None


def test_corpus_is_large_enough() -> None:
    assert len(CASES) >= 25


def test_bad_data_lists_every_problem_not_just_the_first(
    tmp_path: Path, pg_url: str, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    rows = _rows(trades__buy="x", trades__quantity=2**40, universe__expired=7)
    rows["trades"][3]["buy_date"] = "soon"
    source = write_source(tmp_path / "many.db", rows)
    code, _out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 2
    assert "4 problem(s)" in err
    for part in ("buy = 'x'", "quantity = 1099511627776", "expired = 7", "buy_date = 'soon'"):
        assert part in " ".join(err.split())


@pytest.fixture
def locked_source(tmp_path: Path) -> Iterator[Path]:
    path = write_source(tmp_path / "locked.db")
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        yield path
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_locked_database(
    locked_source: Path, pg_url: str, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    before = target_state(pg_url)
    code, _out, err = run_cli("db", "migrate", "--from", str(locked_source), "--to", pg_url)
    assert code == 2
    assert "locked by another process" in " ".join(err.split())
    assert "Traceback" not in err
    assert target_state(pg_url) == before


@pytest.fixture(scope="session")
def password_url(pg_server_url: str) -> str:
    """A role that must log in with a password (an hba line for it alone)."""
    with psycopg.connect(libpq(pg_server_url), autocommit=True) as conn:
        hba = Path(str(conn.execute("SHOW hba_file").fetchone()[0]))  # type: ignore[index]
        try:
            text = hba.read_text()
            hba.write_text("host all rms_pw_test 127.0.0.1/32 scram-sha-256\n" + text)
        except OSError:
            pytest.skip("cannot edit pg_hba.conf of this server")
        conn.execute("DROP ROLE IF EXISTS rms_pw_test")
        conn.execute("CREATE ROLE rms_pw_test LOGIN SUPERUSER PASSWORD 'Right-Pw-5150'")
        conn.execute("SELECT pg_reload_conf()")
    return make_url(pg_server_url).set(username="rms_pw_test").render_as_string(False)


def test_wrong_password(
    password_url: str, tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    source = write_source(tmp_path / "ok.db")
    url = make_url(password_url).set(password="Wrong-Pw-7777").render_as_string(False)
    code, out, err = run_cli("db", "migrate", "--from", str(source), "--to", url)
    assert code == 2
    assert "password authentication failed" in err or "credentials" in err
    assert "Wrong-Pw-7777" not in out + err
    assert "***" in err


def test_password_never_in_output_or_report(
    password_url: str,
    create_pg_database: Callable[[], str],
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    database = make_url(create_pg_database()).database
    url = make_url(password_url).set(password="Right-Pw-5150", database=database)
    source = write_source(tmp_path / "ok.db")
    report = tmp_path / "out" / "report.json"
    code, out, err = run_cli(
        "db", "migrate", "--from", str(source), "--to", url.render_as_string(False),
        "--report", str(report),
    )  # fmt: skip
    assert code == 0, err
    code2, out2, err2 = run_cli(
        "db", "verify", "--from", str(source), "--to", url.render_as_string(False)
    )
    assert code2 == 0, err2
    texts = [out, err, out2, err2, report.read_text()]
    assert all("Right-Pw-5150" not in text for text in texts)
    assert "***" in report.read_text()
    shutil.rmtree(report.parent)
