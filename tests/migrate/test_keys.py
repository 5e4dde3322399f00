"""What the run drops for the copy and what it may skip after it (issue 31, steps 4 and 5):
small tables keep their keys, and a foreign key the run re-created and PostgreSQL validated
answers the orphan question. Real PostgreSQL throughout."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import psycopg

from rms.migrate.load import _to_drop, run_migration
from rms.migrate.plan import MigrateOptions, preflight
from rms.migrate.target import ConstraintDef, secondary_definitions, validated_references
from rms.transfer.spec import table_specs
from tests.migrate.conftest import libpq


def _lineage(rows: dict[str, int]) -> Any:
    return SimpleNamespace(
        mappings=[
            SimpleNamespace(spec=SimpleNamespace(name=name), source=SimpleNamespace(rows=count))
            for name, count in rows.items()
        ]
    )


def test_only_tables_below_the_threshold_keep_their_keys_during_the_copy() -> None:
    defs = [
        ConstraintDef("trades", "trades_pkey", "p", "PRIMARY KEY (id)"),
        ConstraintDef("trades", "trades_fk", "f", "FOREIGN KEY ..."),
        ConstraintDef("accounts", "accounts_pkey", "p", "PRIMARY KEY (id)"),
        ConstraintDef("accounts", "accounts_i", "i", "CREATE INDEX ..."),
    ]
    lineage = _lineage({"trades": 5_000, "accounts": 12})
    dropped = {d.name for d in _to_drop(defs, lineage, MigrateOptions(rebuild_min_rows=1_000))}
    assert dropped == {"trades_pkey", "trades_fk"}  # foreign keys always; big tables' keys
    everything = _to_drop(defs, lineage, MigrateOptions(rebuild_min_rows=0))
    assert {d.name for d in everything} == {d.name for d in defs}
    only_fks = _to_drop(defs, lineage, MigrateOptions(rebuild="fks", rebuild_min_rows=0))
    assert [d.name for d in only_fks] == ["trades_fk"]


def _definitions(url: str) -> list[ConstraintDef]:
    with psycopg.connect(libpq(url)) as conn, conn.cursor() as cur:
        return secondary_definitions(cur, [s.name for s in table_specs()])


def test_keeping_small_tables_keys_ends_with_the_same_keys_as_rebuilding_them(
    generated_20k: Path, create_pg_database: Callable[[], str], tmp_path: Path
) -> None:
    urls = []
    for threshold in (1_000, 0):  # the default; everything dropped and rebuilt
        url = create_pg_database()
        options = MigrateOptions(
            report_path=tmp_path / f"{threshold}.json", rebuild_min_rows=threshold
        )
        report = run_migration(preflight(generated_20k, url, options), options)
        assert report.status == "committed"
        urls.append(url)
    kept, rebuilt = (_definitions(url) for url in urls)
    assert kept == rebuilt
    assert any(d.kind == "f" for d in kept) and any(d.kind == "p" for d in kept)


def test_only_validated_keys_the_run_created_answer_the_orphan_question(
    create_pg_database: Callable[[], str],
) -> None:
    with psycopg.connect(libpq(create_pg_database())) as conn, conn.cursor() as cur:
        cur.execute("CREATE TABLE p (id text PRIMARY KEY)")
        cur.execute("CREATE TABLE c (id text PRIMARY KEY, pid text, qid text, rid text)")
        cur.execute("INSERT INTO p VALUES ('a')")
        cur.execute("INSERT INTO c VALUES ('1', 'a', 'gone', 'a')")
        cur.execute("ALTER TABLE c ADD CONSTRAINT c_pid FOREIGN KEY (pid) REFERENCES p (id)")
        cur.execute(  # an orphan stays possible: not proven
            "ALTER TABLE c ADD CONSTRAINT c_qid FOREIGN KEY (qid) REFERENCES p (id) NOT VALID"
        )
        cur.execute("ALTER TABLE c ADD CONSTRAINT c_rid FOREIGN KEY (rid) REFERENCES p (id)")
        created = [
            ConstraintDef("c", "c_pid", "f", "FOREIGN KEY (pid) REFERENCES p(id)"),
            ConstraintDef("c", "c_qid", "f", "FOREIGN KEY (qid) REFERENCES p(id) NOT VALID"),
            ConstraintDef("c", "c_pkey", "p", "PRIMARY KEY (id)"),
        ]  # c_rid is valid but was not among the keys this run created
        assert validated_references(cur, created) == frozenset({("c", "pid", "p", "id")})
        assert validated_references(cur, []) == frozenset()
