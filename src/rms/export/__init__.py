"""``rms db export``: a PostgreSQL database into a new SQLite file, exact and verified.

The way back from PostgreSQL (RDS, Aurora) to the embedded database, or to the application's
own desktop build: the file opens in our service (``DATABASE_URL=sqlite:///file``) and in the
application's Prisma client alike. Plain functions, usable without the CLI::

    report = export_database(build_database(settings), Path("rms.db"),
                             ExportOptions(work_root=settings.state_path("export")))

See docs/export.md for what the file holds, how it is verified and why.
"""

from rms.export.errors import (
    ExportDataError,
    ExportError,
    ExportSourceError,
    ExportTargetError,
    ExportVerificationError,
)
from rms.export.report import ExportReport, Mismatch, TableResult, ValueProblem
from rms.export.run import DATETIME_STORAGE, ExportObserver, ExportOptions, export_database

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
