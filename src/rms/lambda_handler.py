"""The service on AWS Lambda: ``rms.lambda_handler.handler`` behind an API Gateway HTTP API.

The FastAPI app is served through Mangum (an ASGI adapter: an HTTP API payload 2.0 event in,
the response dict out). Why it is built the way it is:

- **Built on the first invocation, reused by the warm ones.** Importing this module imports
  nothing of the service (the Lambda runtime imports it during its init phase, tests and
  ``rms --help`` import it too); :func:`handler` builds the settings (from the function's
  environment), the database and the app once per Lambda environment, in
  :class:`LambdaService`, and keeps them for the next invocation of the same environment.
  The build runs with the garbage collector off and freezes what it made (about a third
  of the cold start otherwise; docs/lambda.md, "Measured").
- **No connection outlives an invocation.** Lambda freezes an idle environment; it does not
  stop it. A frozen process keeps its sockets, so a pooled connection left open would keep
  Aurora Serverless v2 awake for as long as the environment lives (hours), and the pool's
  idle-release thread (:class:`rms.db.pool.IdleReleaser`) never runs while frozen. So the
  ASGI lifespan (which would start that thread) is off, and every invocation ends by closing
  the pool's connections (:meth:`LambdaService.release`). One more socket can stay open: a
  connection *attempt* that timed out (a resuming database) is left by psycopg to the
  garbage collector (the PGconn is held by its connect generator, which the exception's
  traceback keeps alive), and a frozen environment may never collect it. The connector
  clears those frames' locals when an attempt fails (:mod:`rms.db.connect`), which closes
  the socket at once; as a second line, an invocation that saw a failed attempt ends with a
  full ``gc.collect()`` (about 0.1 s; only then). The test depends on neither alone: with
  psycopg imported first, only the cleared frames closed it. The next invocation connects
  afresh: one TLS handshake and a locally signed IAM token, a few milliseconds on a warm
  database (``bench/bench_lambda.py`` measures both ways).
- **A page view wakes the database ahead.** A page served while the database may be paused
  starts one connection in a background thread (:mod:`rms.db.wake`); the invocation waits
  at most ``WAKE_HANDOFF_SECONDS`` for it after the page, so the attempt has reached Aurora
  (which resumes on it) before the freeze. The thread, frozen mid-connect, carries on in the
  next invocation and closes its connection; docs/lambda.md says what a freeze does to it.
- **A resuming database is answered, not waited out.** The connector waits for the database
  at most ``DB_COLD_START_BUDGET_SECONDS`` (20 s in the environments), and each request at
  most ``DB_REQUEST_BUDGET_SECONDS`` (25 s by default); then the app answers 503 with
  ``Retry-After`` and a problem body, before API Gateway's 30 s would answer its own bare
  503. Aurora keeps resuming, and the retry is served. Those budgets count from when the
  app starts on the request; a cold start spends part of API Gateway's 30 s before that.
  So each invocation also runs under a deadline counted from when API Gateway received the
  request (the event's ``requestContext.timeEpoch``): 30 s less a 2 s margin. The earlier
  of the deadlines wins (:func:`rms.db.deadline.deadline_scope`), so a slow cold start
  shortens the wait for the database instead of losing the answer.
- **Behind API Gateway the app sees what a browser sent.** The event's headers (``host``
  is the API's domain, ``x-forwarded-proto`` is ``https``) become the ASGI scope, so the Host
  check (``RMS_ALLOWED_HOSTS``, ``RMS_PUBLIC_URL``), the Origin check and Secure cookies
  work as behind any HTTPS proxy; cookies travel in the payload's ``cookies`` lists.

- **With SnapStart, built during INIT instead** (``AWS_LAMBDA_INITIALIZATION_TYPE`` is
  ``snap-start`` in the INIT that Lambda snapshots): importing this module then builds the
  service, so the snapshot holds the imported and built app and a cold start restores it.
  Nothing connects during the build, so no connection is in the snapshot. What a snapshot
  would otherwise share between the environments restored from it is handled by
  :func:`after_restore`, registered with Lambda's ``snapshot_restore_py`` (part of the
  managed Python runtimes; not installed elsewhere, where nothing is registered): the
  ``random`` module's state (the connect backoff's jitter) is reseeded, and the pool's
  connections, if any, are closed. docs/lambda.md says what else a snapshot keeps.

What cannot be answered by the app (settings that do not load, an event that is not an HTTP
request) is answered here with one line in the log and a problem body without internals.
"""

from __future__ import annotations

import gc
import importlib
import json
import logging
import os
import random
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from fastapi import FastAPI

    from rms.aws import SessionFactory
    from rms.db.database import Database
    from rms.db.deadline import Deadline
    from rms.settings import Settings

__all__ = ["LambdaService", "after_restore", "handler", "prepare_snapshot", "reset", "service"]

log = logging.getLogger("rms.lambda")

_PROBLEM_HEADERS = {"content-type": "application/problem+json"}

#: API Gateway HTTP API's integration timeout, and how much of it is kept for the answer.
GATEWAY_LIMIT_SECONDS, GATEWAY_MARGIN_SECONDS = 30.0, 2.0
#: The least a request is given, whatever the clocks say.
MIN_REQUEST_SECONDS = 1.0
#: How long a page view that started waking the database waits for it before answering, so
#: the connection attempt leaves before Lambda freezes the environment (rms.http.wake).
WAKE_HANDOFF_SECONDS = 0.5

_lock = threading.Lock()
_service: LambdaService | None = None


class LambdaService:
    """The app, its adapter and its database for one Lambda environment."""

    def __init__(
        self, settings: Settings, *, session_factory: SessionFactory | None = None
    ) -> None:
        from mangum import Mangum
        from mangum.adapter import DEFAULT_TEXT_MIME_TYPES

        from rms.app import create_app
        from rms.db import build_database
        from rms.db.engine import is_sqlite

        self.settings = settings
        self.db: Database = build_database(settings, session_factory=session_factory, serving=True)
        self.app: FastAPI = create_app(
            settings, db=self.db, wake_handoff_seconds=WAKE_HANDOFF_SECONDS
        )
        # lifespan off: the app's lifespan starts the idle-release thread, which a frozen
        # environment never runs; release() takes its place.
        # Problem documents are text too (Mangum would base64 them): readable in the logs.
        self._adapter = Mangum(
            self.app,
            lifespan="off",
            text_mime_types=[*DEFAULT_TEXT_MIME_TYPES, "application/problem+json"],
        )
        self._pooled = not is_sqlite(self.db.engine)
        self.invocations = 0
        self.releases = 0
        self.collections = 0

    def __call__(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        from rms.db.deadline import deadline_scope

        self.invocations += 1
        attempts, connects = self._connect_counts()
        try:
            with deadline_scope(self.gateway_deadline(event)):
                return self._adapter(event, context)
        finally:
            self.release()
            now_attempts, now_connects = self._connect_counts()
            if now_attempts - attempts > now_connects - connects:  # an attempt failed
                gc.collect()
                self.collections += 1

    def _connect_counts(self) -> tuple[float, float]:
        """Connection attempts and successful connects so far (the observer's metrics)."""
        registry = self.db.observer.registry
        attempts = registry.get_sample_value("rms_db_connect_attempts_total") or 0.0
        connects = registry.get_sample_value("rms_db_connect_seconds_count") or 0.0
        return attempts, connects

    def gateway_deadline(self, event: dict[str, Any], now: float | None = None) -> Deadline:
        """What is left of API Gateway's 30 s for this request, less the margin."""
        from rms.db.deadline import Deadline, retry_after_for

        arrived_ms = (event.get("requestContext") or {}).get("timeEpoch")
        wall = time.time() if now is None else now
        elapsed = 0.0
        if isinstance(arrived_ms, int | float) and not isinstance(arrived_ms, bool):
            elapsed = max(0.0, wall - arrived_ms / 1000)
        seconds = max(MIN_REQUEST_SECONDS, GATEWAY_LIMIT_SECONDS - GATEWAY_MARGIN_SECONDS - elapsed)
        return Deadline.after(
            seconds,
            what="API Gateway's 30 s limit, less the function's start",
            retry_after_seconds=retry_after_for(self.settings),
        )

    def release(self) -> None:
        """Close every connection of the pool, so that nothing holds the database awake.

        Called after each invocation, when the response is complete and every connection
        is back in the pool. SQLite has no server to keep awake: its pool is left alone.
        """
        if self._pooled:
            self.db.engine.dispose(close=True)
            self.releases += 1


def service(*, session_factory: SessionFactory | None = None) -> LambdaService:
    """This environment's :class:`LambdaService`, built from the environment on first use."""
    global _service
    with _lock:
        if _service is None:
            with _no_collections():
                from rms.logs import configure_logging
                from rms.settings import load_settings

                settings = load_settings(session_factory=session_factory)
                configure_logging(settings.log_level)
                _service = LambdaService(settings, session_factory=session_factory)
        return _service


@contextmanager
def _no_collections() -> Iterator[None]:
    """No garbage collection while the service is imported and built, then all of it frozen.

    The build allocates some 300,000 long-lived objects (modules, classes, SQLAlchemy and
    pydantic structures). With the collector on, each generation-2 collection during the
    build walks all of them so far, about a third of the cold start (docs/lambda.md).
    Almost nothing made here is garbage (some 300 objects in cycles), so little is kept by
    not collecting; frozen afterwards (``gc.freeze``), the next collections leave them out
    too, instead of walking them all once more on the first request. :func:`reset`
    unfreezes them.
    """
    if not gc.isenabled():  # the caller manages the collector
        yield
        return
    gc.disable()
    try:
        yield
        gc.freeze()  # only a built service: what a failed build left is collectable
    finally:
        gc.enable()


def reset() -> None:
    """Forget the built service (a new Lambda environment; tests)."""
    global _service
    with _lock:
        previous, _service = _service, None
    if previous is not None:
        previous.db.dispose()
        gc.unfreeze()  # what the build froze (:func:`_no_collections`) is collectable again


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The Lambda entry point (``rms.lambda_handler.handler`` in ``modules/service``)."""
    if not _is_http_event(event):
        return _problem(
            400,
            "Not an HTTP request",
            "this function serves API Gateway HTTP API events (payload format 2.0) only",
        )
    try:
        built = service()
    except Exception as exc:  # the app is not there to answer: say so, keep it out of the body
        _log_failure("the service could not start", exc)
        return _problem(
            500,
            "Service not configured",
            f"the service could not start; its log says why (request id {_request_id(context)})",
        )
    return built(event, context)


def _is_http_event(event: object) -> bool:
    if not isinstance(event, dict):
        return False
    context = event.get("requestContext")
    return isinstance(context, dict) and isinstance(context.get("http"), dict)


def _problem(status: int, title: str, detail: str) -> dict[str, Any]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    return {
        "statusCode": status,
        "headers": dict(_PROBLEM_HEADERS),
        "body": json.dumps(body),
        "isBase64Encoded": False,
    }


def _request_id(context: Any) -> str:
    return str(getattr(context, "aws_request_id", None) or "unknown")


def _log_failure(what: str, exc: BaseException) -> None:
    """One line (secrets masked): the message of an RmsError, the type of anything else."""
    from rms.errors import RmsError
    from rms.secrets import default_secret_registry

    reason = exc.message if isinstance(exc, RmsError) else f"{type(exc).__name__}: {exc}"
    log.error("%s: %s", what, default_secret_registry().redact(reason))
    log.debug("traceback", exc_info=exc)


#: Lambda sets it to ``snap-start`` in the INIT that a SnapStart snapshot is taken after.
INITIALIZATION_TYPE = "AWS_LAMBDA_INITIALIZATION_TYPE"
#: The runtime-hook library of Lambda's managed Python runtimes (3.12 and later).
RESTORE_HOOKS_MODULE = "snapshot_restore_py"


def after_restore() -> None:
    """What an environment restored from a SnapStart snapshot must not share with the others.

    Every environment restored from one snapshot starts with the same memory: the ``random``
    module's state (the connect backoff's jitter would then be the same everywhere) is
    reseeded from the system; ``secrets``, ``uuid4`` and ``os.urandom`` read the kernel's
    generator and need nothing. Any pooled connection is closed (none is expected: nothing
    connects during the build, and each invocation closes its own).
    """
    random.seed()
    with _lock:
        built = _service
    if built is not None:
        built.release()


def prepare_snapshot(environ: Mapping[str, str] | None = None) -> bool:
    """Under SnapStart, build the service now (during INIT) and register :func:`after_restore`.

    Returns whether this INIT is SnapStart's. A build that fails is logged and left to the
    first invocation, which tries again (and answers 500 as without SnapStart).
    """
    env = os.environ if environ is None else environ
    if env.get(INITIALIZATION_TYPE) != "snap-start":
        return False
    try:
        hooks = importlib.import_module(RESTORE_HOOKS_MODULE)
    except ImportError:
        hooks = None
    if hooks is not None:
        hooks.register_after_restore(after_restore)
    try:
        service()
    except Exception as exc:  # the first invocation builds it again and answers for it
        _log_failure("the service could not be built for the snapshot", exc)
    return True


prepare_snapshot()
