"""``rms db migrate | load-quarantine | verify | rollback | runs``: thin commands over
:mod:`rms.migrate`, a module per group (:mod:`.load`, :mod:`.verify`, :mod:`.runs`), what
they share in :mod:`.common` and what they show in :mod:`.output`.

The target is the database the settings name (``DATABASE_URL``, or the ``DB_*`` variables
with ``DB_SECRET_ARN`` / ``DB_SSM_PARAMETER`` / ``DB_IAM_AUTH``), reached through
:mod:`rms.db` like the service's; ``--to URL`` names another one. A ``--to`` URL holding a
password works but is warned about: it is in the shell history and visible in ``ps``.

Progress bars (per table, with rows/s) only when stdout is a terminal; otherwise only the
warnings (stderr) and the final summary (stdout), never wrapped. While the target wakes
from a pause, each connection attempt is a line on stderr (from :mod:`rms.db`). Failures
are :class:`rms.errors.RmsError` subclasses, printed once by ``rms.cli.main``. URLs are
always shown without their password. A run's report, backup and quarantine file go to
``<state dir>/migrate/<run id>/`` unless ``--report`` / ``--quarantine-file`` say otherwise.
"""

from __future__ import annotations

import typer

from rms.migrate.cli.load import load_quarantine_cmd, migrate_cmd
from rms.migrate.cli.runs import rollback_cmd, runs_cmd
from rms.migrate.cli.verify import verify_cmd

__all__ = ["register"]


def register(db_app: typer.Typer) -> None:
    """Add ``migrate``, ``load-quarantine``, ``verify``, ``rollback`` and ``runs`` to the
    ``rms db`` group."""
    db_app.command("migrate", short_help="Copy a SQLite file into PostgreSQL, verified.")(
        migrate_cmd
    )
    db_app.command(
        "load-quarantine",
        short_help="Load a corrected quarantine file as a run of its own, verified.",
    )(load_quarantine_cmd)
    db_app.command("verify", short_help="Compare a SQLite file with its PostgreSQL copy.")(
        verify_cmd
    )
    db_app.command("rollback", short_help="Remove exactly the rows one run loaded.")(rollback_cmd)
    db_app.command("runs", short_help="List the migration runs recorded in the target.")(runs_cmd)
