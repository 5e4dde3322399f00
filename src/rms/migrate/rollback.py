"""``rms db rollback``: remove exactly the rows one committed run loaded.

The ledger holds, per table, the ids the run loaded and the checksum of those rows as
loaded. Before deleting anything the rows with those ids are digested again: if any was
changed (any column: the checksum covers them all, ``version`` and ``updatedAt``
included) or removed since, the rollback refuses unless forced, naming the tables. Rows
the application added later are not in the ledger and are left alone; if they reference
rows of the run, the foreign keys stop the delete and the rollback fails as a whole.
Everything happens in one transaction under the same advisory lock as a migration.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from rms.db.errors import DRIVER_ERRORS, translate_db_error
from rms.errors import MigrationError, ReferenceViolationError
from rms.migrate.errors import ConcurrentMigrationError, RollbackRefusedError
from rms.migrate.spec import table_specs
from rms.migrate.target import (
    ADVISORY_KEY,
    LEDGER_SCHEMA,
    hidden,
    raw,
    target_connection,
    target_digest,
    target_error,
)

__all__ = ["RollbackResult", "rollback"]


@dataclass
class RollbackResult:
    run_id: str
    deleted: dict[str, int] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)
    forced: bool = False


def rollback(
    target_url: str, run_id: str, *, force: bool = False, connect_timeout: float = 10.0
) -> RollbackResult:
    """Delete the run's rows in reverse foreign-key order, in one transaction."""
    result = RollbackResult(run_id=run_id, forced=force)
    with target_connection(target_url, connect_timeout) as conn:
        try:
            trans = conn.begin()
            cur = raw(conn).cursor()
            cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_KEY,))
            row = cur.fetchone()
            if not row or not row[0]:
                raise ConcurrentMigrationError(
                    f"another rms migration or rollback is running on {hidden(target_url)}"
                )
            tables = _ledger_entry(cur, run_id, target_url)
            specs = list(reversed(table_specs()))
            for spec in specs:
                recorded = tables.get(spec.name)
                if recorded is None:
                    continue
                now = target_digest(cur, spec, ids_from=(run_id, spec.name))
                if now.count != recorded["loaded"] or now.checksum != recorded["checksum"]:
                    result.changed[spec.name] = (
                        f"loaded {recorded['loaded']} rows (checksum {recorded['checksum']}), "
                        f"now {now.count} of them remain (checksum {now.checksum})"
                    )
            if result.changed and not force:
                raise RollbackRefusedError(
                    f"rows loaded by run {run_id} were changed or removed since; refusing "
                    "(use --force to delete what remains of them anyway): "
                    + "; ".join(f"{t}: {why}" for t, why in result.changed.items())
                )
            for spec in specs:
                if spec.name not in tables:
                    continue
                try:
                    cur.execute(
                        sql.SQL(
                            "DELETE FROM {t} WHERE {pk} IN (SELECT unnest(ids) FROM {s}.run_rows "
                            "WHERE run_id = %s AND table_name = %s)"
                        ).format(
                            t=sql.Identifier(spec.name),
                            pk=sql.Identifier(spec.pk),
                            s=sql.Identifier(LEDGER_SCHEMA),
                        ),
                        (run_id, spec.name),
                    )
                except psycopg.errors.ForeignKeyViolation as exc:
                    cause = translate_db_error(exc)
                    assert isinstance(cause, ReferenceViolationError)
                    raise MigrationError(
                        f"cannot roll back run {run_id}: rows added since the migration still "
                        f"reference its {spec.name} rows ({cause}); nothing was deleted"
                    ) from exc
                result.deleted[spec.name] = cur.rowcount
            cur.execute(
                f"UPDATE {LEDGER_SCHEMA}.runs SET rolled_back_at = now() WHERE run_id = %s",  # noqa: S608
                (run_id,),
            )
            trans.commit()
        except DRIVER_ERRORS as exc:
            raise target_error(target_url, exc, "rollback failed; nothing was deleted") from exc
    return result


def _ledger_entry(cur: psycopg.Cursor[Any], run_id: str, url: str) -> dict[str, Any]:
    cur.execute("SELECT to_regclass(%s)", (f"{LEDGER_SCHEMA}.runs",))
    row = cur.fetchone()
    if not row or row[0] is None:
        raise MigrationError(f"{hidden(url)} has no migration ledger: no run to roll back")
    try:
        cur.execute(
            f"SELECT tables, rolled_back_at, superseded_by FROM {LEDGER_SCHEMA}.runs "  # noqa: S608
            "WHERE run_id = %s::uuid",
            (run_id,),
        )
    except psycopg.errors.InvalidTextRepresentation as exc:
        raise MigrationError(f"{run_id!r} is not a run id (a UUID)") from exc
    found = cur.fetchone()
    if found is None:
        raise MigrationError(f"run {run_id} is not in the ledger of {hidden(url)}")
    tables, rolled_back_at, superseded_by = found
    if rolled_back_at is not None:
        raise MigrationError(f"run {run_id} was already rolled back at {rolled_back_at}")
    if superseded_by is not None:
        raise MigrationError(
            f"run {run_id} was replaced by run {superseded_by} (--replace); roll that back instead"
        )
    return tables if isinstance(tables, dict) else dict(json.loads(tables))
