"""How the pages reach the database: reads and writes on the app's database, writes under
the reference cache's write guard, and the Undo of a delete (shared by every list)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from sqlalchemy.orm import Session

from rms.db.database import Database
from rms.errors import NotFoundError, RmsError, StaleVersionError
from rms.http.cache import ReferenceCache
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.web.render import render
from rms.web.words import plain

__all__ = ["page_db", "restore", "write"]


def page_db(request: Request) -> Database:
    """The app's database."""
    db: Database = request.app.state.db
    return db


def write(request: Request, resource: str, work: Callable[[Session], Any]) -> Any:
    """``work`` in a write transaction, the reference cache of ``resource`` kept coherent."""
    cache: ReferenceCache = request.app.state.cache
    with cache.writing(resource):
        return page_db(request).run(work, write=True)


def restore(request: Request, resource: str, key: str, version: int | None) -> Any:
    """Undo the delete of a row: the restored row, or the page (409) saying why not."""
    spec = RESOURCES[resource]
    try:
        return write(request, resource, lambda s: crud.restore_row(s, spec, key, version))
    except RmsError as exc:
        if isinstance(exc, NotFoundError):
            raise
        text = exc.message.removeprefix(f"{exc.field}: ") if exc.field else exc.message
        if isinstance(exc, StaleVersionError):
            text = "it was changed or deleted again since; nothing was restored"
        response: HTMLResponse = render(
            request,
            "error.html",
            409,
            title="Not restored",
            message=f"Not restored: {plain(text)}.",
        )
        return response
