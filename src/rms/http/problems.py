"""RFC 9457 problem details for every error the API returns, and the pages that explain them.

Each :class:`rms.errors.RmsError` maps to a status and a problem *type*; request validation
errors name the offending field in words (never a regular expression or a parser's
internals); a body that is not JSON is a 400; anything unexpected becomes a 500 problem with
no internals in it (the traceback goes to the log, never to the client).

Every ``type`` is a path of this service, ``/problems/<slug>``, serving a page that says
what the problem means and what to do (:data:`PROBLEM_TYPES`). The pages sit behind the
same sign-in as the API: whoever got a problem document was signed in to get it, and the
pages describe the API, which is not public either.
"""

from __future__ import annotations

import copy
import functools
import html
import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException

from rms.errors import (
    ConfigError,
    ConflictError,
    DatabaseAuthError,
    DatabaseUnavailableError,
    IntegrityViolationError,
    InUseError,
    InvalidInputError,
    NotFoundError,
    ReferenceViolationError,
    RmsError,
    StaleVersionError,
    UniqueViolationError,
)
from rms.http.values import INSTANT_FORMAT, MONTH_FORMAT, PATTERN_HINTS, shown

__all__ = [
    "ICON_HREF",
    "ICON_LINK",
    "PROBLEM_TYPES",
    "Problem",
    "ProblemType",
    "field_problems",
    "install_problem_handlers",
    "problem_response",
    "problem_responses",
    "status_for",
]

log = logging.getLogger("rms.api")

PROBLEM_JSON = "application/problem+json"


@dataclass(frozen=True)
class ProblemType:
    """One kind of problem: the page behind its ``type`` URI."""

    slug: str
    status: int
    title: str
    meaning: str
    remedy: str

    @property
    def uri(self) -> str:
        return f"/problems/{self.slug}"


_RULES = (
    "Trades: buy > 0 and quantity > 0; sell and sell_date are set together or not at all "
    "(an open trade has neither; its sell shows as null); sell_date is not before buy_date, "
    "also when a PATCH changes only one of them. A trade may name its symbol (symbol) "
    "instead of its universe id (universeId). Deposits: a dividend (a deposit with a "
    "universeId) is more than 0; any other deposit is not 0 (a negative one is a "
    f"withdrawal). Dates and instants are written {INSTANT_FORMAT}; list filters take days "
    f"(YYYY-MM-DD), summaries a month ({MONTH_FORMAT}) or a year (YYYY); all of them fall "
    "between 1900-01-01 and 2199-12-31. Text holds no NUL character and no lone surrogate. "
    "Unknown fields, and fields the service sets (id on a PATCH, createdAt, updatedAt, "
    "deletedAt), are refused."
)

#: Every problem type the service answers with, by slug.
PROBLEM_TYPES: dict[str, ProblemType] = {
    p.slug: p
    for p in (
        ProblemType(
            "bad-request",
            400,
            "Bad request",
            "The request body is not a JSON document: it could not be parsed, it was empty, "
            "or it was not sent as JSON.",
            "Send a JSON object with the header Content-Type: application/json. The detail "
            "says where parsing stopped.",
        ),
        ProblemType(
            "unauthorized",
            401,
            "Sign-in required",
            "The request carried no credential the service accepts.",
            "Sign in (the URL `rms serve` prints, or your identity provider) or send the "
            "token as Authorization: Bearer.",
        ),
        ProblemType(
            "forbidden",
            403,
            "Forbidden",
            "The request was refused, for instance a change sent from another site.",
            "Send the request from the service's own pages, or with a bearer token.",
        ),
        ProblemType(
            "not-found",
            404,
            "Not found",
            "The path names no row (or a soft-deleted one), or no such route exists.",
            "Check the id; a soft-deleted row is shown with ?include_deleted=true. The list "
            "of routes is at /docs.",
        ),
        ProblemType(
            "method-not-allowed",
            405,
            "Method not allowed",
            "The route exists but does not take this HTTP method.",
            "See /docs for the methods each route takes.",
        ),
        ProblemType(
            "conflict",
            409,
            "Conflict",
            "The request conflicts with the data as it is, e.g. a create that names an id "
            "that already holds a row with other content (a repeat of the same create, "
            "same id and same content, answers with the row instead).",
            "Use another id, or leave the id out and let the service make one.",
        ),
        ProblemType(
            "stale-version",
            409,
            "Stale version",
            "The row changed since you read it: the version you sent is not its version "
            "any more, so nothing was changed.",
            "Read the row again, apply your change to what it holds now, and send that with "
            "its current version.",
        ),
        ProblemType(
            "duplicate-value",
            409,
            "Duplicate value",
            "Another row already holds this value of a field that must be unique (an "
            "account's name, a symbol, a holiday's date); `field` names it.",
            "Choose another value, or change the row that holds it.",
        ),
        ProblemType(
            "unknown-reference",
            409,
            "Unknown reference",
            "A field names a row that does not exist or is soft-deleted (an accountId, a "
            "universeId, a symbol, a risk_group_id); `field` names it.",
            "Create the row it should name first, or correct the id or symbol.",
        ),
        ProblemType(
            "in-use",
            409,
            "Still in use",
            "The row cannot be deleted while live rows depend on it: an account or a symbol "
            "with open trades. `blocking` lists them (the count and the first ids).",
            "Sell (close) or delete those trades first, then delete the row again.",
        ),
        ProblemType(
            "constraint-violation",
            409,
            "Constraint violation",
            "The database refused the change because a constraint of the schema forbids it.",
            "Read the detail for the column involved and correct the value.",
        ),
        ProblemType(
            "content-too-large",
            413,
            "Request too large",
            "The request body is larger than the service accepts.",
            "Send less at once (the limit is a setting of the service).",
        ),
        ProblemType(
            "invalid-input",
            422,
            "Invalid input",
            "A value breaks a rule of the API; `field` names it and `errors` lists every "
            f"field with its reason. The rules: {_RULES}",
            "Correct the named field and send the request again; nothing was written.",
        ),
        ProblemType(
            "too-many-requests",
            429,
            "Too many requests",
            "Too many requests (or failed sign-ins) came from this client in a short time.",
            "Wait for the number of seconds in the Retry-After header.",
        ),
        ProblemType(
            "internal-error",
            500,
            "Internal error",
            "The service failed in a way it did not expect. The details are in its log, "
            "never in the answer.",
            "Try again; if it keeps failing, tell the owner the time and the path.",
        ),
        ProblemType(
            "unavailable",
            503,
            "Service unavailable",
            "The database could not be reached in time (a paused database resuming, a "
            "restart, a failover) or refused the service's credentials, or the service "
            "is misconfigured.",
            "Retry after the number of seconds in the Retry-After header; a paused "
            "database is usually back within 30 seconds.",
        ),
        ProblemType(
            "error",
            0,
            "Error",
            "An HTTP error without a more specific page.",
            "Read the detail of the answer.",
        ),
    )
}

_BY_STATUS = {p.status: p for p in reversed(PROBLEM_TYPES.values())}

#: Most specific class first.
_TYPES: list[tuple[type[RmsError], str]] = [
    (NotFoundError, "not-found"),
    (StaleVersionError, "stale-version"),
    (InUseError, "in-use"),
    (UniqueViolationError, "duplicate-value"),
    (ReferenceViolationError, "unknown-reference"),
    (IntegrityViolationError, "constraint-violation"),
    (ConflictError, "conflict"),
    (InvalidInputError, "invalid-input"),
    (DatabaseUnavailableError, "unavailable"),
    (DatabaseAuthError, "unavailable"),
    (ConfigError, "unavailable"),  # the service is misconfigured: unavailable until fixed
]

#: Fields every row has that only the service sets.
_READ_ONLY = {"createdAt", "updatedAt", "deletedAt", "id", "key"}


# --- the problem document's model, as the OpenAPI document declares it ------------------


class FieldProblem(BaseModel):
    field: str
    reason: str


class BlockingRows(BaseModel):
    """The rows that keep a row from being deleted (at most 20 ids shown)."""

    resource: str = Field(description="what they are, e.g. `open trades`")
    count: int
    ids: list[str]


class Problem(BaseModel):
    """RFC 9457 problem details, as every error response carries them.

    `type` is a page of this service (`/problems/<slug>`) that explains the problem and
    what to do about it; `field` names the offending field; `errors` lists every field
    problem of a request that had several.
    """

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    field: str | None = None
    errors: list[FieldProblem] | None = None
    blocking: BlockingRows | None = None


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """``schema`` with its local ``$defs`` written in place of their references.

    Pydantic's schema of :class:`Problem` refers to ``#/$defs/FieldProblem``; embedded in
    the OpenAPI document, such a reference points at nothing there (ReDoc fails on the whole
    document). The problem models are not recursive, so they can be inlined.
    """
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return resolve(defs[ref.removeprefix("#/$defs/")])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(item) for item in node]
        return node

    resolved: dict[str, Any] = resolve(schema)
    return resolved


def problem_responses(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI declarations of the problem responses a route can give."""
    descriptions = {
        400: "The request body is not JSON (or not a JSON document at all)",
        404: "No such row (or it is soft-deleted)",
        409: "Conflict: stale version, duplicate value, unknown reference, id reused with "
        "other content, or a row still in use (an account or symbol with open trades; "
        "`blocking` lists them)",
        422: "Invalid input; `field` names the offending field",
        503: "Database unavailable; retry after the Retry-After header",
    }
    return {
        status: {
            "description": descriptions[status],
            "content": {"application/problem+json": {"schema": copy.deepcopy(_problem_schema())}},
        }
        for status in statuses
    }


@functools.cache
def _problem_schema() -> dict[str, Any]:
    """:class:`Problem`'s JSON schema, made once: some 70 routes declare it (each a copy),
    and pydantic takes about as long to make it as FastAPI takes to build a route."""
    return _inlined(Problem.model_json_schema())


def problem_type_of(exc: RmsError) -> ProblemType:
    for cls, slug in _TYPES:
        if isinstance(exc, cls):
            return PROBLEM_TYPES[slug]
    return PROBLEM_TYPES["internal-error"]


def status_for(exc: RmsError) -> int:
    return problem_type_of(exc).status


class _ProblemJSON(JSONResponse):
    """Problem documents as ASCII JSON: a detail quoting odd text can always be sent."""

    media_type = PROBLEM_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def problem_response(
    status: int,
    title: str,
    detail: str,
    request: Request,
    *,
    field: str | None = None,
    headers: dict[str, str] | None = None,
    problem: ProblemType | None = None,
    **extra: Any,
) -> JSONResponse:
    kind = problem or _BY_STATUS.get(status, PROBLEM_TYPES["error"])
    body: dict[str, Any] = {
        "type": kind.uri,
        "title": title,
        "status": status,
        "detail": detail,
        "instance": request.url.path,
    }
    if field is not None:
        body["field"] = field
    body.update(extra)
    return _ProblemJSON(body, status_code=status, headers=headers)


def _loc_to_field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or str(loc[0] if loc else "request")


#: What a JSON body's field must be when a value of another JSON type came (strict bodies,
#: rms.http.models.StrictBody: no true for 1, no "5" for 5).
_JSON_TYPES = {
    "int_type": "a JSON number (an integer)",
    "float_type": "a JSON number",
    "bool_type": "true or false",
    "string_type": "JSON text (a string)",
}


def _reason(err: dict[str, Any]) -> str:
    """A validation error in words: what the value must be, never a pattern or a parser."""
    kind = str(err.get("type", ""))
    msg = str(err.get("msg", "is invalid"))
    ctx = err.get("ctx") or {}
    loc = tuple(err.get("loc", ()))
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        return PATTERN_HINTS.get(str(ctx.get("pattern")), "is not in the form the field takes")
    if kind == "extra_forbidden":
        name = str(loc[-1]) if loc else ""
        if name in _READ_ONLY or (name == "version" and loc[:1] == ("body",)):
            return "is read-only: the service sets it"
        where = "parameter" if loc[:1] == ("query",) else "field"
        return f"is not a {where} of this request (see /docs for the ones it takes)"
    if kind == "missing":
        return "is required"
    if kind in _JSON_TYPES and loc[:1] == ("body",) and "input" in err:
        return f"must be {_JSON_TYPES[kind]}, {shown(err['input'])}"
    if loc == ("body",) and kind in ("model_attributes_type", "model_type", "dict_type"):
        return "must be a JSON object"
    if kind == "string_unicode":
        return "must be valid Unicode text (no lone surrogate such as \\ud800)"
    if kind == "finite_number":
        return "must be a finite number (not NaN or Infinity)"
    if kind == "string_too_short" and ctx.get("min_length") == 1:
        return "must not be empty or blank"
    return msg.replace("Input should be", "must be", 1)


def field_problems(errors: Sequence[Any]) -> list[dict[str, str]]:
    """Pydantic's errors as the API reports them: the field and its reason in words.

    Also used by the web forms (:mod:`rms.web.forms`), so a page says what the API says.
    """
    return [
        {"field": _loc_to_field(tuple(err.get("loc", ()))), "reason": _reason(err)}
        for err in errors
    ]


def _not_json(request: Request, exc: RequestValidationError) -> JSONResponse | None:
    """A 400 when the body is no JSON document (unparseable, empty, or not sent as JSON)."""
    for err in exc.errors():
        loc = tuple(err.get("loc", ()))
        if err.get("type") == "json_invalid":
            where = f" at character {loc[1]}" if len(loc) > 1 else ""
            reason = (err.get("ctx") or {}).get("error", "it could not be parsed")
            detail = f"the request body is not valid JSON: {reason}{where}"
        elif loc == ("body",) and err.get("type") == "missing":
            detail = "the request has no body: send a JSON object"
        elif loc == ("body",) and isinstance(err.get("input"), bytes):
            detail = "the request body must be JSON, sent with Content-Type: application/json"
        else:
            continue
        return problem_response(400, "Bad request", detail, request, field="body")
    return None


async def _rms_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RmsError)
    kind = problem_type_of(exc)
    headers = None
    if isinstance(exc, DatabaseUnavailableError | DatabaseAuthError):
        headers = {"Retry-After": str(exc.retry_after_seconds)}
    if kind.status == 500:
        log.error("request failed: %s", exc, exc_info=exc)
    extra: dict[str, Any] = {}
    if isinstance(exc, InUseError):
        extra["blocking"] = {"resource": exc.dependents, "count": exc.count, "ids": exc.ids}
    return problem_response(
        kind.status,
        exc.title,
        exc.message,
        request,
        field=exc.field,
        headers=headers,
        problem=kind,
        **extra,
    )


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    not_json = _not_json(request, exc)
    if not_json is not None:
        return not_json
    errors = field_problems(exc.errors())
    first = errors[0] if errors else {"field": "request", "reason": "is invalid"}
    detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:10])
    return problem_response(
        422, "Invalid input", detail, request, field=first["field"], errors=errors
    )


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    kind = _BY_STATUS.get(exc.status_code, PROBLEM_TYPES["error"])
    title = kind.title if kind.status else "HTTP error"
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


#: The pages' icon (a static file, open like the stylesheet): named in every page's head,
#: so a browser never asks for /favicon.ico (which needs a credential, and is not there).
ICON_HREF = "/static/rms.svg"
ICON_LINK = f'<link rel="icon" href="{ICON_HREF}" type="image/svg+xml">'


def _page(title: str, body: str) -> str:
    # No script and no inline style: the pages pass a strict Content-Security-Policy.
    return (
        f'<!doctype html>\n<html lang="en"><head><meta charset="utf-8">{ICON_LINK}'
        f"<title>{html.escape(title)} - RMS</title></head>\n<body>\n{body}\n</body></html>\n"
    )


def _problem_page(problem: ProblemType) -> str:
    status = f"HTTP {problem.status}" if problem.status else "any HTTP error status"
    return _page(
        problem.title,
        f"<h1>{html.escape(problem.title)}</h1>\n"
        f"<p>Problem type <code>{html.escape(problem.uri)}</code>, answered with {status}.</p>\n"
        f"<h2>What it means</h2>\n<p>{html.escape(problem.meaning)}</p>\n"
        f"<h2>What to do</h2>\n<p>{html.escape(problem.remedy)}</p>\n"
        '<p><a href="/problems">Every problem type</a></p>',
    )


def _index_page() -> str:
    items = "\n".join(
        f'<li><a href="{html.escape(p.uri)}">{html.escape(p.title)}</a> ({p.status or "any"})</li>'
        for p in PROBLEM_TYPES.values()
    )
    return _page(
        "Problem types",
        "<h1>Problem types</h1>\n<p>Every error answer of the API is a problem document "
        "(RFC 9457) whose <code>type</code> is one of these pages.</p>\n"
        f"<ul>\n{items}\n</ul>",
    )


@functools.cache
def problems_router() -> APIRouter:
    """``/problems`` and ``/problems/<slug>``: the pages the ``type`` URIs name (built once
    per process, included in every app)."""
    router = APIRouter(prefix="/problems", tags=["problems"])

    @router.get("", response_class=HTMLResponse, summary="Every problem type")
    async def index() -> HTMLResponse:
        return HTMLResponse(_index_page())

    @router.get(
        "/{slug}",
        response_class=HTMLResponse,
        summary="What one problem type means and what to do",
        responses=problem_responses(404, 422),
    )
    async def page(
        slug: Annotated[str, Path(max_length=100, examples=["stale-version"])],
    ) -> HTMLResponse:
        problem = PROBLEM_TYPES.get(slug)
        if problem is None:
            raise StarletteHTTPException(404, f"no problem type {slug!r}; see /problems")
        return HTMLResponse(_problem_page(problem))

    return router


def install_problem_handlers(app: FastAPI) -> None:
    """Answer every error as a problem document, and serve the pages their types name."""
    app.add_exception_handler(RmsError, _rms_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
    app.include_router(problems_router())
