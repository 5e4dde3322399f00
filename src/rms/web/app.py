"""Registration: the one call the app factory makes (:func:`install_web`)."""

from __future__ import annotations

import hashlib
import secrets

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from rms.auth.keys import load_session_key
from rms.web import accounts, demo, docs, manage, pages
from rms.web.render import STATIC, make_templates
from rms.web.routing import page_wait, waking_page

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    """Add the pages, their static files and the offline API docs to ``app``."""
    settings = app.state.settings
    key = load_session_key(settings) if settings.rms_auth == "on" else secrets.token_bytes(32)
    app.state.web_csrf_key = hashlib.sha256(b"rms.web.csrf\0" + key).digest()
    app.state.web_templates = make_templates()
    app.state.login_page = pages.login_page
    app.state.waking_page = waking_page  # a session not checkable while the database wakes
    app.state.page_wait = page_wait  # how long a page's session check waits for it
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    docs.install(app)
    app.include_router(pages.router())
    app.include_router(manage.router())
    app.include_router(accounts.router())
    app.include_router(demo.router())
