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

from rms.clikit import LazyCommand

__all__ = ["LAZY_COMMANDS"]

#: The commands, each imported (with its module) only when it runs: ``rms db migrate``
#: loads neither ``runs`` nor ``verify``.
LAZY_COMMANDS = (
    LazyCommand(
        "migrate",
        "rms.migrate.cli.load",
        "migrate_cmd",
        short_help="Copy a SQLite file into PostgreSQL, verified.",
    ),
    LazyCommand(
        "load-quarantine",
        "rms.migrate.cli.load",
        "load_quarantine_cmd",
        short_help="Load a corrected quarantine file as a run of its own, verified.",
    ),
    LazyCommand(
        "verify",
        "rms.migrate.cli.verify",
        "verify_cmd",
        short_help="Compare a SQLite file with its PostgreSQL copy.",
    ),
    LazyCommand(
        "rollback",
        "rms.migrate.cli.runs",
        "rollback_cmd",
        short_help="Remove exactly the rows one run loaded.",
    ),
    LazyCommand(
        "runs",
        "rms.migrate.cli.runs",
        "runs_cmd",
        short_help="List the migration runs recorded in the target.",
    ),
)
