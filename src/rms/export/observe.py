"""What an export tells the outside world, in a module of its own so that the CLI (and
``rms --help``) can subclass it without importing the export machinery (SQLAlchemy,
psycopg) before a command runs."""

from __future__ import annotations

from rms.migrate.observe import MigrationObserver

__all__ = ["ExportObserver"]


class ExportObserver(MigrationObserver):
    """What an export tells the outside world: the migration's named points and table
    progress, plus a line for each phase. The default does nothing."""

    def phase(self, text: str) -> None:
        """A step begins (``verifying``), in words for a person."""
