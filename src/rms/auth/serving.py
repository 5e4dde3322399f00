"""What ``rms serve`` says about sign-in, and the access log that must not repeat a token.

The sign-in URL carries the local token in its query (as Jupyter's does), so the server's
access log line for it would too: :func:`mask_access_log` puts a filter on uvicorn's
access logger that masks every registered secret and any ``token=`` query value in the
request path (uvicorn's access formatter reads the record's ``args`` tuple, so the filter
rewrites those in place rather than the message).
"""

from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import quote

from rms.auth.guard import Authenticator
from rms.secrets import MASK, default_secret_registry, redact
from rms.settings import Settings

__all__ = ["mask_access_log", "proxy_options", "sign_in_lines"]

_TOKEN_QUERY = re.compile(r"(?P<head>[?&]token=)[^&\s]*")


class _AccessLogFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            secrets = default_secret_registry().values()
            record.args = tuple(
                _TOKEN_QUERY.sub(lambda m: m.group("head") + MASK, redact(arg, secrets))
                if isinstance(arg, str)
                else arg
                for arg in record.args
            )
        return True


def mask_access_log() -> None:
    """Filter uvicorn's access log (once; idempotent)."""
    logger = logging.getLogger("uvicorn.access")
    if not any(isinstance(f, _AccessLogFilter) for f in logger.filters):
        logger.addFilter(_AccessLogFilter())


def proxy_options(settings: Settings) -> dict[str, Any]:
    """uvicorn's proxy settings: forwarded headers only from ``RMS_FORWARDED_ALLOW_IPS``.

    uvicorn's own default trusts ``X-Forwarded-For`` from 127.0.0.1, so on the default
    loopback bind any local user could choose the address the failure limit and the logs
    see. Without configured proxies the headers are not read at all.
    """
    proxies = [p.strip() for p in settings.rms_forwarded_allow_ips.split(",") if p.strip()]
    return {"proxy_headers": bool(proxies), "forwarded_allow_ips": proxies}


def _display_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):  # noqa: S104 - naming the wildcard, not binding it
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def sign_in_lines(settings: Settings, auth: Authenticator, host: str, port: int) -> list[str]:
    """The lines ``rms serve`` prints: how to sign in (with the token URL, once per start)."""
    base = settings.rms_public_url or f"http://{_display_host(host)}:{port}"
    if not auth.enabled:
        return [f"sign-in is OFF (RMS_AUTH=off): anyone who can reach {host}:{port} can use RMS"]
    lines = []
    if auth.local is not None:
        if auth.local.path is None:
            lines.append(
                f"sign in with the token in RMS_API_TOKEN: {base}/auth/login "
                "(or send it as Authorization: Bearer)"
            )
        else:
            lines.append(f"sign in: {base}/auth/token?token={quote(auth.local.value, safe='')}")
            lines.append(
                f"(the token is kept in {auth.local.path}; API clients send it as "
                "Authorization: Bearer)"
            )
    if auth.oidc is not None:
        lines.append(f"sign in with {auth.oidc.issuer}: {base}/auth/login?via=oidc")
    return lines
