"""Health of the database, two ways: from memory (never connects) and a deep check."""

from __future__ import annotations

import time
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from rms.db.database import Database

__all__ = ["check_schema", "deep_check", "readiness"]


def check_schema(db: Database) -> str | None:
    """Read the database's schema revision (one connection) and tell the observer."""
    from rms.schema.migrations import current_revision, head_revision  # alembic: ~0.3 s

    revision = db.run(lambda session: current_revision(session.connection()))
    db.observer.schema_seen(revision, head_revision())
    return revision


def readiness(db: Database, *, detailed: bool) -> tuple[bool, dict[str, Any]]:
    """Ready or not, from the last known state only: never opens a connection.

    Only failures a person must fix make the service not ready: refused credentials, a
    missing database, a schema last seen behind the head (``rms db upgrade`` is due). A
    database that is unreachable or paused is normal for a cluster that scales to zero: the
    next real request wakes it, so readiness stays true; taking the service out of a load
    balancer would stop that request from ever arriving.

    Only a ``detailed`` answer (for a signed-in caller) says more than the status: the
    driver's last error names hosts, ports and users, and the time of the last success
    tells when the owner was last active.
    """
    state = db.observer.snapshot()
    broken = state.last_failure_kind in ("auth", "fatal") and (
        state.last_success_at is None or (state.last_failure_at or 0) > (state.last_success_at or 0)
    )
    behind = bool(state.schema_behind)
    ready = not broken and not behind
    body: dict[str, Any] = {"status": "ready" if ready else "not ready"}
    if not detailed:
        return ready, body
    figures = db.observer.pool_figures()
    open_connections = (figures.in_use + figures.idle) if figures else None
    body |= {
        "database": (
            "misconfigured"
            if broken
            else "schema behind (run `rms db upgrade`)"
            if behind
            else "connected"
            if open_connections
            else "idle (no open connection; it may be paused and wakes on the next request)"
        ),
        "open_connections": open_connections,
        "last_success_at": state.last_success_at,
        "last_failure": state.last_failure if broken else None,
        "schema_revision": state.schema_revision,
    }
    return ready, body


def deep_check(db: Database) -> dict[str, Any]:
    """Run ``SELECT 1`` (waking the database if need be) and report what it took."""
    from rms.schema.migrations import current_revision, head_revision

    def probe(session: Session) -> tuple[float, str | None]:
        started = time.perf_counter()
        session.execute(text("SELECT 1"))
        round_trip = time.perf_counter() - started
        return round_trip, current_revision(session.connection())

    started = time.perf_counter()
    round_trip, revision = db.run(probe)
    total = time.perf_counter() - started
    head = head_revision()
    db.observer.schema_seen(revision, head)
    state = db.observer.snapshot()
    figures = db.observer.pool_figures()
    return {
        "status": "ok" if revision == head else "schema behind",
        "database": {
            "dialect": db.dialect,
            "round_trip_ms": round(round_trip * 1000, 3),
            "check_ms": round(total * 1000, 3),
            "schema_revision": revision,
            "schema_head": head,
            "last_connect_seconds": state.last_connect_seconds,
            "last_connect_cold": state.last_connect_cold,
        },
        "pool": figures.__dict__ if figures else None,
        "uptime_seconds": round(time.time() - db.observer.started_at, 3),
    }
