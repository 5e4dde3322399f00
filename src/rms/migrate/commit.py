"""The end of the run's transaction: the ledger row written with the data, then
COMMIT, and an outcome that is known even when the connection is lost during COMMIT.
"""

from __future__ import annotations

from typing import Any

from rms.db.errors import DRIVER_ERRORS
from rms.db.pg import PgCursor
from rms.migrate.errors import CommitUnknownError, TargetError
from rms.migrate.ledger import LEDGER_SCHEMA, has_ledger, write_run
from rms.migrate.plan import MigrateOptions, MigrationPlan
from rms.migrate.report import MigrationReport
from rms.migrate.target import Target, raw, target_error
from rms.transfer.spec import table_specs

__all__ = ["commit", "write_ledger"]


def write_ledger(
    cur: PgCursor, plan: MigrationPlan, report: MigrationReport, options: MigrateOptions
) -> None:
    tables = {
        name: {
            "read": t.read,
            "loaded": t.loaded,
            "quarantined": t.quarantined,
            "checksum": t.target_checksum,
        }
        for name, t in report.tables.items()
    }
    write_run(
        cur,
        {
            "run_id": plan.run_id,
            "started_at": plan.started_at,
            "source_path": str(plan.source.resolve()),
            "source_sha256": plan.source_sha256,
            "backup_path": None if options.dry_run and not options.keep_backup else report.backup,
            "tool_version": report.tool_version,
            "schema_revision": report.schema_revision,
            "on_error": options.on_error,
            "tables": tables,
            "options": report.options,
            "accounting": report.accounting,
        },
        {spec.name: spec.pk for spec in table_specs()},
    )


def commit(trans: Any, target: Target, run_id: str) -> None:
    """COMMIT; if it fails, ask the ledger (on a new connection) whether it happened.

    A connection lost while COMMIT is in flight leaves the outcome unknown to the client;
    the ledger row is written in the same transaction, so its presence decides.
    """
    try:
        trans.commit()
    except DRIVER_ERRORS as exc:  # caught to decide (did it commit?), then translated
        if _run_committed(target, run_id):
            return
        raise target_error(
            target.label, exc, "COMMIT failed; the run did not commit, the target is unchanged"
        ) from exc


def _run_committed(target: Target, run_id: str) -> bool:
    try:
        with target.connect() as conn:
            cur = raw(conn).cursor()
            if not has_ledger(cur):
                return False
            cur.execute(
                f"SELECT 1 FROM {LEDGER_SCHEMA}.runs WHERE run_id = %s",  # noqa: S608
                (run_id,),
            )
            return cur.fetchone() is not None
    except (TargetError, *DRIVER_ERRORS) as exc:  # type: ignore[misc]
        raise CommitUnknownError(
            f"the connection to {target.label} was lost during COMMIT of run "
            f"{run_id} and the ledger cannot be read: check rms_migrate.runs for it"
        ) from exc
