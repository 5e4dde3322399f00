"""The run's transaction, before and after the copy: the target taken for the run.

One migration at a time (an advisory lock), the schema created if the database was empty,
``ACCESS EXCLUSIVE`` locks on the tables (the application cannot write half-way), emptiness
checked again under the lock, then ``TRUNCATE`` (which also lets ``COPY FREEZE`` skip later
vacuum work; not for tables this transaction has just created, empty and as good for
``COPY FREEZE``) and the ledger made ready. After the copy the dropped keys, indexes and foreign
keys are rebuilt (:func:`rebuild_keys`; PostgreSQL validates every reference then).
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection

from rms.db.errors import LOCK_NOT_AVAILABLE, driver_errors, on_sqlstate
from rms.db.pg import PgCursor, sql
from rms.errors import RmsError
from rms.migrate.errors import (
    ConcurrentMigrationError,
    TargetError,
    TargetNotEmptyError,
    VerificationError,
)
from rms.migrate.ledger import ADVISORY_KEY, LEDGER_SCHEMA, ensure_ledger
from rms.migrate.plan import MigrateOptions, MigrationPlan
from rms.migrate.report import MigrationReport
from rms.migrate.target import (
    ConstraintDef,
    no_statement_timeout,
    restore_secondary,
    secondary_definitions,
    table_counts,
)
from rms.schema.head import create_head_schema, stored_revision
from rms.transfer.spec import TableSpec, table_specs

__all__ = ["lock_target", "rebuild_keys"]


def lock_target(
    cur: PgCursor,
    plan: MigrationPlan,
    options: MigrateOptions,
    report: MigrationReport,
    conn: Connection,
) -> None:
    specs = table_specs()
    cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_KEY,))
    row = cur.fetchone()
    if not row or not row[0]:
        raise ConcurrentMigrationError(
            f"another rms migration or rollback is running on {plan.target.label}; "
            "wait for it to finish"
        )
    no_statement_timeout(cur)
    cur.execute(
        sql.SQL("SET LOCAL lock_timeout = {}").format(
            sql.Literal(f"{int(options.lock_timeout_seconds * 1000)}ms")
        )
    )
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    if plan.needs_upgrade:
        if table_counts(cur, specs) or stored_revision(cur) is not None:
            raise TargetError("the target gained RMS tables since the preflight; run again")
        create_head_schema(conn)
        report.schema_upgraded = True
        report.schema_revision = stored_revision(cur)
    else:
        report.schema_revision = plan.target_revision
    names = sql.SQL(", ").join(sql.Identifier(s.name) for s in specs)
    in_use = TargetError(
        f"the RMS tables on {plan.target.label} are in use by another session "
        f"(waited {options.lock_timeout_seconds:g} s for the lock); stop the service and retry"
    )
    with on_sqlstate({LOCK_NOT_AVAILABLE: lambda _translated, _exc: in_use}):
        cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(names))
    if plan.needs_upgrade:
        # The tables were created empty by this transaction, just above: no other session
        # can see them before COMMIT, so they hold no rows, and COPY FREEZE accepts a table
        # created in the transaction as it does a truncated one. A TRUNCATE would only give
        # every table, index and TOAST table new empty files and leave the old ones for
        # COMMIT to unlink (docs/benchmarks.md, issue 31, step 7).
        counts: dict[str, int] = {}
    else:
        counts = table_counts(cur, specs)
        if sum(counts.values()) and not options.replace:
            raise TargetNotEmptyError(
                "the target gained rows since the preflight; nothing written", counts
            )
        if options.replace and plan.target_counts and counts != plan.target_counts:
            raise TargetError(
                "the target's row counts changed since you confirmed the replace; nothing written"
            )
        cur.execute(sql.SQL("TRUNCATE {}").format(names))
    ensure_ledger(cur)
    if sum(counts.values()):
        cur.execute(
            f"UPDATE {LEDGER_SCHEMA}.runs SET superseded_by = %s "  # noqa: S608
            "WHERE superseded_by IS NULL AND rolled_back_at IS NULL",
            (plan.run_id,),
        )


def rebuild_keys(
    cur: PgCursor,
    label: str,
    specs: Sequence[TableSpec],
    dropped: Sequence[ConstraintDef],
    defs: list[ConstraintDef],
) -> None:
    """Recreate the keys, indexes and foreign keys dropped for the copy; they must come back
    exactly as they were (``defs``: all of them, read before the drop)."""
    if not dropped:
        return
    with driver_errors("rebuild", where=f"target {label}", into=_not_rebuilt):
        restore_secondary(cur, dropped)
    if secondary_definitions(cur, [s.name for s in specs]) != defs:
        raise VerificationError("the target's keys and indexes did not come back")


def _not_rebuilt(translated: RmsError, _exc: BaseException) -> VerificationError:
    return VerificationError(
        f"a key, index or foreign key could not be rebuilt over the loaded rows: {translated}"
    )
