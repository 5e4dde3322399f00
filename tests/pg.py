"""PostgreSQL helpers the tests share: a libpq URL, and cutting a database's sessions."""

from __future__ import annotations

import psycopg
from sqlalchemy.engine import make_url

__all__ = ["libpq", "terminate_sessions"]


def libpq(url: str) -> str:
    """``url`` (an SQLAlchemy URL) as libpq takes it: plain ``postgresql://``, password kept."""
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


def terminate_sessions(url: str, *, application_name: str | None = None) -> None:
    """End every other server session on ``url``'s database (only ``application_name``'s)."""
    dbname = psycopg.conninfo.conninfo_to_dict(libpq(url))["dbname"]
    query = (
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
        "WHERE datname = %s AND pid <> pg_backend_pid()"
    )
    params: list[str] = [dbname]
    if application_name is not None:
        query += " AND application_name = %s"
        params.append(application_name)
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        conn.execute(query, params)
