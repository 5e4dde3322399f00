"""Database access: engine and pool, the unit of work, and driver-error translation."""

from rms.db.database import Database
from rms.db.engine import create_db_engine

__all__ = ["Database", "create_db_engine"]
