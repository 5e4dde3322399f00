"""The server side of sessions: one ``rms_session`` row per browser sign-in.

The cookie is signed, but a signature cannot be taken back: a copied cookie would answer
until it expired. So each session also has a row in the database (the table of
:class:`rms.schema.tables.SignInSession`), keyed by the SHA-256 of a random session id the
cookie carries. Every cookie-carried request looks its row up by primary key (no cache:
a sign-out on one Lambda instance must hold on every other at once, and the row lives
with the data they share); sign-out deletes the row; "sign out everywhere" deletes them
all. Expired rows are purged whenever a new session is written.

Bearer credentials (the local token, OIDC tokens of API clients) are not sessions and
have no rows.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from rms.auth.sessions import Principal
from rms.db.database import Database
from rms.schema.tables import SignInSession
from rms.schema.types import to_utc_ms

__all__ = ["SessionStore", "session_key"]


def session_key(session_id: str) -> str:
    """The row's key: SHA-256 (hex) of the cookie's session id (the table gives no cookie)."""
    return hashlib.sha256(session_id.encode()).hexdigest()


class SessionStore:
    """Creates, checks and ends the sessions of one database; ``clock`` is injectable."""

    def __init__(self, db: Database, *, clock: Callable[[], float] = time.time) -> None:
        self.db = db
        self.clock = clock

    def _now(self) -> datetime:
        return to_utc_ms(datetime.fromtimestamp(self.clock(), UTC))

    def create(self, principal: Principal, max_age_seconds: int) -> str:
        """A new session for ``principal``; returns its id (for the cookie, never stored)."""
        session_id = secrets.token_urlsafe(32)
        key = session_key(session_id)
        now = self._now()

        def work(session: Session) -> None:
            session.execute(delete(SignInSession).where(SignInSession.expires <= now))
            if session.get(SignInSession, key) is None:  # a retried transaction: once
                session.add(
                    SignInSession(
                        id=key,
                        subject=principal.subject,
                        method=principal.method,
                        issuer=principal.issuer,
                        created=now,
                        expires=now + timedelta(seconds=max_age_seconds),
                    )
                )

        self.db.run(work, write=True)
        return session_id

    def alive(self, session_id: str, principal: Principal) -> bool:
        """True while the session's row is there, unexpired, and names ``principal``."""
        key = session_key(session_id)
        now = self._now()

        def work(session: Session) -> SignInSession | None:
            return session.execute(
                select(SignInSession).where(SignInSession.id == key)
            ).scalar_one_or_none()

        row = self.db.run(work)
        return (
            row is not None
            and row.expires > now
            and row.subject == principal.subject
            and row.method == principal.method
            and row.issuer == principal.issuer
        )

    def end(self, session_id: str) -> bool:
        """End one session (sign-out); True if it was there."""
        key = session_key(session_id)

        def work(session: Session) -> int:
            result = session.execute(delete(SignInSession).where(SignInSession.id == key))
            return int(getattr(result, "rowcount", 0) or 0)

        return self.db.run(work, write=True) > 0

    def end_all(self) -> int:
        """End every session ("sign out everywhere"); returns how many there were, expired
        ones included."""

        def work(session: Session) -> int:
            result = session.execute(delete(SignInSession))
            return int(getattr(result, "rowcount", 0) or 0)

        return self.db.run(work, write=True)
