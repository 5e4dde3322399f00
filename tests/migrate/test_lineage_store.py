"""The run's rows in TEMP tables of the reading connection: stand-ins next to the source's
own rows, the archived values with their stable ids, the source file never written."""

from __future__ import annotations

import json
from pathlib import Path

from rms.migrate.lineage import (
    T_ARCHIVE,
    T_RISK_GROUP,
    LineageOptions,
    RunIdentity,
    build_lineage,
    stand_in_relation,
)
from rms.migrate.lineage_store import materialize
from rms.migrate.sqlite import open_source, read_schema
from rms.transfer.sqlite import file_sha256
from tests.migrate.conftest import T0, base_rows, write_source


def test_materialize_writes_the_decided_rows_and_only_temp_tables(tmp_path: Path) -> None:
    rows = base_rows()
    rows["trades"][0]["universeId"] = "u-gone"
    path = write_source(
        tmp_path / "rms.db",
        rows,
        extra_sql=[
            "CREATE TABLE status (id TEXT PRIMARY KEY, name TEXT)",
            "INSERT INTO status VALUES ('s-1', 'open')",
        ],
    )
    before = file_sha256(path)
    run = RunIdentity("run-1", T0)
    conn = open_source(path)
    try:
        schema = read_schema(conn, path)
        lineage = build_lineage(conn, schema, LineageOptions(stand_ins=("universe",)), run)
        group = lineage.stand_in_symbols_group
        assert group is not None
        archive_ids = []
        for _ in range(2):  # once per reading connection, and again without doubling
            materialize(conn, schema, lineage, run)
            universe = conn.execute(
                f"SELECT id, symbol, risk_group_id FROM {stand_in_relation('universe')} "
                "ORDER BY rowid"
            ).fetchall()
            assert universe == [("u-1", "PDI", "rg-1"), ("u-gone", "STAND-IN u-gone", group)]
            groups = conn.execute(f"SELECT id FROM {T_RISK_GROUP} ORDER BY rowid").fetchall()
            assert groups == [("rg-1",), (group,)]
            archive = conn.execute(
                f"SELECT id, origin, table_name, row_id, column_name, value FROM {T_ARCHIVE}"
            ).fetchall()
            assert len(archive) == 1
            archive_id, origin, table, row_id, column, value = archive[0]
            assert (origin, table, row_id, column) == ("migrate:run-1", "status", "s-1", None)
            assert json.loads(value) == {"id": "s-1", "name": "open"}
            archive_ids.append(archive_id)
        assert archive_ids[0] == archive_ids[1]  # derived from the run and the row
    finally:
        conn.close()
    assert file_sha256(path) == before
