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

import base64
import hashlib
import hmac
import json
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any, TypedDict

from fastapi import Request
from fastapi.responses import HTMLResponse, RedirectResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

from rms.auth import Principal
from rms.auth.sessions import SESSION_COOKIE
from rms.http.problems import ICON_HREF

__all__ = [
    "Flash",
    "csrf_ok",
    "csrf_token",
    "make_templates",
    "redirect",
    "refused",
    "render",
]

#: The cookie that carries a success message across the redirect after a form (read once).
FLASH_COOKIE = "rms_flash"

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


@cache
def make_templates() -> Environment:
    """The pages' template environment, one per process: every app built in it shares its
    compiled templates (nothing in it is one app's)."""
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(money=money, percent=percent, day=day)
    env.globals["icon_href"] = ICON_HREF
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


class Flash(TypedDict, total=False):
    """What the page after a redirect says: ``text``, and an ``undo`` form (a path on this
    site to POST to, with the ``version`` it needs)."""

    text: str
    undo: str
    version: int


def _flash_mac(request: Request, payload: str) -> str:
    key = hashlib.sha256(b"rms.web.flash\0" + request.app.state.web_csrf_key).digest()
    return hmac.new(key, payload.encode(), hashlib.sha256).hexdigest()[:32]


def redirect(request: Request, target: str, flash: Flash | None = None) -> RedirectResponse:
    """A 303 to ``target`` (a path on this site) carrying ``flash`` to the next page.

    The message travels in a short-lived cookie, signed so that only this service's own
    words are shown (nothing kept on the server, so any instance shows it); the next page
    rendered shows it once and clears it.
    """
    response = RedirectResponse(target, status_code=303)
    if flash:
        payload = base64.urlsafe_b64encode(json.dumps(flash).encode()).decode()
        value = f"{payload}.{_flash_mac(request, payload)}"
        response.set_cookie(
            FLASH_COOKIE, value, max_age=120, path="/", httponly=True, samesite="strict"
        )
    return response


def _take_flash(request: Request) -> Flash | None:
    payload, _, mac = request.cookies.get(FLASH_COOKIE, "").partition(".")
    if not payload or not hmac.compare_digest(mac, _flash_mac(request, payload)):
        return None
    try:
        flash: Flash = json.loads(base64.urlsafe_b64decode(payload))
    except ValueError:
        return None
    return flash


def render(request: Request, template: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    env: Environment = request.app.state.web_templates
    principal = getattr(request.state, "principal", None)
    flash = _take_flash(request) if request.method == "GET" else None
    html = env.get_template(template).render(
        request=request,
        path=request.url.path,
        csrf=csrf_token(request),
        signed_in=isinstance(principal, Principal) and principal.method != "off",
        flash=flash,
        **context,
    )
    response = HTMLResponse(html, status_code=status_code)
    if FLASH_COOKIE in request.cookies and request.method == "GET":
        response.delete_cookie(FLASH_COOKIE, path="/", httponly=True, samesite="strict")
    return response


def refused(request: Request) -> HTMLResponse:
    """The answer to a form without its CSRF token (403)."""
    return render(
        request,
        "error.html",
        403,
        title="Form refused",
        message="This form is out of date or did not come from this site's pages; "
        "reload the page and send it again.",
    )
