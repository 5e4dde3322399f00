"""``rms db migrate``: an exact, atomic, verified copy of an RMS SQLite file into PostgreSQL.

Plain functions, usable without the CLI::

    plan = preflight(Path("rms.db"), url, MigrateOptions(on_error="quarantine"))
    report = run_migration(plan, options)      # MigrationReport, or a MigrationError
    check = verify(Path("rms.db"), url)        # status "verified" or "mismatch"
    rollback(url, report.run_id)               # removes exactly what the run loaded

See docs/migration.md for the rules (date forms, quarantine, ledger) and their reasons.
"""

from rms.migrate.errors import (
    BadDataError,
    CommitUnknownError,
    ConcurrentMigrationError,
    ReplaceNotConfirmedError,
    RollbackRefusedError,
    SchemaMismatchError,
    SourceError,
    TargetError,
    TargetNotEmptyError,
    VerificationError,
)
from rms.migrate.load import MigrateOptions, MigrationPlan, preflight, run_migration
from rms.migrate.observe import MigrationObserver
from rms.migrate.report import Difference, MigrationReport, Problem, TableReport
from rms.migrate.rollback import RollbackResult, rollback
from rms.migrate.verify import VerifyOptions, verify

__all__ = [
    "BadDataError",
    "CommitUnknownError",
    "ConcurrentMigrationError",
    "Difference",
    "MigrateOptions",
    "MigrationObserver",
    "MigrationPlan",
    "MigrationReport",
    "Problem",
    "ReplaceNotConfirmedError",
    "RollbackRefusedError",
    "RollbackResult",
    "SchemaMismatchError",
    "SourceError",
    "TableReport",
    "TargetError",
    "TargetNotEmptyError",
    "VerificationError",
    "VerifyOptions",
    "preflight",
    "rollback",
    "run_migration",
    "verify",
]
