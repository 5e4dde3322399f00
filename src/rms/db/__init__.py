"""Database access: engine and pool, the unit of work, and driver-error translation.

:func:`build_database` is how everything (service, CLI, migration) gets a :class:`Database`.

The three names are imported on first use (PEP 562), so that a submodule such as
:mod:`rms.db.errors` can be imported without the engine, the ORM and the settings.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from rms.lazy import attribute_from

if TYPE_CHECKING:
    from rms.db.build import build_database
    from rms.db.database import Database
    from rms.db.engine import create_db_engine

__all__ = ["Database", "build_database", "create_db_engine"]

_HOMES = {
    "Database": "rms.db.database",
    "build_database": "rms.db.build",
    "create_db_engine": "rms.db.engine",
}


def __getattr__(name: str) -> Any:
    value = attribute_from(__name__, _HOMES, name)
    globals()[name] = value
    return value
