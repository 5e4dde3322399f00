"""End to end on real files: the application's fixtures, generated portfolios, exact values."""

from __future__ import annotations

import json
import sqlite3
import struct
from collections.abc import Callable
from datetime import UTC
from pathlib import Path
from typing import Any

import psycopg
import pytest

from rms.migrate import (
    BadDataError,
    MigrateOptions,
    preflight,
    run_migration,
    verify,
)
from rms.migrate.convert import to_epoch_ms
from rms.transfer.spec import table_specs
from rms.transfer.sqlite import file_sha256
from tests.migrate.conftest import FIXTURES, T0, base_rows, libpq, target_state, write_source


def _migrate(source: Path, url: str, tmp_path: Path, **kw: Any) -> Any:
    options = MigrateOptions(report_path=tmp_path / "out" / "report.json", **kw)
    return run_migration(preflight(source, url, options), options)


@pytest.mark.parametrize(
    ("name", "loaded", "quarantined"),
    [
        ("trades-epoch-ms-dates.db", 8, 0),
        ("deposits-text-dates-dangling-refs.db", 5, 10),
        ("deposits-small.db", 3, 7),
    ],
)
def test_real_fixture_files_migrate(
    name: str, loaded: int, quarantined: int, pg_url: str, tmp_path: Path
) -> None:
    source = FIXTURES / name
    before = file_sha256(source)
    report = _migrate(source, pg_url, tmp_path, on_error="quarantine")
    assert report.status == "committed"
    assert (report.rows_loaded, report.rows_quarantined) == (loaded, quarantined)
    assert report.rows_read == loaded + quarantined
    assert all(t.balanced and t.verified for t in report.tables.values())
    assert report.source_sha256_before == report.source_sha256_after == before
    # Every quarantined row is in the JSONL file, whole, with its reason.
    lines = []
    if quarantined:
        lines = [json.loads(x) for x in Path(report.quarantine_file).read_text().splitlines()]
        assert all(line["problems"] and line["row"]["id"] == line["id"] for line in lines)
    assert len(lines) == quarantined
    per_table = {t: sum(1 for x in lines if x["table"] == t) for t in report.tables}
    assert per_table == {t: r.quarantined for t, r in report.tables.items()}
    saved = json.loads(Path(report.report_path).read_text())
    assert saved["totals"]["balanced"] and saved["status"] == "committed"
    if name.startswith("trades"):
        assert "trades.version" in " ".join(report.notes)
        assert "universe.is_closed_end_fund" in " ".join(report.notes)
        assert report.tables["universe"].defaulted_columns["is_closed_end_fund"] is True
    assert verify(source, pg_url).status == "verified"


def test_dangling_references_abort_by_default_listing_all(pg_url: str, tmp_path: Path) -> None:
    source = FIXTURES / "deposits-text-dates-dangling-refs.db"
    before = target_state(pg_url)
    with pytest.raises(BadDataError) as caught:
        _migrate(source, pg_url, tmp_path)
    assert caught.value.total == 10  # 5 trades + 5 deposits, not just the first
    assert "trades row id 'trade-1': universeId = 'universe-1'" in str(caught.value)
    assert target_state(pg_url) == before


def test_quarantine_cascades_to_rows_referencing_quarantined_rows(
    pg_url: str, tmp_path: Path
) -> None:
    rows = base_rows()
    rows["universe"][0]["last_price"] = "n/a"  # the universe row is bad ...
    source = write_source(tmp_path / "cascade.db", rows)
    report = _migrate(source, pg_url, tmp_path, on_error="quarantine")
    # ... so its 5 trades and the deposit naming it are set aside too, and FKs resolve.
    assert report.tables["universe"].quarantined == 1
    assert report.tables["trades"].quarantined == 5
    assert report.tables["divDeposits"].quarantined == 1
    assert not any(report.orphans.values())
    assert all(t.balanced for t in report.tables.values())


def _pg_rows(url: str, table: str, pk: str) -> dict[str, dict[str, Any]]:
    with psycopg.connect(libpq(url)) as conn, conn.cursor(row_factory=psycopg.rows.dict_row) as cur:
        cur.execute(f'SELECT * FROM "{table}"')
        return {row[pk]: row for row in cur}


def _sqlite_rows(path: Path, table: str, pk: str) -> dict[str, dict[str, Any]]:
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        found = conn.execute("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)).fetchone()
        if found is None:  # a table the file does not have (e.g. our own rms_archive)
            return {}
        return {r[pk]: dict(r) for r in conn.execute(f'SELECT * FROM "{table}"')}
    finally:
        conn.close()


def _same(kind: str, source: Any, target: Any) -> bool:
    """Independent of the migration's code paths: exact comparison per kind."""
    if source is None or target is None:
        return source is None and target is None
    if kind == "float":
        return struct.pack(">d", float(source)) == struct.pack(">d", target)
    if kind == "datetime":  # timestamp(3) holding UTC: a naive datetime
        assert target.tzinfo is None
        return to_epoch_ms(source) == round(target.replace(tzinfo=UTC).timestamp() * 1000)
    if kind == "bool":
        return bool(source) is target
    if kind == "json":
        return json.loads(source) == target
    return type(source) is type(target) and source == target


def assert_every_value_equal(source: Path, url: str) -> int:
    compared = 0
    for spec in table_specs():
        src = _sqlite_rows(source, spec.name, spec.pk)
        dst = _pg_rows(url, spec.name, spec.pk)
        assert src.keys() == dst.keys(), spec.name
        for key, row in src.items():
            for col in spec.columns:
                assert _same(col.kind, row.get(col.name), dst[key][col.name]), (
                    spec.name,
                    key,
                    col.name,
                    row.get(col.name),
                    dst[key][col.name],
                )
                compared += 1
    return compared


@pytest.mark.slow
def test_generated_100k_file_migrates_and_every_value_matches(
    pg_url: str, tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]]
) -> None:
    from bench.gen_sqlite import generate

    source = tmp_path / "rms-100k.db"
    counts = generate(source, trades=100_000, deposits=20_000, universe=500, seed=11)
    code, out, err = run_cli("db", "migrate", "--from", str(source), "--to", pg_url)
    assert code == 0, err
    assert "loaded and verified" in out
    code, out, err = run_cli("db", "verify", "--from", str(source), "--to", pg_url)
    assert code == 0, err
    assert "source and target agree" in out
    assert target_state(pg_url)["counts"]["public.trades"] == counts["trades"]
    assert assert_every_value_equal(source, pg_url) >= 100_000 * 12 + 20_000 * 10


EDGE_TEXT = [
    "naïve \"double\" 'single' back\\slash \\N \\. tab\there",
    "line\nbreak\r\nwindows and \x1f unit separator |pipe| 12:colon",
    "🎉 emoji, 中文, עברית, e\u0301 combining, \ufeff bom",
    "",
    " leading and trailing spaces ",
    "x" * 10_000,
]


def test_exact_floats_text_and_instants(pg_url: str, tmp_path: Path) -> None:
    floats = [0.1 + 0.2, 1e-300, 5e-324, -0.0, 1.7976931348623157e308, 2.2250738585072014e-308]
    dates = [
        T0 + 123,
        (T0 + 123_000) // 1000,
        "2024-01-01",
        "2024-01-01 00:00:00.123",
        "2024-01-01T00:00:00.123Z",
        "2024-01-01T02:00:00.123+02:00",
    ]
    rows = base_rows()
    template = rows["trades"][0]
    rows["trades"] = [
        {**template, "id": f"f{i}", "buy": f, "sell": -f, "buy_date": dates[i % len(dates)]}
        for i, f in enumerate(floats)
    ]
    rows["accounts"] += [
        {**rows["accounts"][0], "id": f"text-{i}", "name": text} for i, text in enumerate(EDGE_TEXT)
    ]
    rows["settings"].append(
        {**rows["settings"][0], "key": "k\ttab", "value": '{"z": [1.50, "é\\n"], "a": null}'}
    )
    source = write_source(tmp_path / "exact.db", rows)
    report = _migrate(source, pg_url, tmp_path)
    assert report.status == "committed"
    assert assert_every_value_equal(source, pg_url) > 0
    buys = {k: r["buy"] for k, r in _pg_rows(pg_url, "trades", "id").items()}
    stored = {k: r["buy"] for k, r in _sqlite_rows(source, "trades", "id").items()}
    for i, f in enumerate(floats):
        assert struct.pack(">d", buys[f"f{i}"]) == struct.pack(">d", stored[f"f{i}"])
        if f != 0:  # SQLite itself stores -0.0 in a REAL column as the integer 0
            assert struct.pack(">d", buys[f"f{i}"]) == struct.pack(">d", f)
    names = {r["name"] for r in _pg_rows(pg_url, "accounts", "id").values()}
    assert set(EDGE_TEXT) <= names
    instants = {
        round(r["buy_date"].timestamp() * 1000) for r in _pg_rows(pg_url, "trades", "id").values()
    }
    assert instants <= {T0, T0 + 123, T0 + 123_000}


def test_cusip_tables_and_volatility_are_carried(pg_url: str, tmp_path: Path) -> None:
    """The application's latest tables and columns arrive value for value (enum included)."""
    rows = base_rows()
    rows["universe"][0] |= {
        "volatility_calculated_at": "2026-04-26T14:26:17.123+00:00",
        "volatility_long": "0.1834",
        "volatility_short": None,
    }
    stamp = "2026-03-06T10:00:00.000+00:00"
    rows["cusip_cache"] = [
        {"id": f"c-{i}", "cusip": cusip, "symbol": sym, "source": source, "resolvedAt": stamp,
         "lastUsedAt": "2026-03-29 18:12:57", "createdAt": stamp, "updatedAt": stamp}
        for i, (cusip, sym, source) in enumerate(
            [("037833100", "AAPL", "THIRTEENF"), ("594918104", "MSFT", "YAHOO_FINANCE")]
        )
    ]  # fmt: skip
    rows["cusip_cache_archive"] = [
        {"id": "a-1", "cusip": "037833100", "symbol": "AAPL", "source": "THIRTEENF",
         "resolvedAt": stamp, "archivedAt": stamp, "reason": None}
    ]  # fmt: skip
    rows["cusip_cache_audit"] = [
        {"id": "x-1", "cusip": "037833100", "symbol": "AAPL", "action": "CREATE",
         "source": "THIRTEENF", "userId": None, "reason": "13F", "createdAt": stamp}
    ]  # fmt: skip
    source = write_source(tmp_path / "latest.db", rows)
    report = _migrate(source, pg_url, tmp_path)
    assert report.status == "committed"
    assert assert_every_value_equal(source, pg_url) > 0
    with psycopg.connect(libpq(pg_url)) as conn:
        found = conn.execute(
            "SELECT source::text, pg_typeof(source)::text FROM cusip_cache ORDER BY id"
        ).fetchall()
    assert found == [("THIRTEENF", '"CusipCacheSource"'), ("YAHOO_FINANCE", '"CusipCacheSource"')]


def test_dry_run_verifies_then_leaves_target_unchanged(
    pg_url: str, source: Path, tmp_path: Path
) -> None:
    before = target_state(pg_url)
    report = _migrate(source, pg_url, tmp_path, dry_run=True)
    assert report.status == "dry-run"
    assert all(t.verified for t in report.tables.values())
    assert report.rows_loaded == sum(len(v) for v in base_rows().values())
    assert target_state(pg_url) == before


def test_replace_swaps_contents_and_supersedes_the_earlier_run(
    pg_url: str, source: Path, tmp_path: Path
) -> None:
    first = _migrate(source, pg_url, tmp_path / "a")
    rows = base_rows()
    rows["trades"] = rows["trades"][:2]
    smaller = write_source(tmp_path / "smaller.db", rows)
    second = _migrate(smaller, pg_url, tmp_path / "b", replace=True, yes=True)
    assert second.tables["trades"].replaced_rows == 5
    assert target_state(pg_url)["counts"]["public.trades"] == 2
    with psycopg.connect(libpq(pg_url)) as conn:
        superseded = conn.execute(
            "SELECT superseded_by::text FROM rms_migrate.runs WHERE run_id = %s", (first.run_id,)
        ).fetchone()
    assert superseded == (second.run_id,)
