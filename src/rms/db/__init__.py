"""Database access: engine and pool, the unit of work, and driver-error translation.

:func:`build_database` is how everything (service, CLI, migration) gets a :class:`Database`.
"""

from rms.db.build import build_database
from rms.db.database import Database
from rms.db.engine import create_db_engine

__all__ = ["Database", "build_database", "create_db_engine"]
