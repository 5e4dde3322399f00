"""Database URLs and host names: the spellings people use, mapped to what we ship."""

from __future__ import annotations

import ipaddress
from typing import Any

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from rms.errors import ConfigError

__all__ = [
    "DEFAULT_PG_PORT",
    "is_local_host",
    "normalise_database_url",
    "url_password",
    "url_query",
]

DEFAULT_PG_PORT = 5432


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
