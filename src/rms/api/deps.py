"""Request-scoped access to the objects the app factory created."""

from __future__ import annotations

from fastapi import Request

from rms.db.database import Database

__all__ = ["database"]


def database(request: Request) -> Database:
    db: Database = request.app.state.db
    return db
