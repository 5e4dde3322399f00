"""Ledger, rollback, verify on demand, and the verification catching a loader bug."""

from __future__ import annotations

import struct
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.migrate import MigrateOptions, VerificationError, preflight, run_migration
from rms.migrate import scan as scan_module
from tests.migrate.conftest import T0, libpq, target_state

Cli = Callable[..., tuple[int, str, str]]


def _sql(url: str, statement: str, *params: Any) -> list[tuple[Any, ...]]:
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        cur = conn.execute(statement, params or None)
        return cur.fetchall() if cur.description else []


def test_ledger_records_the_run(migrated: tuple[str, Any]) -> None:
    url, report = migrated
    ((tables, sha, version, ids),) = _sql(
        url,
        "SELECT r.tables, r.source_sha256, r.tool_version, "
        "(SELECT cardinality(ids) FROM rms_migrate.run_rows "
        " WHERE run_id = r.run_id AND table_name = 'trades') "
        "FROM rms_migrate.runs r WHERE run_id = %s",
        report.run_id,
    )
    assert sha == report.source_sha256_before
    assert version == report.tool_version
    assert tables["trades"]["loaded"] == 5 == ids
    assert tables["trades"]["checksum"] == report.tables["trades"].target_checksum


def test_rollback_removes_exactly_the_run(migrated: tuple[str, Any], run_cli: Cli) -> None:
    url, report = migrated
    # A row the application added afterwards (referencing nothing of the run) stays.
    _sql(
        url,
        'INSERT INTO accounts (id, name, "createdAt", "updatedAt", version) '
        "VALUES ('later', 'Later', now(), now(), 1)",
    )
    code, out, err = run_cli("db", "rollback", report.run_id, "--to", url, "--yes")
    assert code == 0, err
    assert "trades 5" in out
    counts = target_state(url)["counts"]
    assert counts["public.accounts"] == 1
    assert all(
        n == 0
        for t, n in counts.items()
        if t.startswith("public.") and "accounts" not in t and "alembic" not in t
    )
    code, _out, err = run_cli("db", "rollback", report.run_id, "--to", url, "--yes")
    assert code == 2
    assert "already rolled back" in err


def test_rollback_refuses_when_rows_changed_unless_forced(
    migrated: tuple[str, Any], run_cli: Cli
) -> None:
    url, report = migrated
    _sql(url, "UPDATE trades SET quantity = 99, version = version + 1 WHERE id = 't-1'")
    before = target_state(url)
    code, _out, err = run_cli("db", "rollback", report.run_id, "--to", url)
    assert code == 2
    assert "changed or removed since" in err and "trades" in err
    assert target_state(url) == before
    code, _out, err = run_cli("db", "rollback", report.run_id, "--to", url, "--force", "--yes")
    assert code == 0, err
    assert target_state(url)["counts"]["public.trades"] == 0


def test_rollback_refuses_when_new_rows_reference_the_run(
    migrated: tuple[str, Any], run_cli: Cli
) -> None:
    url, report = migrated
    _sql(
        url,
        'INSERT INTO trades (id, "universeId", "accountId", buy, sell, buy_date, quantity, '
        '"createdAt", "updatedAt", version) '
        "VALUES ('new', 'u-1', 'acc-1', 1, 1, now(), 1, now(), now(), 1)",
    )
    before = target_state(url)
    code, _out, err = run_cli("db", "rollback", report.run_id, "--to", url, "--yes")
    assert code == 2
    assert "still reference" in err and "nothing was deleted" in " ".join(err.split())
    assert target_state(url) == before


@pytest.mark.parametrize(
    ("run_id", "message"),
    [("00000000-0000-0000-0000-000000000000", "not in the ledger"), ("nope", "not a run id")],
)
def test_rollback_unknown_run(
    migrated: tuple[str, Any], run_cli: Cli, run_id: str, message: str
) -> None:
    url, _report = migrated
    code, _out, err = run_cli("db", "rollback", run_id, "--to", url)
    assert code == 2
    assert message in err


def test_verify_names_the_first_differing_values(
    migrated: tuple[str, Any], source: Path, run_cli: Cli
) -> None:
    url, _report = migrated
    code, out, _err = run_cli("db", "verify", "--from", str(source), "--to", url)
    assert code == 0
    assert "source and target agree" in out
    _sql(url, "UPDATE trades SET buy = buy + 1e-12 WHERE id = 't-2'")
    _sql(url, "DELETE FROM settings")
    code, _out, err = run_cli("db", "verify", "--from", str(source), "--to", url)
    assert code == 2
    message = " ".join(err.split())
    assert "trades id 't-2' column buy" in message
    assert "settings id 'theme' column *: source row present != target row missing" in message


def test_loader_bug_is_caught_before_commit(
    pg_url: str, source: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Corrupt one COPY row after its digest was taken: the SQL-side checksum disagrees."""
    real = scan_module.row_function

    def buggy(spec: Any, references: Any = None) -> Any:
        convert = real(spec, references)

        def convert_row(raw: tuple[Any, ...]) -> Any:
            data, digest, values = convert(raw)
            if spec.name == "trades" and values[0] == "t-3":
                good = struct.pack(">id", 8, values[3])
                data = data.replace(good, struct.pack(">id", 8, values[3] + 0.5))
            return data, digest, values

        return convert_row

    monkeypatch.setattr(scan_module, "row_function", buggy)
    before = target_state(pg_url)
    options = MigrateOptions(report_path=tmp_path / "out" / "report.json")
    with pytest.raises(VerificationError) as caught:
        run_migration(preflight(source, pg_url, options), options)
    assert "trades id 't-3' column buy" in str(caught.value)
    assert target_state(pg_url) == before
    assert T0  # the fixture's instants are untouched (see conftest)


def test_second_concurrent_migration_is_refused(pg_url: str, source: Path, tmp_path: Path) -> None:
    from rms.migrate import ConcurrentMigrationError
    from rms.migrate.ledger import ADVISORY_KEY

    options = MigrateOptions(report_path=tmp_path / "out" / "report.json")
    plan = preflight(source, pg_url, options)
    with psycopg.connect(libpq(pg_url), autocommit=True) as other:
        other.execute("SELECT pg_advisory_lock(%s)", (ADVISORY_KEY,))
        before = target_state(pg_url)
        with pytest.raises(ConcurrentMigrationError, match="another rms migration"):
            run_migration(plan, options)
        assert target_state(pg_url) == before


def test_tables_in_use_by_the_application(
    migrated: tuple[str, Any], source: Path, tmp_path: Path
) -> None:
    from rms.migrate import TargetError

    url, _report = migrated
    options = MigrateOptions(
        report_path=tmp_path / "again" / "report.json",
        replace=True,
        yes=True,
        lock_timeout_seconds=0.5,
    )
    plan = preflight(source, url, options)
    with psycopg.connect(libpq(url)) as app:
        app.execute("SELECT count(*) FROM trades")  # an open transaction holds a lock
        before = target_state(url)
        with pytest.raises(TargetError, match="in use by another session"):
            run_migration(plan, options)
    assert target_state(url) == before
