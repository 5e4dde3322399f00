"""Every point of the application's schema history migrates completely, in both storage eras.

Each of the 22 empty files of ``tests/fixtures/prisma-history`` is filled with rows in era A
(INTEGER epoch ms), era B (ISO text ``+00:00``), both mixed in one row, and the text forms
hand-written SQL left; then migrated into a fresh PostgreSQL database. The check
(:mod:`tests.migrate.history_data`) is written apart from the loader: it reads the file with
plain ``sqlite3``, the target with plain SQL, applies its own rules, and requires every source
value to be in the target or in ``rms_archive``. Then ``verify`` agrees and ``rollback``
removes everything the run loaded, archive included.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.migrate import (
    MigrateOptions,
    SchemaMismatchError,
    preflight,
    rollback,
    run_migration,
    verify,
)
from rms.migrate.history import FINGERPRINTS
from rms.schema.head import HEAD_REVISION
from tests.migrate.conftest import libpq
from tests.migrate.history_data import POINTS, check, fill

#: What the application's own migrations could not do on a table with rows, and the values
#: these tests give instead (``--fill``): trades.quantity before 05, the screener's
#: risk_group_id before 14 and its prices before 15.
FILLS: dict[str, tuple[range, Any]] = {
    "trades.quantity": (range(1, 5), 7),
    "screener.risk_group_id": (range(11, 14), "risk_group-1"),
    "screener.distribution": (range(11, 15), 0.5),
    "screener.distributions_per_year": (range(11, 15), 12),
    "screener.last_price": (range(11, 15), 9.75),
}


def _fills(point: int) -> dict[str, Any]:
    return {key: value for key, (points, value) in FILLS.items() if point in points}


def _number(path: Path) -> int:
    return int(path.name[:2])


def _filled(tmp_path: Path, path: Path) -> Path:
    copy = tmp_path / path.name
    shutil.copyfile(path, copy)
    fill(copy, _number(path))
    return copy


def _count_all(url: str) -> dict[str, int]:
    with psycopg.connect(libpq(url)) as conn:
        tables = [
            r[0]
            for r in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                "AND tablename <> 'alembic_version'"
            )
        ]
        return {
            t: conn.execute(f'SELECT count(*) FROM "{t}"').fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def _record(point: Path, figures: dict[str, Any]) -> None:
    """Append the figures to ``$RMS_HISTORY_FIGURES`` (JSON lines) when it is set."""
    where = os.environ.get("RMS_HISTORY_FIGURES")
    if where:
        with open(where, "a", encoding="utf-8") as fh:
            fh.write(json.dumps({"point": point.name, **figures}) + "\n")


@pytest.mark.parametrize("path", POINTS, ids=lambda p: p.name[:-3])
def test_every_history_point_migrates_completely(
    path: Path, tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    point = _number(path)
    source = _filled(tmp_path, path)
    url = create_pg_database()
    fills = _fills(point)
    options = MigrateOptions(
        report_path=tmp_path / "run" / "report.json",
        fills={k: str(v) for k, v in fills.items()},
    )
    plan = preflight(source, url, options)
    report = run_migration(plan, options)
    assert report.status == "committed"
    assert all(t.verified and t.balanced for t in report.tables.values())
    assert point in report.accounting["history_point"]["migrations"]
    outcome = check(source, libpq(url), report.run_id, plan.run.run_start_ms, fills)
    assert not outcome.differences, "\n".join(outcome.differences[:30])
    assert outcome.compared > 0
    assert outcome.archived == report.values_archived == sum(report.accounting["archived"].values())
    for key in fills:
        table, column = key.split(".")
        assert report.tables[table].filled_columns == {
            c: str(v)
            for c, v in (
                (k.split(".")[1], v) for k, v in fills.items() if k.startswith(f"{table}.")
            )
        }, key
        assert column in report.tables[table].filled_columns
    # verify recomputes the same rows from the file and the ledger's record of the run.
    again = verify(source, url)
    assert again.status == "verified", [t for t in again.tables.values() if not t.verified]
    assert again.compared_run == report.run_id
    _record(
        path,
        {
            "read": report.rows_read,
            "loaded": report.rows_loaded,
            "archived": report.values_archived,
            "archived_by_item": report.accounting["archived"],
            "defaulted": dict(outcome.defaulted),
            "filled": sorted(fills),
            "compared_values": outcome.compared,
        },
    )
    # And rollback takes out exactly the run: the archive and the created groups too.
    result = rollback(url, report.run_id, yes=True)
    assert sum(result.deleted.values()) == report.rows_loaded
    assert set(_count_all(url).values()) == {0}


def test_the_fingerprints_are_those_of_the_fixture_files() -> None:
    from rms.migrate.history import schema_fingerprint
    from rms.migrate.sqlite import open_source, read_schema

    found: dict[str, tuple[int, ...]] = {}
    for path in POINTS:
        conn = open_source(path)
        try:
            fingerprint = schema_fingerprint(read_schema(conn, path))
        finally:
            conn.close()
        found[fingerprint] = (*found.get(fingerprint, ()), _number(path))
    assert found == FINGERPRINTS
    assert len(POINTS) == 22


def test_our_own_revisions_are_known_points(tmp_path: Path) -> None:
    """Each of our Alembic revisions, as rms writes it to an empty SQLite file, has its
    fingerprint in OWN_FINGERPRINTS (so a new revision cannot be forgotten there)."""
    from alembic.script import ScriptDirectory
    from sqlalchemy import create_engine

    from rms.migrate.history import OWN_FINGERPRINTS, OWN_REVISIONS, schema_fingerprint
    from rms.migrate.sqlite import open_source, read_schema
    from rms.schema.migrations import alembic_config, upgrade

    scripts = ScriptDirectory.from_config(alembic_config())
    revisions = sorted(s.revision for s in scripts.walk_revisions())
    found: dict[str, str] = {}
    for revision in revisions:
        path = tmp_path / f"rms-{revision}.db"
        engine = create_engine(f"sqlite:///{path}")
        try:
            upgrade(engine, revision)
        finally:
            engine.dispose()
        conn = open_source(path)
        try:
            found[schema_fingerprint(read_schema(conn, path))] = revision
        finally:
            conn.close()
    assert found == OWN_FINGERPRINTS
    assert sorted(OWN_REVISIONS) == revisions
    assert not set(found) & set(FINGERPRINTS)  # never mistaken for the application's


def test_init_era_risk_groups_named_or_mapped(
    tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    """Point 01: each old INTEGER risk_group becomes a group "risk group N" (and the report
    says to rename it), unless --map-risk-group names one; the old values are archived."""
    source = _filled(tmp_path, POINTS[0])
    url = create_pg_database()
    options = MigrateOptions(
        report_path=tmp_path / "a" / "report.json",
        fills={"trades.quantity": "1"},
        risk_group_map={"2": "Equities"},
    )
    plan = preflight(source, url, options)
    assert any(
        "created risk group 'risk group 1'" in w and "--map-risk-group 1=NAME" in w
        for w in plan.warnings
    ), plan.warnings
    report = run_migration(plan, options)
    groups = report.accounting["risk_groups"]
    assert [(g["old_value"], g["name"], g["created"], g["mapped"]) for g in groups] == [
        (1, "risk group 1", True, False),
        (2, "Equities", True, True),
    ]
    with psycopg.connect(libpq(url)) as conn:
        named = conn.execute(
            "SELECT g.name, count(*) FROM universe u JOIN risk_group g ON g.id = u.risk_group_id "
            "GROUP BY 1 ORDER BY 1"
        ).fetchall()
        kept = conn.execute(
            "SELECT value FROM rms_archive WHERE table_name = 'universe' "
            "AND column_name = 'risk_group' ORDER BY row_id"
        ).fetchall()
    assert named == [("Equities", 2), ("risk group 1", 3)]
    with psycopg.connect(libpq(url)) as conn:
        made = conn.execute(
            'SELECT "createdAt", "updatedAt", "deletedAt", version FROM risk_group'
        ).fetchall()
    start = plan.started_at.replace(microsecond=plan.started_at.microsecond // 1000 * 1000)
    assert made == [(start.replace(tzinfo=None), start.replace(tzinfo=None), None, 1)] * 2
    assert [v for (v,) in kept] == [1, 2, 1, 2, 1]


def test_older_files_without_required_values_stop_with_the_ways_out(
    tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    """Trades from before migration 05 have no quantity: never invented; the run stops naming
    --fill and --on-error quarantine; quarantine sets those rows aside whole."""
    source = _filled(tmp_path, POINTS[3])  # 04: after the status tables went, before quantity
    url = create_pg_database()
    with pytest.raises(SchemaMismatchError) as caught:
        preflight(source, url, MigrateOptions(report_path=tmp_path / "x" / "r.json"))
    message = str(caught.value)
    assert "trades: 5 row(s) have no quantity" in message
    assert "migration 05 (20250626142132_2025_06_26) added it without a default" in message
    assert "--fill trades.quantity=VALUE" in message and "--on-error quarantine" in message
    options = MigrateOptions(report_path=tmp_path / "q" / "report.json", on_error="quarantine")
    report = run_migration(preflight(source, url, options), options)
    assert (report.tables["trades"].read, report.tables["trades"].quarantined) == (5, 5)
    lines = [json.loads(x) for x in Path(str(report.quarantine_file)).read_text().splitlines()]
    assert {x["id"] for x in lines} == {f"trades-{i}" for i in range(5)}
    assert all("--fill trades.quantity=VALUE" in x["problems"][0]["reason"] for x in lines)


@pytest.mark.parametrize("revision", ["0001", "head"])
def test_a_file_rms_wrote_migrates_too(
    revision: str, tmp_path: Path, create_pg_database: Callable[[], str]
) -> None:
    """Our own embedded database (what `make run` uses, at either revision): its settings,
    archive and alembic_version are accounted for; nothing unknown, nothing lost."""
    from rms.db import build_database
    from rms.seed import seed_demo, seed_reference
    from rms.settings import load_settings

    fixture = Path(__file__).resolve().parents[1] / "fixtures" / "rms-0001" / "service-0001.db"
    source = tmp_path / "rms.db"
    shutil.copyfile(fixture, source)
    if revision == "head":
        from rms.schema.migrations import upgrade

        db = build_database(load_settings(database_url=f"sqlite:///{source}"))
        try:
            upgrade(db.engine)
            db.run(lambda s: seed_reference(s, range(2024, 2026)))
            db.run(seed_demo)
        finally:
            db.dispose()
    url = create_pg_database()
    options = MigrateOptions(report_path=tmp_path / "run" / "report.json")
    report = run_migration(preflight(source, url, options), options)
    assert report.status == "committed" and report.rows_loaded > 0
    assert report.accounting["source_tables"]["alembic_version"]["fate"] == "bookkeeping"
    # A known point: our own revision, not "changed by hand".
    expected = "0001" if revision == "0001" else HEAD_REVISION
    point = report.accounting["history_point"]
    assert point["rms_revision"] == expected and point["migrations"] == []
    assert point["description"].startswith(f"rms's own schema at revision {expected} (")
    checked = verify(source, url)
    assert checked.status == "verified"
    assert checked.accounting["history_point"]["rms_revision"] == expected
    from tests.rms_cli import run_rms

    shown = run_rms("db", "verify", "--from", str(source), "--to", url)
    assert shown.exit_code == 0, shown.stderr
    assert f"source schema: rms's own schema at revision {expected} (" in shown.stdout
    assert "by hand" not in shown.output
