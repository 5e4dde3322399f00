"""Request-scoped access to the objects the app factory created."""

from __future__ import annotations

from fastapi import Request

from rms.api.cache import TTLCache
from rms.db.database import Database

__all__ = ["database", "reference_cache"]


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def reference_cache(request: Request) -> TTLCache:
    cache: TTLCache = request.app.state.cache
    return cache
