"""Connecting through cold starts: attempts with a timeout, backoff with jitter, a budget.

An Aurora Serverless v2 cluster that scaled to zero takes about 15 s (30 s or more after a
long pause) to accept a connection; while resuming it either holds the connection or
refuses it. :class:`ColdStartConnector` keeps trying within ``budget`` seconds, but only
for failures :func:`rms.db.errors.classify` calls retryable. A refused password is not
retried in a loop: the credentials are re-read once (a rotated secret) and then the error
is reported.

Credentials come from a :class:`CredentialSource` asked afresh on every attempt, so a
rotated secret or a new IAM token (valid 15 minutes) is never frozen into the pool.

A refused connection to this machine (a loopback address, ``localhost`` or a local socket)
is not retried: nothing resumes there, so a wrong port or a stopped local server is said at
once (one attempt) instead of after the whole budget. Only a long-running service
(``RetryPolicy(wait_for_local=True)``, what ``rms serve`` uses) waits there too, riding
through a restart of the server it runs next to. A host *name* is never resolved to decide
this: only its literal form counts.

Every failed attempt that will be retried is reported to the observer as a
:class:`~rms.db.observe.ConnectWait` (target without password, attempt, elapsed time, the
server's reason, the next pause), which logs it at INFO: a person watching a command or a
service log sees what is being waited for instead of silence.

Inside a request or a command (see :mod:`rms.db.deadline`) the budget is also bounded by
what is left of its deadline, and each attempt's timeout by what is left. libpq (and
psycopg) take whole seconds, 2 at least, so a retry is never started with less than 2 s
left; a first attempt is (a live server answers in milliseconds), which is the one case
where a connect can outlast the deadline, by less than 2 s. Every
attempt resolves the host name afresh (psycopg 3 calls ``getaddrinfo`` on each connect and
keeps no cache; neither do we), so after a failover moved the name, the next connection
goes to the new server.
"""

from __future__ import annotations

import ipaddress
import random
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

import psycopg

from rms.db.deadline import Deadline, current_deadline
from rms.db.errors import Failure, classify, translate_db_error
from rms.db.observe import ConnectWait, DbObserver
from rms.errors import DatabaseAuthError, DatabaseUnavailableError, RmsError

__all__ = [
    "ColdStartConnector",
    "CredentialSource",
    "RetryPolicy",
    "describe_target",
    "is_local_host",
    "refused_locally",
]

#: libpq (and psycopg) treat any connect_timeout under 2 s as 2 s.
MIN_CONNECT_TIMEOUT_SECONDS = 2


class CredentialSource(Protocol):
    """Gives the connection parameters (user, password, host, sslmode...) for one attempt."""

    def connect_params(self) -> dict[str, Any]: ...

    def refresh(self) -> None:
        """Forget cached secrets, so the next :meth:`connect_params` reads them again."""


@dataclass(frozen=True)
class RetryPolicy:
    """How long and how often to retry. ``sleep`` and ``rand`` can be swapped in tests."""

    budget_seconds: float = 45.0
    attempt_timeout_seconds: float = 20.0
    initial_backoff_seconds: float = 0.2
    max_backoff_seconds: float = 2.0
    #: Retry a connection refused by this machine (loopback, local socket) too: for a
    #: long-running service whose local server may restart; a command fails at once.
    wait_for_local: bool = False
    sleep: Callable[[float], None] = field(default=time.sleep, compare=False)
    rand: Callable[[], float] = field(default=random.random, compare=False)

    def backoff(self, attempt: int) -> float:
        """Exponential backoff with 'equal jitter': half fixed, half random."""
        exponent = min(max(attempt - 1, 0), 32)  # 2**32 * any sane initial is past any cap
        ceiling = min(self.max_backoff_seconds, self.initial_backoff_seconds * 2**exponent)
        return float(ceiling / 2 + self.rand() * ceiling / 2)


class ColdStartConnector:
    """Opens psycopg connections, riding through cold starts within the policy's budget."""

    def __init__(
        self,
        policy: RetryPolicy,
        observer: DbObserver,
        credentials: CredentialSource | None = None,
        connect: Callable[..., Any] = psycopg.connect,
    ) -> None:
        self.policy = policy
        self.observer = observer
        self.credentials = credentials
        self._connect = connect

    def connect(self, base_params: dict[str, Any]) -> Any:
        policy = self.policy
        started = time.monotonic()
        deadline = started + policy.budget_seconds
        ambient = current_deadline()
        bounded = ambient is not None and ambient.at < deadline
        if bounded:
            assert ambient is not None
            deadline = ambient.at
        attempt = 0
        refreshed = False
        last_reason = "no attempt made"
        while True:
            attempt += 1
            remaining = deadline - time.monotonic()
            # A healthy server connects in milliseconds, so a first attempt is made with
            # any time left; a retry only with at least libpq's shortest timeout left.
            if bounded and (
                remaining <= 0 or (attempt > 1 and remaining < MIN_CONNECT_TIMEOUT_SECONDS)
            ):
                raise self._deadline_spent(ambient, attempt - 1, started, last_reason)
            params = dict(base_params)
            if self.credentials is not None:
                try:
                    params.update(self.credentials.connect_params())
                except RmsError as exc:  # a secret that cannot be read or is malformed
                    self.observer.failed("fatal", str(exc))
                    raise
            # libpq takes whole seconds and treats anything under 2 as 2.
            params["connect_timeout"] = max(
                MIN_CONNECT_TIMEOUT_SECONDS, int(min(policy.attempt_timeout_seconds, remaining))
            )
            self.observer.attempt()
            try:
                conn = self._connect(**params)
            except psycopg.Error as exc:
                # The failed attempt's libpq connection (and its socket) lives in the locals
                # of psycopg's frames in this traceback; clear them so it closes now, not at
                # some later garbage collection (a frozen Lambda never collects, and an open
                # socket keeps Aurora awake).
                traceback.clear_frames(exc.__traceback__)
                kind = classify(exc)
                if kind is Failure.AUTH:
                    if self.credentials is not None and not refreshed:
                        refreshed = True
                        self.credentials.refresh()
                        self.observer.retry("connect_auth_refresh")
                        continue
                    self.observer.failed("auth", str(exc).splitlines()[0])
                    raise DatabaseAuthError(
                        f"the database refused the credentials after {attempt} attempt(s): "
                        f"{_server_message(exc)}"
                    ) from exc
                if kind is not Failure.RETRY_CONNECT:
                    self.observer.failed("fatal", str(exc).splitlines()[0])
                    raise translate_db_error(exc) from exc
                if not policy.wait_for_local and refused_locally(params, exc):
                    self.observer.failed("refused", str(exc).splitlines()[0])
                    raise DatabaseUnavailableError(
                        f"nothing accepts connections at {describe_target(params)} "
                        f"({_short_reason(exc)}): check the host and port, and that PostgreSQL "
                        "is running there (a refusal by this machine is not waited for; "
                        f"{attempt} attempt(s))",
                        retry_after_seconds=max(1, round(policy.max_backoff_seconds * 2)),
                    ) from exc
                last_reason = _short_reason(exc)
                pause = policy.backoff(attempt)
                if time.monotonic() + pause >= deadline:
                    if bounded:
                        raise self._deadline_spent(ambient, attempt, started, last_reason) from exc
                    elapsed = time.monotonic() - started
                    self.observer.failed("budget", str(exc).splitlines()[0])
                    raise DatabaseUnavailableError(
                        f"the database did not accept a connection within {elapsed:.1f} s "
                        f"({attempt} attempts): {_server_message(exc)}",
                        retry_after_seconds=max(1, round(policy.max_backoff_seconds * 2)),
                    ) from exc
                self.observer.retry("connect")
                self.observer.waiting(
                    ConnectWait(
                        target=describe_target(params),
                        attempt=attempt,
                        elapsed_seconds=time.monotonic() - started,
                        budget_seconds=deadline - started,
                        next_attempt_in_seconds=pause,
                        reason=_short_reason(exc),
                    )
                )
                policy.sleep(pause)
                continue
            self.observer.connected(
                time.monotonic() - started, target=describe_target(params), attempts=attempt
            )
            return conn

    def _deadline_spent(
        self, ambient: Deadline | None, attempts: int, started: float, last_reason: str
    ) -> DatabaseUnavailableError:
        """The request's deadline ran out while connecting: say so, name the budget."""
        assert ambient is not None
        self.observer.failed("deadline", f"connect: {last_reason}")
        return DatabaseUnavailableError(
            f"no connection to the database within {ambient.what} of "
            f"{ambient.budget_seconds:g} s ({attempts} attempt(s) in "
            f"{time.monotonic() - started:.1f} s; last: {last_reason}); retry shortly",
            retry_after_seconds=ambient.retry_after_seconds,
        )


def is_local_host(host: str | None) -> bool:
    """Whether libpq's ``host`` names this machine literally: empty (the default socket), a
    socket directory, ``localhost``, or a loopback address. Names are not resolved."""
    hosts = [h.strip() for h in (host or "").split(",")]
    return all(_is_local(h) for h in hosts)


def _is_local(host: str) -> bool:
    if not host or host.startswith("/") or host.startswith("@"):
        return True
    if host.lower() in ("localhost", "localhost.localdomain"):
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def refused_locally(params: dict[str, Any], exc: BaseException) -> bool:
    """A connection this machine refused: nothing listens at that local port or socket."""
    text = str(exc).lower()
    refused = "connection refused" in text or (
        "no such file or directory" in text and "socket" in text
    )
    return refused and is_local_host(params.get("host"))


def describe_target(params: dict[str, Any]) -> str:
    """``host:port/dbname`` of a connection's parameters: never the user or password."""
    host = params.get("host") or "local socket"
    port = params.get("port")
    where = f"{host}:{port}" if port else str(host)
    dbname = params.get("dbname")
    return f"{where}/{dbname}" if dbname else where


def _short_reason(exc: BaseException) -> str:
    """The gist of a failed attempt, for a progress line: ``Connection refused``."""
    lines = str(exc).strip().splitlines()
    first = lines[0] if lines else type(exc).__name__
    return first.rsplit("failed:", 1)[-1].strip()[:200] or first[:200]


def _server_message(exc: BaseException) -> str:
    """The useful part of a libpq message: the server's own words when there are some.

    libpq's lines are sentences without a full stop (``Connection refused`` then ``Is the
    server running ...``); joined into one line, each ends with one."""
    lines = [" ".join(line.split()) for line in str(exc).splitlines() if line.strip()]
    text = " ".join(
        line if i == len(lines) - 1 or line.endswith((".", "?", "!", ":")) else line + "."
        for i, line in enumerate(lines)
    )
    for marker in ("FATAL:", "failed:"):
        if marker in text:
            return text.split(marker, 1)[1].strip()[:300]
    return text[:300]
