"""The owner's lists he changes: accounts, the universe, risk groups, the screener, CUSIPs.

Each list is described once (:class:`Managed`: its inputs and its columns) and served by
the same few routes: the list with an Add form (``GET``/``POST <path>``), the edit form
of one row (``GET``/``POST <path>/<id>/edit``), delete (``POST <path>/<id>/delete``, with
an Undo: ``POST <path>/<id>/restore``). The pages are a thin layer: every write is
validated with the API's create model (:data:`rms.http.models.MODELS`) and made by
:mod:`rms.repo.crud`, the functions behind ``/api/<resource>``, so a page refuses what the
API refuses, said in the owner's words (:mod:`rms.web.words`).

Edits carry the version they were loaded with; a row changed since shows the "Yours /
Saved now" panel (:class:`rms.web.forms.Conflict`) and saves over it only on "Save mine
over theirs". Deleting a row something still uses (an account or a symbol with open lots,
a risk group that symbols name) is refused, saying what uses it. The CUSIP cache has no
version and no soft delete (the application's table): its edits are last-writer-wins and
it is not deleted from the pages.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from rms.errors import (
    InUseError,
    NotFoundError,
    RmsError,
    StaleVersionError,
    UniqueViolationError,
)
from rms.http.models import MODELS, ResourceModels
from rms.repo import crud
from rms.repo.resources import RESOURCES, ResourceSpec
from rms.schema.tables import CUSIP_CACHE_SOURCES, RiskGroup, Screener, Universe
from rms.web.forms import FormError, conflict_of, form_values, form_version, validate
from rms.web.render import Flash, csrf_ok, money, percent, redirect, refused, render
from rms.web.routing import PageRoute
from rms.web.writes import page_db, write
from rms.web.writes import restore as undo

__all__ = ["MANAGED", "Managed", "router"]

Kind = Literal["text", "number", "date", "check", "select"]
Choices = Callable[[Session], list[tuple[str, str]]]
#: How many CUSIP cache rows a page shows (the search narrows them).
CUSIP_PAGE = 200


@dataclass(frozen=True)
class Input:
    """One field of the add and edit forms: the API model's field ``name``."""

    name: str
    label: str
    kind: Kind = "text"
    hint: str = ""
    attrs: str = ""
    #: Options of a ``select``: (value, label) pairs read from the database.
    choices: Choices | None = None
    #: May be left empty (the row then holds nothing there); others are needed.
    optional: bool = False
    #: What the Add form starts with (a ticked box: "on").
    default: str = ""


@dataclass(frozen=True)
class Column:
    """One column of the list: its heading and the cell of a row (given the choices)."""

    label: str
    cell: Callable[[Any, Mapping[str, Mapping[str, str]]], str]
    numeric: bool = False


@dataclass(frozen=True)
class Managed:
    """A list the owner changes from the pages."""

    resource: str
    path: str
    title: str
    #: What one row is called ("account", "symbol"): the messages say it.
    what: str
    #: The unique field that names a row (a name, a symbol, a CUSIP).
    key_field: str
    inputs: tuple[Input, ...]
    columns: tuple[Column, ...]
    intro: str = ""
    deletable: bool = True
    #: What to do before a row in use can be deleted ("sell or delete them first").
    advice: str = ""
    #: The add form's inputs, when it asks less than the edit form.
    searchable: bool = False
    #: The words of each row's link to its edit form.
    edit_label: str = "Edit"
    #: Where a row's name leads ("" for its edit form): ``{id}`` is the row's id.
    view: str = ""
    links: tuple[tuple[str, str], ...] = field(default=())

    @property
    def spec(self) -> ResourceSpec:
        return RESOURCES[self.resource]

    @property
    def models(self) -> ResourceModels:
        models = MODELS[self.resource]
        assert isinstance(models, ResourceModels)
        return models

    def url(self, key: str = "", action: str = "") -> str:
        return self.path + (f"/{quote(key, safe='')}/{action}" if key else "")

    def name_of(self, row: Any) -> str:
        return str(getattr(row, self.key_field))


# --- the text of a value, both ways ------------------------------------------------------


def _number(value: float | int | None) -> str:
    return "" if value is None else f"{value:.15g}"


def text_of(inp: Input, value: Any) -> str:
    """A stored value as the form shows it."""
    if inp.kind == "check":
        return "on" if value else ""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _number(value)
    return str(value)


def _shown(inp: Input, text: str, choices: Mapping[str, Mapping[str, str]]) -> str:
    """A form value as the conflict panel says it (a choice by its label, a box yes/no)."""
    if inp.kind == "check":
        return "yes" if text else "no"
    return choices.get(inp.name, {}).get(text, text)


def _risk_groups(session: Session) -> list[tuple[str, str]]:
    rows = session.execute(
        select(RiskGroup.id, RiskGroup.name)
        .where(RiskGroup.deletedAt.is_(None))
        .order_by(RiskGroup.name)
    )
    return [(key, name) for key, name in rows]


def _sources(session: Session) -> list[tuple[str, str]]:
    names = {"THIRTEENF": "13F filing", "YAHOO_FINANCE": "Yahoo Finance"}
    return [(source, names.get(source, source)) for source in CUSIP_CACHE_SOURCES]


def _yield(row: Any, choices: Mapping[str, Mapping[str, str]]) -> str:
    if not row.last_price:
        return ""
    return percent(row.distribution * row.distributions_per_year / row.last_price)


def _cell(name: str, kind: Literal["text", "money", "plain", "day", "yes"] = "text") -> Any:
    def cell(row: Any, choices: Mapping[str, Mapping[str, str]]) -> str:
        value = getattr(row, name)
        if kind == "money":
            return money(value)
        if kind == "day":
            return "" if value is None else value.strftime("%Y-%m-%d")
        if kind == "yes":
            return "yes" if value else "no"
        if kind == "plain":
            return _number(value)
        return str(choices.get(name, {}).get(value, value))

    return cell


_SYMBOL = Input("symbol", "Symbol", attrs='autocomplete="off" required maxlength="20"')
_PRICES = (
    Input("last_price", "Last price", "number", attrs='min="0" step="any" required'),
    Input(
        "distribution",
        "Distribution",
        "number",
        hint="per payment, per share",
        attrs='min="0" step="any" required',
    ),
    Input(
        "distributions_per_year",
        "Payments a year",
        "number",
        hint="12 monthly, 4 quarterly",
        attrs='min="0" max="366" step="1" required',
    ),
    Input("ex_date", "Ex-date", "date", hint="empty when not known", optional=True),
)
_GROUP = Input("risk_group_id", "Risk group", "select", choices=_risk_groups)
_PRICE_COLUMNS = (
    Column("Risk group", _cell("risk_group_id")),
    Column("Distribution", _cell("distribution", "plain"), numeric=True),
    Column("Per year", _cell("distributions_per_year", "plain"), numeric=True),
    Column("Last price", _cell("last_price", "money"), numeric=True),
    Column("Yield", _yield, numeric=True),
    Column("Ex-date", _cell("ex_date", "day")),
)
_NAME = Input("name", "Name", attrs='autocomplete="off" required maxlength="200"')

MANAGED: tuple[Managed, ...] = (
    Managed(
        "accounts",
        "/accounts",
        "Accounts",
        "account",
        "name",
        (_NAME,),
        (),
        intro="Open an account to see its lots, dividends and deposits.",
        advice="sell or delete them first",
        edit_label="Rename or delete",
        view="/accounts/{id}",
    ),
    Managed(
        "universe",
        "/universe",
        "Universe",
        "symbol",
        "symbol",
        (
            _SYMBOL,
            *_PRICES,
            _GROUP,
            Input("expired", "Expired", "check", hint="no longer traded"),
            Input("is_closed_end_fund", "Closed-end fund", "check", default="on"),
        ),
        (
            *_PRICE_COLUMNS,
            Column("Expired", _cell("expired", "yes")),
            Column("Closed-end fund", _cell("is_closed_end_fund", "yes")),
        ),
        advice="sell or delete them first",
        links=(("/risk-groups", "Risk groups"),),
    ),
    Managed(
        "risk-groups",
        "/risk-groups",
        "Risk groups",
        "risk group",
        "name",
        (_NAME,),
        (),
        intro="Every symbol of the universe and of the screener belongs to one risk group.",
        advice="move them to another risk group first",
        links=(("/universe", "Universe"),),
    ),
    Managed(
        "screener",
        "/screener",
        "Screener",
        "screener entry",
        "symbol",
        (_SYMBOL, *_PRICES, _GROUP),
        _PRICE_COLUMNS,
        intro="Symbols you are watching but do not hold.",
    ),
    Managed(
        "cusip-cache",
        "/cusip-cache",
        "CUSIP cache",
        "CUSIP",
        "cusip",
        (
            Input(
                "cusip",
                "CUSIP",
                hint="nine letters and digits",
                attrs='autocomplete="off" required maxlength="9"',
            ),
            _SYMBOL,
            Input("source", "Source", "select", choices=_sources),
        ),
        (Column("Symbol", _cell("symbol")), Column("Source", _cell("source"))),
        intro="The symbols that the CUSIPs of 13F filings resolve to. Correct a wrong one "
        "here; it is used from the next import on.",
        deletable=False,
        searchable=True,
    ),
)


# --- reading ------------------------------------------------------------------------------


def _choices(session: Session, managed: Managed) -> dict[str, dict[str, str]]:
    return {i.name: dict(i.choices(session)) for i in managed.inputs if i.choices is not None}


def _rows(session: Session, managed: Managed, search: str) -> list[Any]:
    spec, model = managed.spec, managed.spec.model
    query = select(model)
    if spec.soft_delete:
        query = query.where(model.deletedAt.is_(None))
    if search:
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = f"%{escaped}%"
        query = query.where(
            model.symbol.ilike(pattern, escape="\\") | model.cusip.ilike(pattern, escape="\\")
        )
    key = spec.column(managed.key_field)
    return list(session.scalars(query.order_by(key, spec.key_column).limit(CUSIP_PAGE)))


async def _posted(request: Request) -> dict[str, str]:
    """The posted form's fields as stripped text (a form field is at most 1,000 characters)."""
    form = await request.form()
    names = [name for name in form if isinstance(form[name], str)][:50]
    return {k: v[:1000] for k, v in form_values(form, names).items()}


Posted = Annotated[dict[str, str], Depends(_posted)]
Search = Annotated[str, Query(max_length=200)]


# --- the routes -----------------------------------------------------------------------


def _install(pages: APIRouter, managed: Managed) -> None:
    spec, names = managed.spec, [i.name for i in managed.inputs]
    labels = {i.name: i.label for i in managed.inputs}

    def list_page(
        request: Request, form: FormError | None = None, search: str = "", status_code: int = 200
    ) -> HTMLResponse:
        def work(session: Session) -> dict[str, Any]:
            return {
                "rows": _rows(session, managed, search),
                "choices": _choices(session, managed),
            }

        data = page_db(request).run(work)
        return render(
            request,
            "manage_list.html",
            status_code,
            title=managed.title,
            managed=managed,
            form=form or FormError(),
            search=search,
            limit=CUSIP_PAGE,
            values={i.name: i.default for i in managed.inputs},
            **data,
        )

    def edit_page(
        request: Request, key: str, form: FormError | None = None, status_code: int = 200
    ) -> HTMLResponse:
        def work(session: Session) -> dict[str, Any]:
            return {
                "row": crud.get_row(session, spec, key),
                "choices": _choices(session, managed),
            }

        data = page_db(request).run(work)
        row = data["row"]
        form = form or FormError()
        return render(
            request,
            "manage_form.html",
            status_code,
            title=f"{managed.what.capitalize()} {managed.name_of(row)}",
            managed=managed,
            form=form,
            values={i.name: text_of(i, getattr(row, i.name)) for i in managed.inputs},
            version=form.values.get("version") or getattr(row, "version", ""),
            **data,
        )

    def body_of(values: Mapping[str, str]) -> dict[str, Any]:
        """The create model's dump of a form, with empty optional fields as nothing."""
        sent = dict(values)
        for inp in managed.inputs:
            if inp.kind == "check":
                sent[inp.name] = "true" if values.get(inp.name) else "false"
        body = validate(managed.models.create, sent)
        for inp in managed.inputs:
            if inp.optional:
                body.setdefault(inp.name, None)
        body.pop("id", None)
        return body

    def refusal(request: Request, exc: RmsError, values: Mapping[str, str]) -> FormError:
        """A repository's refusal of a form, said next to its field in the owner's words."""
        if isinstance(exc, UniqueViolationError):
            name = managed.key_field
            typed = values.get(name, "").strip()
            model, column = spec.model, spec.column(name)

            def holder(session: Session) -> Any:
                return session.scalar(select(model).where(column.in_([typed, typed.upper()])))

            other = page_db(request).run(holder)
            if other is not None and getattr(other, "deletedAt", None) is not None:
                text = f"is still held by a deleted {managed.what}; choose another"
            else:
                text = f"is taken: another {managed.what} has it"
            return FormError({name: text}, dict(values))
        return FormError.of(exc, values, names)

    def flash_name(row: Any) -> str:
        return f"the {managed.what} {managed.name_of(row)}"

    @pages.get(managed.path, name=f"{managed.resource}-list")
    def show_list(request: Request, q: Search = "") -> HTMLResponse:
        return list_page(request, search=q.strip() if managed.searchable else "")

    @pages.post(managed.path, name=f"{managed.resource}-add")
    def add(request: Request, posted: Posted) -> Response:
        if not csrf_ok(request, posted.get("csrf", "")):
            return refused(request)
        values = {name: posted.get(name, "") for name in names}
        new_id = crud.new_id()  # before the first attempt: a retry reuses it

        def work(session: Session) -> Any:
            return crud.create_row(session, spec, {**body_of(values), "id": new_id})

        try:
            row = write(request, managed.resource, work)
        except FormError as errors:
            errors.values = values
            return list_page(request, errors, status_code=422)
        except RmsError as exc:
            return list_page(request, refusal(request, exc, values), status_code=422)
        return redirect(request, managed.path, {"text": f"Added {flash_name(row)}."})

    @pages.get(managed.path + "/{key}/edit", name=f"{managed.resource}-edit-form")
    def edit_form(request: Request, key: str) -> HTMLResponse:
        return edit_page(request, key)

    @pages.post(managed.path + "/{key}/edit", name=f"{managed.resource}-edit")
    def edit(request: Request, key: str, posted: Posted) -> Response:
        if not csrf_ok(request, posted.get("csrf", "")):
            return refused(request)
        values = {name: posted.get(name, "") for name in names}
        shown = {**values, "version": posted.get("version", "")}
        version = form_version(posted.get("overwrite", "") or posted.get("version", ""))
        stored = version if spec.versioned else None

        def work(session: Session) -> Any:
            return crud.update_row(session, spec, key, stored, body_of(values))

        try:
            row = write(request, managed.resource, work)
        except FormError as errors:
            errors.values = shown
            return edit_page(request, key, errors, 422)
        except StaleVersionError:

            def current(session: Session) -> tuple[Any, dict[str, dict[str, str]]]:
                return crud.get_row(session, spec, key), _choices(session, managed)

            saved_row, choices = page_db(request).run(current)
            by_input = {i.name: i for i in managed.inputs}
            mine = {n: _shown(by_input[n], v, choices) for n, v in values.items()}
            saved = {
                n: _shown(i, text_of(i, getattr(saved_row, n)), choices)
                for n, i in by_input.items()
            }
            conflict = conflict_of(labels, mine, saved, saved_row.version)
            return edit_page(request, key, FormError({}, shown, conflict=conflict), 409)
        except RmsError as exc:
            if isinstance(exc, NotFoundError):
                raise
            return edit_page(request, key, refusal(request, exc, shown), 422)
        return redirect(request, managed.path, {"text": f"Saved {flash_name(row)}."})

    if not managed.deletable:
        return

    @pages.post(managed.path + "/{key}/delete", name=f"{managed.resource}-delete")
    def delete(request: Request, key: str, posted: Posted) -> Response:
        if not csrf_ok(request, posted.get("csrf", "")):
            return refused(request)
        version = form_version(posted.get("version", "")) or None
        try:
            row = write(request, managed.resource, lambda s: crud.delete_row(s, spec, key, version))
        except InUseError as exc:
            text = in_use(request, exc)
            return edit_page(request, key, FormError({"_form": text}), 409)
        except StaleVersionError:
            text = (
                f"Not deleted: this {managed.what} was changed since you opened this page "
                "(another tab or device). Here it is as saved now; delete it again if you "
                "still want to."
            )
            return edit_page(request, key, FormError({"_form": text}), 409)
        flash: Flash = {
            "text": f"Deleted {flash_name(row)}.",
            "undo": managed.url(key, "restore"),
            "version": row.version,
        }
        return redirect(request, managed.path, flash)

    def in_use(request: Request, exc: InUseError) -> str:
        def symbols(session: Session) -> list[str]:
            found: list[str] = []
            for model in (Universe, Screener):
                found += session.scalars(
                    select(model.symbol).where(model.id.in_(exc.ids)).order_by(model.symbol)
                )
            return found

        what = {"open trades": "open lots", "symbols": "symbols of the universe"}
        dependents = what.get(exc.dependents, exc.dependents)
        named = ""
        if exc.dependents in ("symbols", "screener entries"):
            shown = page_db(request).run(symbols)
            more = f" and {exc.count - len(shown)} more" if exc.count > len(shown) else ""
            named = f" ({', '.join(shown)}{more})"
        return (
            f"Not deleted: {exc.count} {dependents}{named} still use this {managed.what}; "
            f"{managed.advice}."
        )

    @pages.post(managed.path + "/{key}/restore", name=f"{managed.resource}-restore")
    def restore(request: Request, key: str, posted: Posted) -> Response:
        if not csrf_ok(request, posted.get("csrf", "")):
            return refused(request)
        version = form_version(posted.get("version", "")) or None
        row = undo(request, managed.resource, key, version)
        if isinstance(row, Response):
            return row
        return redirect(request, managed.path, {"text": f"Restored {flash_name(row)}."})


def router() -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)
    for managed in MANAGED:
        _install(pages, managed)
    return pages
