"""Request-scoped access to the objects the app factory created."""

from __future__ import annotations

from fastapi import Request

from rms.db.database import Database
from rms.http.cache import ReferenceCache
from rms.settings import Settings

__all__ = ["app_settings", "database", "reference_cache"]


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def reference_cache(request: Request) -> ReferenceCache:
    cache: ReferenceCache = request.app.state.cache
    return cache


def app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings
