"""Database URLs and host names: the spellings people use, mapped to what we ship."""

from __future__ import annotations

import ipaddress
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rms.errors import ConfigError

__all__ = [
    "DEFAULT_PG_PORT",
    "check_web_url",
    "display_url",
    "is_local_host",
    "normalise_database_url",
    "url_password",
    "url_query",
]

DEFAULT_PG_PORT = 5432


def display_url(url: Any) -> str:
    """A database URL as a user writes it, fit for output, logs and reports: the password
    hidden and the driver left out (``postgresql://``, not ``postgresql+psycopg://``)."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return "<invalid URL>"
    return parsed.set(drivername=parsed.get_backend_name()).render_as_string(hide_password=True)


def normalise_database_url(url: str) -> str:
    """Map the URL spellings people use to the drivers this package ships.

    ``postgres://`` and ``postgresql://`` both mean psycopg 3 here.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url.split(':', 1)[0]!r}",
        field="DATABASE_URL",
    )


def url_query(url: str) -> dict[str, Any]:
    """The query parameters of a ``DATABASE_URL`` (``sslmode=`` ...); a bad URL is named."""
    try:
        return dict(make_url(normalise_database_url(url)).query)
    except ConfigError:
        raise
    except (ArgumentError, ValueError) as exc:  # not a URL at all
        raise ConfigError(
            "DATABASE_URL is not a valid URL (expected sqlite:///path or "
            "postgresql://user@host:5432/dbname)",
            field="DATABASE_URL",
        ) from exc


def url_password(url: str) -> str | None:
    """The password in ``url``, if any (to register it as a secret); never raises."""
    try:
        return make_url(normalise_database_url(url)).password
    except Exception:  # only a best effort to find a password to mask
        return None


def is_local_host(host: str | None) -> bool:
    """True for loopback names and addresses and Unix sockets (libpq's default: no host)."""
    if not host or host.startswith("/") or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def check_web_url(url: str) -> str:
    """``url`` without a trailing slash, if it is an https:// base URL (http:// on loopback).

    A sign-in issuer or a public URL in clear text would let anyone on the path read or
    forge sign-ins, so plain http is accepted only for a loopback host (tests, local work).
    Raises ValueError (reported by the settings with the variable's name).
    """
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise ValueError(f"{url!r} is not an http(s) URL with a host name")
    if parts.scheme == "http" and not is_local_host(parts.hostname):
        raise ValueError(f"{url!r} must use https:// (http:// only for a loopback host)")
    if parts.query or parts.fragment:
        raise ValueError(f"{url!r} must not have a query or a fragment")
    return url.rstrip("/")
