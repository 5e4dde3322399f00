"""``rms db rollback``: remove exactly the rows one committed run loaded (and ``rms db
runs``: the runs the ledger records, :func:`recorded_runs`).

The ledger holds, per table, the ids the run loaded and the checksum of those rows as
loaded (its archived values in ``rms_archive`` and the risk groups it created included).
Before deleting anything the rows with those ids are digested again: if any was changed
(any column: the checksum covers them all, ``version`` and ``updatedAt`` included) or
removed since, the rollback refuses unless forced, naming the tables. Rows the application
added later are not in the ledger and are left alone; if they reference rows of the run,
the foreign keys stop the delete and the rollback fails as a whole.

It runs in two steps so that nobody is asked a question while a transaction is open (the
Terraform's ``idle_in_transaction_session_timeout`` is 5 minutes): :func:`plan_rollback`
reads what would be deleted; after the confirmation, :func:`rollback` does it in one
transaction under the same advisory lock as a migration, after checking that what it is
about to delete is still exactly what was shown.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from rms.db.errors import FOREIGN_KEY_VIOLATION, on_sqlstate
from rms.db.pg import PgCursor, sql
from rms.errors import MigrationError, RmsError
from rms.migrate.errors import (
    ConcurrentMigrationError,
    RollbackNotConfirmedError,
    RollbackRefusedError,
)
from rms.migrate.ledger import (
    ADVISORY_KEY,
    KIND_QUARANTINE,
    LEDGER_SCHEMA,
    RunRecord,
    find_run,
    list_runs,
)
from rms.migrate.target import (
    Target,
    as_target,
    no_statement_timeout,
    raw,
    target_digest,
    target_errors,
)
from rms.transfer.spec import table_specs

if TYPE_CHECKING:
    from rms.settings import Settings


__all__ = ["RollbackPlan", "RollbackResult", "plan_rollback", "recorded_runs", "rollback"]


@dataclass
class RollbackPlan:
    """What a rollback of ``run_id`` would delete now, and what changed since the run."""

    run_id: str
    #: Rows of the run still in the target, per table (what would be deleted).
    rows: dict[str, int] = field(default_factory=dict)
    #: Tables whose rows of the run were changed or removed since (why, per table).
    changed: dict[str, str] = field(default_factory=dict)
    source_path: str = ""
    finished_at: str = ""

    @property
    def total(self) -> int:
        return sum(self.rows.values())

    def describe(self) -> str:
        listed = ", ".join(f"{t} {n}" for t, n in self.rows.items() if n) or "nothing"
        return f"{self.total} row(s) of run {self.run_id} ({listed})"


@dataclass
class RollbackResult:
    run_id: str
    deleted: dict[str, int] = field(default_factory=dict)
    changed: dict[str, str] = field(default_factory=dict)
    forced: bool = False


def _assess(cur: PgCursor, run_id: str, label: str) -> tuple[RollbackPlan, list[str]]:
    record = find_run(cur, run_id, label)
    if record.rolled_back_at is not None:
        raise MigrationError(f"run {run_id} was already rolled back at {record.rolled_back_at}")
    if record.superseded_by is not None:
        raise MigrationError(
            f"run {run_id} was replaced by run {record.superseded_by} (--replace); "
            "roll that back instead"
        )
    later = [
        r
        for r in list_runs(cur)
        if r.active and r.run_id != record.run_id and r.finished_at > record.finished_at
    ]
    if later:
        raise RollbackRefusedError(
            f"run {record.run_id} has later run(s) on top of it, whose rows may reference "
            "its rows: "
            + "; ".join(
                f"{r.run_id} ({'quarantine load of' if r.kind == KIND_QUARANTINE else 'from'} "
                f"{r.source_path}, committed {r.finished_at.isoformat()})"
                for r in later
            )
            + "; nothing was deleted: roll those back first, newest first (rms db rollback "
            f"{later[0].run_id})"
        )
    plan = RollbackPlan(
        run_id=record.run_id,
        source_path=record.source_path,
        finished_at=record.finished_at.isoformat(),
    )
    tables = [s.name for s in reversed(table_specs()) if s.name in record.tables]
    for spec in reversed(table_specs()):
        recorded = record.tables.get(spec.name)
        if recorded is None:
            continue
        now = target_digest(cur, spec, ids_from=(record.run_id, spec.name))
        plan.rows[spec.name] = now.count
        if now.count != recorded["loaded"] or now.checksum != recorded["checksum"]:
            plan.changed[spec.name] = (
                f"loaded {recorded['loaded']} rows (checksum {recorded['checksum']}), "
                f"now {now.count} of them remain (checksum {now.checksum})"
            )
    return plan, tables


def _refuse_changed(plan: RollbackPlan) -> RollbackRefusedError:
    return RollbackRefusedError(
        f"rows loaded by run {plan.run_id} were changed or removed since; refusing "
        "(use --force to delete what remains of them anyway): "
        + "; ".join(f"{t}: {why}" for t, why in plan.changed.items())
    )


def recorded_runs(target: Target | str, *, settings: Settings | None = None) -> list[RunRecord]:
    """The runs the target's ledger records (read only)."""
    target = as_target(target, settings)
    try:
        with (
            target.connect() as conn,
            target_errors(target.label, "cannot read the ledger"),
        ):
            cur = raw(conn).cursor()
            no_statement_timeout(cur)
            runs = list_runs(cur)
            conn.rollback()
    finally:
        if target.owned:
            target.dispose()
    return runs


def plan_rollback(
    target: Target | str, run_id: str, *, force: bool = False, settings: Settings | None = None
) -> RollbackPlan:
    """What :func:`rollback` would delete (read only); refuses as it would."""
    target = as_target(target, settings)
    try:
        with (
            target.connect() as conn,
            target_errors(target.label, "cannot read the ledger"),
        ):
            cur = raw(conn).cursor()
            no_statement_timeout(cur)
            plan, _tables = _assess(cur, run_id, target.label)
            conn.rollback()
    finally:
        if target.owned:
            target.dispose()
    if plan.changed and not force:
        raise _refuse_changed(plan)
    return plan


def rollback(
    target: Target | str,
    run_id: str,
    *,
    force: bool = False,
    yes: bool = False,
    confirm: Callable[[RollbackPlan], bool] | None = None,
    expected: RollbackPlan | None = None,
    settings: Settings | None = None,
) -> RollbackResult:
    """Delete the run's rows in reverse foreign-key order, in one transaction.

    Without ``yes`` it asks ``confirm`` with the plan first (and refuses when there is
    nobody to ask: ``confirm`` None). ``expected`` is a plan already shown to the user: the
    rollback refuses if the target no longer matches it.
    """
    target = as_target(target, settings)
    try:
        if not yes:
            shown = expected or plan_rollback(target, run_id, force=force)
            if confirm is None:
                raise RollbackNotConfirmedError(
                    f"refusing to delete {shown.describe()} without --yes "
                    "(cannot ask: not a terminal)"
                )
            if not confirm(shown):
                raise RollbackNotConfirmedError("rollback not confirmed; nothing was deleted")
            expected = shown
        return _rollback(target, run_id, force, expected)
    finally:
        if target.owned:
            target.dispose()


def _still_referenced(run_id: str, table: str) -> Callable[[RmsError, BaseException], RmsError]:
    def make(cause: RmsError, _exc: BaseException) -> RmsError:
        return MigrationError(
            f"cannot roll back run {run_id}: rows added since the migration still "
            f"reference its {table} rows ({cause}); nothing was deleted"
        )

    return make


def _rollback(
    target: Target, run_id: str, force: bool, expected: RollbackPlan | None
) -> RollbackResult:
    result = RollbackResult(run_id=run_id, forced=force)
    with (
        target.connect() as conn,
        target_errors(target.label, "rollback failed; nothing was deleted"),
    ):
        trans = conn.begin()
        cur = raw(conn).cursor()
        cur.execute("SELECT pg_try_advisory_xact_lock(%s)", (ADVISORY_KEY,))
        row = cur.fetchone()
        if not row or not row[0]:
            raise ConcurrentMigrationError(
                f"another rms migration or rollback is running on {target.label}"
            )
        no_statement_timeout(cur)
        plan, tables = _assess(cur, run_id, target.label)
        result.changed = dict(plan.changed)
        if plan.changed and not force:
            raise _refuse_changed(plan)
        if expected is not None and plan.rows != expected.rows:
            raise MigrationError(
                f"the target changed since the rollback was confirmed (now "
                f"{plan.describe()}); nothing was deleted: run it again"
            )
        specs = {s.name: s for s in table_specs()}
        for name in tables:
            spec = specs[name]
            with on_sqlstate({FOREIGN_KEY_VIOLATION: _still_referenced(run_id, spec.name)}):
                cur.execute(
                    sql.SQL(
                        "DELETE FROM {t} WHERE {pk} IN (SELECT unnest(ids) FROM {s}.run_rows "
                        "WHERE run_id = %s AND table_name = %s)"
                    ).format(
                        t=sql.Identifier(spec.name),
                        pk=sql.Identifier(spec.pk),
                        s=sql.Identifier(LEDGER_SCHEMA),
                    ),
                    (plan.run_id, spec.name),
                )
            result.deleted[spec.name] = cur.rowcount
        cur.execute(
            f"UPDATE {LEDGER_SCHEMA}.runs SET rolled_back_at = now() WHERE run_id = %s",  # noqa: S608
            (plan.run_id,),
        )
        trans.commit()
    return result
