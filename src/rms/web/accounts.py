"""The account pages: positions, trades, dividends and deposits, and the forms that change them.

Every write goes through the API's models (:mod:`rms.web.forms`) and the repository
functions the API calls (:mod:`rms.repo.crud`), in one unit of work, so a form obeys the
same rules and says the same words as ``POST /api/trades``. A form is a real HTML form: on
success it redirects (303) to the account page; on an error it shows the form again with
each message next to its field (422). Cookie-carried posts are checked twice for CSRF: the
sign-in gate's ``Origin`` check, and the form's token (:mod:`rms.web.render`).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from rms.api.cache import ReferenceCache
from rms.api.schemas import MODELS, ResourceModels
from rms.auth.redirects import safe_target
from rms.db.database import Database
from rms.errors import NotFoundError, RmsError
from rms.repo import crud
from rms.repo.resources import RESOURCES
from rms.schema.tables import Trade
from rms.web import queries
from rms.web.forms import FormError, validate
from rms.web.render import csrf_ok, render
from rms.web.routing import PageRoute

__all__ = ["router"]

Text = Annotated[str, Query(max_length=200)]
Field = Annotated[str, Form(max_length=200)]
BUY_FIELDS = ("symbol", "quantity", "buy", "buy_date")
SELL_FIELDS = ("sell", "sell_date")
EDIT_FIELDS = ("quantity", "buy", "buy_date", "sell", "sell_date")
DEPOSIT_FIELDS = ("kind", "symbol", "amount", "date", "divDepositTypeId")


def _models(name: str) -> ResourceModels:
    models = MODELS[name]
    assert isinstance(models, ResourceModels)
    return models


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def _write(request: Request, resource: str, work: Any) -> Any:
    cache: ReferenceCache = request.app.state.cache
    with cache.writing(resource):
        return _db(request).run(work, write=True)


def _refused(request: Request) -> HTMLResponse:
    return render(
        request,
        "error.html",
        403,
        title="Form refused",
        message="This form is out of date or did not come from this site's pages; "
        "reload the page and send it again.",
    )


def _to_account(account_id: str, anchor: str = "") -> RedirectResponse:
    target = safe_target(f"/accounts/{quote(account_id, safe='')}")
    return RedirectResponse(target + anchor, status_code=303)


def router() -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)
    trades, deposits = RESOURCES["trades"], RESOURCES["div-deposits"]

    @pages.get("/accounts")
    def account_list(request: Request) -> HTMLResponse:
        rows = _db(request).run(queries.accounts)
        return render(request, "accounts.html", title="Accounts", rows=rows)

    def account_page(
        request: Request,
        account_id: str,
        *,
        view: dict[str, str] | None = None,
        buy_form: FormError | None = None,
        deposit: FormError | None = None,
        status_code: int = 200,
    ) -> HTMLResponse:
        params = view or {}
        status = params.get("status", "all")
        status = status if status in ("all", "open", "closed") else "all"
        sort = params.get("sort", "buy_date")
        sort = sort if sort in queries.TRADE_SORTS else "buy_date"
        descending = params.get("dir", "desc") != "asc"

        def number(name: str) -> int:
            text = params.get(name, "1")
            return int(text) if text.isdigit() and len(text) < 7 else 1

        def work(session: Session) -> dict[str, Any]:
            account = crud.get_row(session, RESOURCES["accounts"], account_id)
            return {
                "account": account,
                "positions": queries.positions(session, account_id),
                "trades": queries.trade_page(
                    session,
                    account_id,
                    status=status,  # type: ignore[arg-type]
                    symbol=params.get("symbol") or None,
                    sort=sort,
                    descending=descending,
                    page=number("page"),
                ),
                "dividends": queries.deposit_page(
                    session, account_id, dividends=True, page=number("dpage")
                ),
                "deposits": queries.deposit_page(
                    session, account_id, dividends=False, page=number("xpage")
                ),
                "types": queries.deposit_types(session),
            }

        data = _db(request).run(work)
        view_query = {"status": status, "symbol": params.get("symbol", ""), "sort": sort}
        view_query["dir"] = "desc" if descending else "asc"

        def link(**changes: Any) -> str:
            query = {**view_query, **{k: str(v) for k, v in changes.items()}}
            return f"/accounts/{account_id}?{urlencode(query)}"

        return render(
            request,
            "account.html",
            status_code,
            title=data["account"].name,
            view=view_query,
            link=link,
            buy=buy_form or FormError(),
            deposit=deposit or FormError(),
            **data,
        )

    @pages.get("/accounts/{account_id}")
    def account(request: Request, account_id: str) -> HTMLResponse:
        view = {k: v[:200] for k, v in request.query_params.items()}
        return account_page(request, account_id, view=view)

    @pages.post("/accounts/{account_id}/trades")
    def buy_lot(
        request: Request,
        account_id: str,
        symbol: Field = "",
        quantity: Field = "",
        buy: Field = "",
        buy_date: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return _refused(request)
        values = {"symbol": symbol, "quantity": quantity, "buy": buy, "buy_date": buy_date}
        try:
            body = validate(_models("trades").create, values, {"accountId": account_id})
            body["id"] = crud.new_id()  # before the first attempt: a retry reuses it
            _write(request, "trades", lambda s: crud.create_row(s, trades, body))
        except FormError as errors:
            return account_page(request, account_id, buy_form=errors, status_code=422)
        except RmsError as exc:
            failed = FormError.of(exc, values, BUY_FIELDS)
            return account_page(request, account_id, buy_form=failed, status_code=422)
        return _to_account(account_id, "#trades")

    @pages.post("/accounts/{account_id}/deposits")
    def add_deposit(
        request: Request,
        account_id: str,
        kind: Field = "dividend",
        symbol: Field = "",
        amount: Field = "",
        date: Field = "",
        divDepositTypeId: Field = "",  # noqa: N803 - the API's field name
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return _refused(request)
        values = {
            "kind": kind,
            "symbol": symbol,
            "amount": amount,
            "date": date,
            "divDepositTypeId": divDepositTypeId,
        }
        dividend = kind != "deposit"

        def work(session: Session) -> Any:
            extra: dict[str, Any] = {"accountId": account_id, "universeId": None}
            if dividend:
                if not symbol:
                    raise FormError({"symbol": "a dividend names its symbol"}, values)
                extra["universeId"] = queries.universe_id_of(session, symbol)
                if extra["universeId"] is None:
                    raise FormError({"symbol": f"no symbol {symbol!r} in the universe"}, values)
            fields = {k: values[k] for k in ("amount", "date", "divDepositTypeId")}
            if not fields["divDepositTypeId"]:
                fields["divDepositTypeId"] = "ddt-dividend" if dividend else "ddt-deposit"
            body = validate(_models("div-deposits").create, fields, extra)
            body["id"] = new_id
            return crud.create_row(session, deposits, body)

        new_id = crud.new_id()
        try:
            _write(request, "div-deposits", work)
        except FormError as errors:
            return account_page(request, account_id, deposit=errors, status_code=422)
        except RmsError as exc:
            failed = FormError.of(exc, values, DEPOSIT_FIELDS)
            return account_page(request, account_id, deposit=failed, status_code=422)
        return _to_account(account_id, "#dividends" if dividend else "#deposits")

    def trade_form(
        request: Request, trade_id: str, mode: Literal["sell", "edit"], errors: FormError
    ) -> HTMLResponse:
        def work(session: Session) -> tuple[Trade, str]:
            trade = crud.get_row(session, trades, trade_id)
            symbol = session.get(RESOURCES["universe"].model, trade.universeId)
            return trade, symbol.symbol if symbol is not None else "?"

        trade, symbol = _db(request).run(work)
        return render(
            request,
            "trade_form.html",
            422 if errors.messages else 200,
            title=f"{'Sell' if mode == 'sell' else 'Edit'} {symbol} lot",
            mode=mode,
            trade=trade,
            symbol=symbol,
            form=errors,
        )

    @pages.get("/trades/{trade_id}/sell")
    def sell_page(request: Request, trade_id: str) -> HTMLResponse:
        return trade_form(request, trade_id, "sell", FormError())

    @pages.get("/trades/{trade_id}/edit")
    def edit_page(request: Request, trade_id: str) -> HTMLResponse:
        return trade_form(request, trade_id, "edit", FormError())

    def update_trade(
        request: Request,
        trade_id: str,
        mode: Literal["sell", "edit"],
        values: dict[str, str],
        version: str,
    ) -> Response:
        names = SELL_FIELDS if mode == "sell" else EDIT_FIELDS
        try:
            if mode == "sell" and not values["sell"]:
                raise FormError({"sell": "is required to sell the lot"}, values)
            if mode == "sell" and not values["sell_date"]:
                raise FormError({"sell_date": "is required to sell the lot"}, values)
            changes = validate(_models("trades").update, values, {"version": version or "0"})
            if mode == "edit":  # emptied sell fields reopen the lot
                changes.setdefault("sell", None)
                changes.setdefault("sell_date", None)
            stored_version = changes.pop("version")
            row = _write(
                request,
                "trades",
                lambda s: crud.update_row(s, trades, trade_id, stored_version, changes),
            )
        except FormError as errors:
            return trade_form(request, trade_id, mode, errors)
        except RmsError as exc:
            if isinstance(exc, NotFoundError):
                raise
            return trade_form(request, trade_id, mode, FormError.of(exc, values, names))
        return _to_account(row.accountId, "#trades")

    @pages.post("/trades/{trade_id}/sell")
    def sell(
        request: Request,
        trade_id: str,
        sell: Field = "",
        sell_date: Field = "",
        version: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return _refused(request)
        values = {"sell": sell, "sell_date": sell_date}
        return update_trade(request, trade_id, "sell", values, version)

    @pages.post("/trades/{trade_id}/edit")
    def edit(
        request: Request,
        trade_id: str,
        quantity: Field = "",
        buy: Field = "",
        buy_date: Field = "",
        sell: Field = "",
        sell_date: Field = "",
        version: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return _refused(request)
        values = {
            "quantity": quantity,
            "buy": buy,
            "buy_date": buy_date,
            "sell": sell,
            "sell_date": sell_date,
        }
        return update_trade(request, trade_id, "edit", values, version)

    @pages.post("/trades/{trade_id}/delete")
    def delete_trade(
        request: Request, trade_id: str, version: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return _refused(request)
        stored = int(version) if version.isdigit() else None
        row = _write(request, "trades", lambda s: crud.delete_row(s, trades, trade_id, stored))
        return _to_account(row.accountId, "#trades")

    @pages.post("/deposits/{deposit_id}/delete")
    def delete_deposit(
        request: Request, deposit_id: str, version: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return _refused(request)
        stored = int(version) if version.isdigit() else None
        row = _write(
            request, "div-deposits", lambda s: crud.delete_row(s, deposits, deposit_id, stored)
        )
        anchor = "#dividends" if row.universeId else "#deposits"
        return _to_account(row.accountId, anchor)

    return pages
