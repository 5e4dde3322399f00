"""``rms db migrate``: an exact, atomic, verified copy of an RMS SQLite file into PostgreSQL.

Plain functions, usable without the CLI::

    target = open_target(settings)             # through rms.db: cold starts, credentials
    plan = preflight(Path("rms.db"), target, MigrateOptions(on_error="quarantine"))
    report = run_migration(plan, options)      # MigrationReport, or a MigrationError
    check = verify(Path("rms.db"), target)     # status "verified" or "mismatch"
    rollback(target, report.run_id, yes=True)  # removes exactly what the run loaded

A PostgreSQL URL may stand in for the target, with ``settings=`` for the rest of the
configuration (cold-start budget, TLS); without them the defaults: nothing is read from the
environment here (the CLI reads it, :func:`rms.settings.load_settings`).

See docs/migration.md for the rules (date forms, quarantine, ledger) and their reasons.
"""

from typing import TYPE_CHECKING, Any

from rms.lazy import attribute_from
from rms.migrate.errors import (
    BadDataError,
    CommitUnknownError,
    ConcurrentMigrationError,
    ReplaceNotConfirmedError,
    ReportNotWrittenError,
    RollbackNotConfirmedError,
    RollbackRefusedError,
    SchemaMismatchError,
    SourceChangedError,
    SourceError,
    TargetError,
    TargetNotEmptyError,
    VerificationError,
)
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import Difference, MigrationReport, Problem, TableReport

if TYPE_CHECKING:
    from rms.migrate.lineage import LineageOptions
    from rms.migrate.load import run_migration
    from rms.migrate.plan import MigrateOptions, MigrationPlan, preflight
    from rms.migrate.target import Target, open_target
    from rms.migrate.unload import RollbackPlan, RollbackResult, plan_rollback, rollback
    from rms.migrate.verification import VerifyOptions, verify

#: Loaded on first use (PEP 562): the CLI imports this package to register its commands,
#: and `rms --help` must not pay for SQLAlchemy, psycopg and the models.
_LAZY = {
    "LineageOptions": "lineage",
    "MigrateOptions": "plan",
    "MigrationPlan": "plan",
    "preflight": "plan",
    "run_migration": "load",
    "RollbackPlan": "unload",
    "RollbackResult": "unload",
    "plan_rollback": "unload",
    "rollback": "unload",
    "Target": "target",
    "open_target": "target",
    "VerifyOptions": "verification",
    "verify": "verification",
}


def __getattr__(name: str) -> Any:
    return attribute_from(__name__, {k: f"rms.migrate.{v}" for k, v in _LAZY.items()}, name)


__all__ = [
    "BadDataError",
    "CommitUnknownError",
    "ConcurrentMigrationError",
    "Difference",
    "LineageOptions",
    "MigrateOptions",
    "MigrationObserver",
    "MigrationPlan",
    "MigrationReport",
    "Problem",
    "ReplaceNotConfirmedError",
    "ReportNotWrittenError",
    "RollbackNotConfirmedError",
    "RollbackPlan",
    "RollbackRefusedError",
    "RollbackResult",
    "SchemaMismatchError",
    "SourceChangedError",
    "SourceError",
    "TableReport",
    "Target",
    "TargetError",
    "TargetNotEmptyError",
    "VerificationError",
    "VerifyOptions",
    "open_target",
    "plan_rollback",
    "preflight",
    "rollback",
    "run_migration",
    "verify",
]
