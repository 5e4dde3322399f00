"""Rendering: the Jinja2 environment, formatting filters, and the CSRF token of forms.

The environment is made per application (by :func:`make_templates`), never at import.
Autoescape is on for every template, so a symbol or an account name is text, never HTML.

CSRF: the sign-in gate already refuses an unsafe request carried by the session cookie (or
made with sign-in off) whose ``Origin`` (or ``Referer``) is not this service. The forms add
a token as a second line, for browsers or proxies that strip both headers: the hidden
``csrf`` field is a keyed hash of the session cookie itself (with sign-in off, of a fixed
label under the process's random key). The cookie is ``HttpOnly`` and ``SameSite=Strict``, so a
page on another site can neither read it nor derive the token; nothing is stored on the
server (a Lambda-friendly "signed double submit").
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import date, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from rms.auth import Principal
from rms.auth.sessions import SESSION_COOKIE

__all__ = ["csrf_ok", "csrf_token", "make_templates", "render"]

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"


def money(value: float | None) -> str:
    """``1234.5`` -> ``1,234.50``; a negative amount keeps its sign (``-12.00``)."""
    if value is None:
        return ""
    return f"{value:,.2f}"


def percent(value: float | None) -> str:
    return "" if value is None else f"{value * 100:.2f} %"


def day(value: datetime | date | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


def make_templates() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, percent=percent, day=day)
    return env


def csrf_token(request: Request) -> str:
    """The form token of this browser ('' for bearer requests, which carry no ambient one).

    With a session, a keyed hash of the session cookie; with sign-in off (no cookie, but a
    browser on this machine is still an ambient credential), a keyed hash of a fixed label
    under the process's own random key: another site can neither read it nor derive it.
    """
    principal = getattr(request.state, "principal", None)
    if not isinstance(principal, Principal) or principal.via == "bearer":
        return ""
    if principal.via == "none":
        material = "rms.web.sign-in-off"
    else:
        material = request.cookies.get(SESSION_COOKIE, "")
        if not material:
            return ""
    key = request.app.state.web_csrf_key
    return hmac.new(key, material.encode(), hashlib.sha256).hexdigest()


def csrf_ok(request: Request, presented: str) -> bool:
    """A form carried by the cookie or by sign-in off must bring its token; bearer, not."""
    principal = getattr(request.state, "principal", None)
    if isinstance(principal, Principal) and principal.via == "bearer":
        return True
    expected = csrf_token(request)
    return bool(expected) and hmac.compare_digest(expected, presented)


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.web_templates
    principal = getattr(request.state, "principal", None)
    html = env.get_template(template).render(
        request=request,
        path=request.url.path,
        csrf=csrf_token(request),
        signed_in=isinstance(principal, Principal) and principal.method != "off",
        **context,
    )
    return HTMLResponse(html, status_code=status_code)
