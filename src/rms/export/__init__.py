"""``rms db export``: a PostgreSQL database into a new SQLite file, exact and verified.

The way back from PostgreSQL (RDS, Aurora) to the embedded database, or to the application's
own desktop build: the file opens in our service (``DATABASE_URL=sqlite:///file``) and in the
application's Prisma client alike. Plain functions, usable without the CLI::

    report = export_database(build_database(settings), Path("rms.db"),
                             ExportOptions(work_root=settings.state_path("export")))

See docs/export.md for what the file holds, how it is verified and why.
"""

from typing import TYPE_CHECKING, Any

from rms.export.errors import (
    ExportDataError,
    ExportError,
    ExportSourceError,
    ExportTargetError,
    ExportVerificationError,
)
from rms.export.observe import ExportObserver
from rms.export.report import ExportReport, Mismatch, TableResult, ValueProblem

if TYPE_CHECKING:
    from rms.export.run import DATETIME_STORAGE, ExportOptions, export_database

#: Loaded on first use (PEP 562): importing the package (as ``rms --help`` does, through
#: the CLI) must not import SQLAlchemy and psycopg.
_LAZY = {"DATETIME_STORAGE", "ExportOptions", "export_database"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        from rms.export import run

        return getattr(run, name)
    raise AttributeError(f"module 'rms.export' has no attribute {name!r}")


__all__ = [
    "DATETIME_STORAGE",
    "ExportDataError",
    "ExportError",
    "ExportObserver",
    "ExportOptions",
    "ExportReport",
    "ExportSourceError",
    "ExportTargetError",
    "ExportVerificationError",
    "Mismatch",
    "TableResult",
    "ValueProblem",
    "export_database",
]
