"""``rms db migrate``: an exact, atomic, verified copy of an RMS SQLite file into PostgreSQL.

Plain functions, usable without the CLI::

    target = open_target(settings)             # through rms.db: cold starts, credentials
    plan = preflight(Path("rms.db"), target, MigrateOptions(on_error="quarantine"))
    report = run_migration(plan, options)      # MigrationReport, or a MigrationError
    check = verify(Path("rms.db"), target)     # status "verified" or "mismatch"
    rollback(target, report.run_id, yes=True)  # removes exactly what the run loaded

A PostgreSQL URL may stand in for the target (its settings are read as for DATABASE_URL).

See docs/migration.md for the rules (date forms, quarantine, ledger) and their reasons.
"""

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
from rms.migrate.lineage import LineageOptions
from rms.migrate.load import MigrateOptions, MigrationPlan, preflight, run_migration
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import Difference, MigrationReport, Problem, TableReport
from rms.migrate.rollback import RollbackPlan, RollbackResult, plan_rollback, rollback
from rms.migrate.target import Target, open_target
from rms.migrate.verify import VerifyOptions, verify

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
