"""Package attributes imported on first use (PEP 562), for packages whose names pull in heavy
modules (SQLAlchemy, psycopg, the models) that a caller of a light submodule must not pay for.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

__all__ = ["attribute_from"]


def attribute_from(package: str, homes: dict[str, str], name: str) -> Any:
    """``name`` of ``package``, imported from the module ``homes`` names for it."""
    home = homes.get(name)
    if home is None:
        raise AttributeError(f"module {package!r} has no attribute {name!r}")
    return getattr(import_module(home), name)
