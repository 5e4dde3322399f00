"""How a running migration tells the outside world what it is doing.

The engine calls an observer at each step; the CLI turns that into rich progress bars, tests
use it to cut the connection at a chosen point. The default does nothing, so library callers
and non-terminal runs stay quiet.
"""

from __future__ import annotations

__all__ = ["MigrationObserver"]


class MigrationObserver:
    """No-op base; override what you need."""

    def event(self, name: str) -> None:
        """A named point of the run, e.g. ``backup-done``, ``rows:trades``, ``before-commit``."""

    def table_started(self, table: str, total: int) -> None:
        """Reading ``table`` begins; ``total`` rows are in the source."""

    def table_advanced(self, table: str, rows: int) -> None:
        """``rows`` more rows of ``table`` were read and converted."""

    def table_finished(self, table: str) -> None:
        """``table`` is done (loaded or, in a verify, digested)."""
