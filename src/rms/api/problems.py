"""RFC 9457 problem details for every error the API returns.

Each :class:`rms.errors.RmsError` maps to a status; request validation errors name the
offending field; anything unexpected becomes a 500 problem with no internals in it (the
traceback goes to the log, never to the client).
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from rms.errors import (
    ConfigError,
    ConflictError,
    DatabaseAuthError,
    DatabaseUnavailableError,
    InvalidInputError,
    NotFoundError,
    RmsError,
)

__all__ = ["install_problem_handlers", "problem_response"]

log = logging.getLogger("rms.api")

PROBLEM_JSON = "application/problem+json"

#: Most specific class first.
_STATUS: list[tuple[type[RmsError], int]] = [
    (NotFoundError, 404),
    (ConflictError, 409),  # duplicates, stale versions and unknown references alike
    (InvalidInputError, 422),
    (DatabaseUnavailableError, 503),
    (DatabaseAuthError, 503),
    (ConfigError, 503),  # the service is misconfigured: unavailable until someone fixes it
]

_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    409: "conflict",
    413: "content-too-large",
    422: "invalid-input",
    429: "too-many-requests",
    503: "unavailable",
    500: "internal-error",
}


def status_for(exc: RmsError) -> int:
    for cls, status in _STATUS:
        if isinstance(exc, cls):
            return status
    return 500


def problem_response(
    status: int,
    title: str,
    detail: str,
    request: Request,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> JSONResponse:
    body: dict[str, Any] = {
        "type": f"/problems/{_SLUGS.get(status, 'error')}",
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    return JSONResponse(body, status_code=status, media_type=PROBLEM_JSON, headers=headers)


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


async def _rms_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RmsError)
    status = status_for(exc)
    headers = None
    if isinstance(exc, DatabaseUnavailableError | DatabaseAuthError):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    if status == 500:
        log.error("request failed: %s", exc, exc_info=exc)
    return problem_response(
        status, exc.title, exc.message, request, field=exc.field, headers=headers
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {"field": _loc_to_field(tuple(err.get("loc", ()))), "reason": str(err.get("msg", ""))}
        for err in exc.errors()
    ]
    first = errors[0] if errors else {"field": "request", "reason": "invalid"}
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:10])
    return problem_response(
        422, "Invalid input", detail, request, field=first["field"], errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    title = {
        400: "Bad request",
        404: "Not found",
        405: "Method not allowed",
        413: "Request body too large",
    }.get(exc.status_code, "HTTP error")
    return problem_response(
        exc.status_code, title, str(exc.detail), request, headers=getattr(exc, "headers", None)
    )


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return problem_response(
        500,
        "Internal error",
        "the server failed to handle this request; it has been logged",
        request,
    )


def install_problem_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RmsError, _rms_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
