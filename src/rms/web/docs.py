"""``/docs`` (Swagger UI) and ``/redoc``, with their assets served by the application.

The assets are the files of the installed ``fastapi-offline`` package (Swagger UI's bundle
and stylesheet, ReDoc's standalone bundle), served under ``/docs/assets/``, behind sign-in
like the pages, so the docs work with no network and no request leaves the machine.

What the Content-Security-Policy admits, and why:

- both pages: ``script-src 'self'`` plus the SHA-256 hash of the page's one inline script
  (its configuration), never ``'unsafe-inline'`` for scripts;
- ``/docs``: ``style-src 'self'``, ``img-src 'self' data:`` (Swagger UI's icons are data
  URLs);
- ``/redoc``: ``style-src 'self' 'unsafe-inline'``, because ReDoc (styled-components) writes
  its styles into ``<style>`` elements at run time, which no hash can name; and
  ``worker-src blob:`` for the search worker it starts from a blob. No fonts are fetched
  (``with_google_fonts=False``).
"""

from __future__ import annotations

from pathlib import Path

import fastapi_offline
from fastapi import FastAPI
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles

from rms.http.middleware import csp_allowing_inline

__all__ = ["ASSETS", "install"]

#: Where the installed package keeps the docs' assets.
ASSETS = Path(fastapi_offline.__file__).parent / "static"
_PREFIX = "/docs/assets"


def _page(html: HTMLResponse, extra: str) -> HTMLResponse:
    body = bytes(html.body).decode()
    policy = csp_allowing_inline(body, scripts=[], extra=extra)
    return HTMLResponse(body, headers={"Content-Security-Policy": policy})


def install(app: FastAPI) -> None:
    app.mount(_PREFIX, StaticFiles(directory=ASSETS), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def docs() -> HTMLResponse:
        html = get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="RMS API",
            swagger_js_url=f"{_PREFIX}/swagger-ui-bundle.js",
            swagger_css_url=f"{_PREFIX}/swagger-ui.css",
            swagger_favicon_url=f"{_PREFIX}/favicon.png",
        )
        return _page(html, "style-src 'self'; img-src 'self' data:")

    @app.get("/redoc", include_in_schema=False)
    def redoc() -> HTMLResponse:
        html = get_redoc_html(
            openapi_url="/openapi.json",
            title="RMS API",
            redoc_js_url=f"{_PREFIX}/redoc.standalone.js",
            redoc_favicon_url=f"{_PREFIX}/favicon.png",
            with_google_fonts=False,
        )
        return _page(
            html, "style-src 'self' 'unsafe-inline'; img-src 'self' data:; worker-src blob:"
        )
