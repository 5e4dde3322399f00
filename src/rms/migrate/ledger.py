"""The ledger: which runs loaded what into this database, kept in the database itself.

It lives in its own schema, ``rms_migrate``, outside the application's tables and outside
the Alembic history: it belongs to the tool, not to the app, so application migrations (and
their downgrades) never touch it and ``schema_diff`` of the app schema stays clean. It is
created with ``CREATE ... IF NOT EXISTS`` (and older ledgers gain new columns with ``ADD
COLUMN IF NOT EXISTS``) inside the migration's transaction, so a run that fails leaves no
trace of it either.

A run's row records what a person needs to find it again (``rms db runs``): id, time, source
path and checksum, per-table counts and checksums, status; and what ``verify`` needs to
recompute exactly what the run loaded: its options (left behind, risk-group map, fills) and
its start instant (the default of columns older files lack, the time of archived values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rms.db.errors import INVALID_TEXT_REPRESENTATION, on_sqlstate
from rms.db.pg import PgCursor, sql
from rms.errors import MigrationError

__all__ = [
    "ADVISORY_KEY",
    "LEDGER_SCHEMA",
    "RunRecord",
    "ensure_ledger",
    "find_run",
    "has_ledger",
    "list_runs",
    "write_run",
]

LEDGER_SCHEMA = "rms_migrate"
#: ``options.kind`` of a run: a migration of a SQLite file, or the load of a (corrected)
#: quarantine file on top of what the target holds (:mod:`rms.migrate.reload`).
KIND_MIGRATE = "migrate"
KIND_QUARANTINE = "quarantine-load"
#: pg_advisory lock key shared by migrate and rollback ("rms.migr" as a big-endian int64).
ADVISORY_KEY = int.from_bytes(b"rms.migr", "big", signed=True)


def ensure_ledger(cur: PgCursor) -> None:
    cur.execute(f"CREATE SCHEMA IF NOT EXISTS {LEDGER_SCHEMA}")
    cur.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {LEDGER_SCHEMA}.runs (
            run_id uuid PRIMARY KEY,
            started_at timestamptz NOT NULL,
            finished_at timestamptz NOT NULL,
            source_path text NOT NULL,
            source_sha256 text NOT NULL,
            backup_path text,
            tool_version text NOT NULL,
            schema_revision text,
            on_error text NOT NULL,
            tables jsonb NOT NULL,
            superseded_by uuid,
            rolled_back_at timestamptz
        )"""
    )
    for column in ("options", "accounting"):
        cur.execute(
            f"ALTER TABLE {LEDGER_SCHEMA}.runs "
            f"ADD COLUMN IF NOT EXISTS {column} jsonb NOT NULL DEFAULT '{{}}'::jsonb"
        )
    cur.execute(
        f"""
        CREATE TABLE IF NOT EXISTS {LEDGER_SCHEMA}.run_rows (
            run_id uuid NOT NULL REFERENCES {LEDGER_SCHEMA}.runs (run_id),
            table_name text NOT NULL,
            ids text[] NOT NULL,
            PRIMARY KEY (run_id, table_name)
        )"""
    )
    # The id arrays are stored uncompressed: a run's array of a million UUIDs is about 40 MB
    # that pglz (the default) spends about 0.8 s compressing, inside the run's transaction,
    # for little gain on random hex (docs/benchmarks.md, issue 31, step 5). Only new values
    # are affected; older rows stay readable as they are. Altered once per ledger, so later
    # runs do not lock run_rows for it.
    cur.execute(
        "SELECT attstorage FROM pg_attribute WHERE attrelid = %s::regclass AND attname = 'ids'",
        (f"{LEDGER_SCHEMA}.run_rows",),
    )
    row = cur.fetchone()
    if row is not None and row[0] != "e":
        cur.execute(f"ALTER TABLE {LEDGER_SCHEMA}.run_rows ALTER COLUMN ids SET STORAGE EXTERNAL")


def has_ledger(cur: PgCursor) -> bool:
    cur.execute("SELECT to_regclass(%s)", (f"{LEDGER_SCHEMA}.runs",))
    row = cur.fetchone()
    return bool(row and row[0] is not None)


@dataclass
class RunRecord:
    """One committed run, as the ledger holds it."""

    run_id: str
    started_at: datetime
    finished_at: datetime
    source_path: str
    source_sha256: str
    backup_path: str | None
    tool_version: str
    schema_revision: str | None
    on_error: str
    tables: dict[str, dict[str, Any]]
    superseded_by: str | None
    rolled_back_at: datetime | None
    options: dict[str, Any] = field(default_factory=dict)
    accounting: dict[str, Any] = field(default_factory=dict)

    @property
    def status(self) -> str:
        if self.rolled_back_at is not None:
            return "rolled back"
        if self.superseded_by is not None:
            return "superseded"
        return "committed"

    @property
    def kind(self) -> str:
        """``migrate`` or ``quarantine-load`` (see :data:`KIND_QUARANTINE`)."""
        return str(self.options.get("kind", KIND_MIGRATE))

    @property
    def active(self) -> bool:
        """Its rows are meant to be in the target: neither rolled back nor replaced."""
        return self.rolled_back_at is None and self.superseded_by is None

    @property
    def rows_loaded(self) -> int:
        return sum(int(t.get("loaded", 0)) for t in self.tables.values())

    def to_dict(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id,
            "kind": self.kind,
            "status": self.status,
            "started_at": self.started_at.isoformat(),
            "finished_at": self.finished_at.isoformat(),
            "source_path": self.source_path,
            "source_sha256": self.source_sha256,
            "backup_path": self.backup_path,
            "tool_version": self.tool_version,
            "schema_revision": self.schema_revision,
            "on_error": self.on_error,
            "tables": self.tables,
            "superseded_by": self.superseded_by,
            "rolled_back_at": self.rolled_back_at.isoformat() if self.rolled_back_at else None,
            "options": self.options,
            "accounting": self.accounting,
        }


_COLUMNS = (
    "run_id::text, started_at, finished_at, source_path, source_sha256, backup_path, "
    "tool_version, schema_revision, on_error, tables, superseded_by::text, rolled_back_at, "
    "options, accounting"
)


def _record(row: tuple[Any, ...]) -> RunRecord:
    def obj(value: Any) -> dict[str, Any]:
        return value if isinstance(value, dict) else dict(json.loads(value or "{}"))

    return RunRecord(
        run_id=row[0],
        started_at=row[1],
        finished_at=row[2],
        source_path=row[3],
        source_sha256=row[4],
        backup_path=row[5],
        tool_version=row[6],
        schema_revision=row[7],
        on_error=row[8],
        tables=obj(row[9]),
        superseded_by=row[10],
        rolled_back_at=row[11],
        options=obj(row[12]),
        accounting=obj(row[13]),
    )


def _select(cur: PgCursor, where: str = "", params: tuple[Any, ...] = ()) -> Any:
    # An old ledger (before options/accounting) is read as if they were empty.
    cur.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'runs'",
        (LEDGER_SCHEMA,),
    )
    present = {r[0] for r in cur.fetchall()}
    columns = _COLUMNS
    for name in ("options", "accounting"):
        if name not in present:
            columns = columns.replace(name, f"'{{}}'::jsonb AS {name}")
    cur.execute(
        f"SELECT {columns} FROM {LEDGER_SCHEMA}.runs {where} "  # noqa: S608
        "ORDER BY finished_at DESC, started_at DESC",
        params,
    )
    return cur.fetchall()


def list_runs(cur: PgCursor) -> list[RunRecord]:
    """Every run of the ledger, newest first (none when the database has no ledger)."""
    if not has_ledger(cur):
        return []
    return [_record(r) for r in _select(cur)]


def find_run(cur: PgCursor, run_id: str | None, label: str, kind: str | None = None) -> RunRecord:
    """The run ``run_id``, or the run whose rows the target holds now (the newest one that
    was neither rolled back nor replaced; of ``kind`` when given)."""
    if not has_ledger(cur):
        raise MigrationError(
            f"{label} has no migration ledger: no run of `rms db migrate` committed there"
        )
    if run_id is None:
        rows = _select(cur, "WHERE rolled_back_at IS NULL AND superseded_by IS NULL")
        records = [_record(r) for r in rows]
        if kind is not None:
            records = [r for r in records if r.kind == kind]
        if not records:
            what = "every run" if kind is None else f"every {kind} run"
            raise MigrationError(
                f"{label}: {what} in the ledger was rolled back or replaced (or there is none); "
                "nothing to verify"
            )
        return records[0]
    not_a_uuid = MigrationError(f"{run_id!r} is not a run id (a UUID)")
    with on_sqlstate({INVALID_TEXT_REPRESENTATION: lambda _translated, _exc: not_a_uuid}):
        rows = _select(cur, "WHERE run_id = %s::uuid", (run_id,))
    if not rows:
        raise MigrationError(f"run {run_id} is not in the ledger of {label}")
    return _record(rows[0])


def write_run(
    cur: PgCursor,
    values: Mapping[str, Any],
    table_pks: Mapping[str, str],
    ids: Mapping[str, Sequence[str]] | None = None,
) -> None:
    """The run's row and, per table, the primary keys it loaded: every row of the table (a
    migration: the tables were empty under the run's exclusive lock, so every row there now
    is the run's), or the ``ids`` given per table (a load on top of other runs' rows)."""
    cur.execute(
        f"INSERT INTO {LEDGER_SCHEMA}.runs (run_id, started_at, finished_at, source_path, "  # noqa: S608
        "source_sha256, backup_path, tool_version, schema_revision, on_error, tables, "
        "options, accounting) VALUES (%(run_id)s, %(started_at)s, now(), %(source_path)s, "
        "%(source_sha256)s, %(backup_path)s, %(tool_version)s, %(schema_revision)s, "
        "%(on_error)s, %(tables)s::jsonb, %(options)s::jsonb, %(accounting)s::jsonb)",
        {
            **values,
            "tables": json.dumps(values["tables"]),
            "options": json.dumps(values["options"]),
            "accounting": json.dumps(values["accounting"], default=str),
        },
    )
    if ids is not None:
        for table, table_ids in ids.items():
            cur.execute(
                f"INSERT INTO {LEDGER_SCHEMA}.run_rows (run_id, table_name, ids) "  # noqa: S608
                "VALUES (%s, %s, %s::text[])",
                (values["run_id"], table, list(table_ids)),
            )
        return
    for table, pk in table_pks.items():
        cur.execute(
            sql.SQL(
                "INSERT INTO {schema}.run_rows (run_id, table_name, ids) "
                "SELECT %s, %s, coalesce(array_agg({pk}), '{{}}') FROM {t}"
            ).format(
                schema=sql.Identifier(LEDGER_SCHEMA),
                pk=sql.Identifier(pk),
                t=sql.Identifier(table),
            ),
            (values["run_id"], table),
        )
