"""Registration: the one call the app factory makes (:func:`install_web`).

The app factory also hands the pages' sign-in page (:func:`rms.web.pages.login_page`) to the
sign-in routes, and their waking page and wait (:mod:`rms.web.routing`) to the sign-in gate.
"""

from __future__ import annotations

import hashlib
import secrets
from functools import cache

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles

from rms.auth.keys import load_session_key
from rms.web import accounts, demo, docs, manage, pages
from rms.web.render import STATIC, make_templates

__all__ = ["install_web"]


def install_web(app: FastAPI) -> None:
    """Add the pages, their static files and the offline API docs to ``app``."""
    settings = app.state.settings
    key = load_session_key(settings) if settings.rms_auth == "on" else secrets.token_bytes(32)
    app.state.web_csrf_key = hashlib.sha256(b"rms.web.csrf\0" + key).digest()
    app.state.web_templates = make_templates()
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    docs.install(app)
    for router in _page_routers():
        app.include_router(router)


@cache
def _page_routers() -> tuple[APIRouter, ...]:
    """The pages' routers, built once per process and included in every app built in it
    (as :func:`rms.app._api_routers`, and for the same reasons: nothing in them is one
    app's)."""
    return (pages.router(), manage.router(), accounts.router(), demo.router())
