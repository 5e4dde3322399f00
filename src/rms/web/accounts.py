"""The account pages: positions, trades, dividends and deposits, and the forms that change them.

Every write goes through the API's models (:mod:`rms.web.forms`) and the repository
functions the API calls (:mod:`rms.repo.crud`, :func:`rms.repo.trades.sell_lot`), in one
unit of work, so a form obeys the same rules as ``POST /api/trades``, said in the owner's
words (:mod:`rms.web.words`). A form is a real HTML form: on success it redirects (303)
and the next page says what was done (a flash message; after a delete it offers Undo); on
an error it shows the form again with each message next to its field (422).

Edit forms carry the version they were loaded with. When the row changed since (another
tab, another device), the form comes back with the saved values beside the owner's and
two choices: save the owner's values over the saved ones (a button carrying the saved
version), or start again from the saved values. A plain Save never takes the new version
by itself, so nothing is overwritten without the owner saying so.

Trade dates: a date in the future is refused; a day the NYSE was closed (a weekend, a
holiday of the holidays table or of the ``holidays`` package's NYSE calendar) is a warning
the owner may overrule ("Save with this date").

Cookie-carried posts are checked twice for CSRF: the sign-in gate's ``Origin`` check, and
the form's token (:mod:`rms.web.render`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, date, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, quote, urlencode

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from sqlalchemy.orm import Session

from rms.auth.redirects import safe_target
from rms.errors import NotFoundError, RmsError, StaleVersionError
from rms.http.models import MODELS, ResourceModels
from rms.repo import crud
from rms.repo import pages as queries
from rms.repo.calendar import market_closed
from rms.repo.holdings import account_holdings
from rms.repo.resources import RESOURCES
from rms.repo.trades import sell_lot
from rms.schema.tables import DivDeposit, Trade
from rms.web.forms import FormError, conflict_of, form_version, small_number, validate
from rms.web.render import Flash, csrf_ok, money, redirect, refused, render
from rms.web.routing import PageRoute
from rms.web.writes import page_db, write
from rms.web.writes import restore as undo

__all__ = ["router"]

Text = Annotated[str, Query(max_length=200)]
Field = Annotated[str, Form(max_length=200)]
BUY_FIELDS = ("symbol", "quantity", "buy", "buy_date")
SELL_FIELDS = ("quantity", "sell", "sell_date")
EDIT_FIELDS = ("quantity", "buy", "buy_date", "sell", "sell_date")
DEPOSIT_FIELDS = ("kind", "symbol", "amount", "date", "divDepositTypeId")
DEPOSIT_EDIT_FIELDS = ("symbol", "amount", "date", "divDepositTypeId")
TRADE_LABELS = {
    "quantity": "Quantity",
    "buy": "Buy price",
    "buy_date": "Buy date",
    "sell": "Sell price",
    "sell_date": "Sell date",
}
DEPOSIT_LABELS = {
    "symbol": "Symbol",
    "amount": "Amount",
    "date": "Date",
    "divDepositTypeId": "Type",
}
#: The account page's view parameters a delete (and its Undo) keeps.
VIEW_KEYS = ("status", "symbol", "sort", "dir", "page", "dpage", "xpage")


def _models(name: str) -> ResourceModels:
    models = MODELS[name]
    assert isinstance(models, ResourceModels)
    return models


def view_query(text: str) -> str:
    """The account page's filter, sort and page parameters of a query string, re-encoded."""
    pairs = parse_qsl(text, keep_blank_values=False)[:20]
    return urlencode({k: v[:200] for k, v in pairs if k in VIEW_KEYS})


def _account_url(account_id: str, view: str = "", anchor: str = "") -> str:
    target = f"/accounts/{quote(account_id, safe='')}" + (f"?{view}" if view else "")
    return safe_target(target) + anchor


def _unfolded(row: DivDeposit, view: str) -> str:
    """``view`` with the page parameter that unfolds the list of ``row`` (a dividend or a
    deposit): after a save, a delete or an Undo, the page opens on that list, not folded."""
    key = "dpage" if row.universeId else "xpage"
    pairs = [(k, v) for k, v in parse_qsl(view) if k in VIEW_KEYS]
    return urlencode(pairs if any(k == key for k, _ in pairs) else [*pairs, (key, "1")])


def _deposit_list(row: DivDeposit) -> str:
    anchor = "#dividends" if row.universeId else "#deposits"
    return _account_url(row.accountId, _unfolded(row, ""), anchor)


def _day(value: datetime | None) -> str:
    return "" if value is None else value.strftime("%Y-%m-%d")


def _number(value: float | None) -> str:
    return "" if value is None else f"{value:g}"


def _today() -> date:
    return datetime.now(UTC).date()


def check_trade_dates(
    session: Session,
    values: Mapping[str, str],
    names: Iterable[str],
    *,
    confirmed: bool,
    stored: Mapping[str, str] | None = None,
) -> None:
    """Refuse a trade date in the future; warn (unless ``confirmed``) of a closed market.

    Dates the form leaves as they were stored are not checked again.
    """
    warnings: list[str] = []
    for name in names:
        text = values.get(name, "")
        if not text or (stored is not None and text == stored.get(name)):
            continue
        try:
            day = date.fromisoformat(text[:10])
        except ValueError:
            continue  # the model says what is wrong with it
        label = TRADE_LABELS.get(name, "Date")
        if day > _today():
            raise FormError(
                {name: f"{day:%Y-%m-%d} is in the future; enter the day the trade was made"},
                dict(values),
            )
        why = market_closed(session, day)
        if why and not confirmed:
            warnings.append(f"{label} {day:%Y-%m-%d} was {why}: the market was closed.")
    if warnings:
        raise FormError({}, dict(values), confirm=" ".join(warnings))


def _trade_values(trade: Trade) -> dict[str, str]:
    sold = trade.sell_date is not None
    return {
        "quantity": str(trade.quantity),
        "buy": _number(trade.buy),
        "buy_date": _day(trade.buy_date),
        "sell": _number(trade.sell) if sold else "",
        "sell_date": _day(trade.sell_date),
    }


def router() -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)
    trades, deposits = RESOURCES["trades"], RESOURCES["div-deposits"]

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
            return small_number(text, 6) or 1

        def work(session: Session) -> dict[str, Any]:
            account = crud.get_row(session, RESOURCES["accounts"], account_id)
            return {
                "account": account,
                "holdings": account_holdings(session, account_id, _today().year),
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

        data = page_db(request).run(work)
        view_params = {"status": status, "symbol": params.get("symbol", ""), "sort": sort}
        view_params["dir"] = "desc" if descending else "asc"

        def link(**changes: Any) -> str:
            query = {**view_params, **{k: str(v) for k, v in changes.items()}}
            return f"/accounts/{account_id}?{urlencode(query)}"

        return render(
            request,
            "account.html",
            status_code,
            title=data["account"].name,
            view=view_params,
            back=view_query(urlencode(params)),
            link=link,
            unfold={
                "trades": any(k in params for k in ("status", "symbol", "sort", "dir", "page")),
                "dividends": "dpage" in params,
                "deposits": "xpage" in params,
            },
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
        confirm_date: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        values = {"symbol": symbol, "quantity": quantity, "buy": buy, "buy_date": buy_date}
        new_id = crud.new_id()  # before the first attempt: a retry reuses it

        def work(session: Session) -> Any:
            body = validate(_models("trades").create, values, {"accountId": account_id})
            check_trade_dates(session, values, ["buy_date"], confirmed=bool(confirm_date))
            return crud.create_row(session, trades, {**body, "id": new_id})

        try:
            row = write(request, "trades", work)
        except FormError as errors:
            return account_page(request, account_id, buy_form=errors, status_code=422)
        except RmsError as exc:
            failed = FormError.of(exc, values, BUY_FIELDS)
            return account_page(request, account_id, buy_form=failed, status_code=422)
        text = (
            f"Bought {row.quantity} {symbol.strip().upper()} at {money(row.buy)} "
            f"on {_day(row.buy_date)}."
        )
        return redirect(request, _account_url(account_id, anchor="#trades"), {"text": text})

    def deposit_values(
        session: Session, values: Mapping[str, str], *, dividend: bool, account_id: str = ""
    ) -> dict[str, Any]:
        """The validated create (``account_id`` given) or update body of a dividend or
        deposit form."""
        extra: dict[str, Any] = {"universeId": None}
        symbol = values.get("symbol", "")
        if dividend:
            if not symbol:
                raise FormError({"symbol": "is needed: a dividend names its symbol"}, dict(values))
            extra["universeId"] = queries.universe_id_of(session, symbol)
            if extra["universeId"] is None:
                raise FormError({"symbol": f"no symbol {symbol!r} in the universe"}, dict(values))
        elif symbol:
            raise FormError(
                {
                    "symbol": "is for a dividend; a deposit or withdrawal names no symbol "
                    "(empty it, or choose Dividend)"
                },
                dict(values),
            )
        fields = {k: values.get(k, "") for k in ("amount", "date", "divDepositTypeId")}
        if not fields["divDepositTypeId"]:
            fields["divDepositTypeId"] = "ddt-dividend" if dividend else "ddt-deposit"
        models = _models("div-deposits")
        try:
            if account_id:
                return validate(models.create, fields, {**extra, "accountId": account_id})
            return validate(models.update, fields, {**extra, "version": 1})
        except FormError as errors:
            errors.values = dict(values)
            raise

    def deposit_words(row: DivDeposit) -> str:
        if row.universeId is not None:
            return f"dividend of {money(row.amount)} on {_day(row.date)}"
        kind = "withdrawal" if row.amount < 0 else "deposit"
        return f"{kind} of {money(row.amount)} on {_day(row.date)}"

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
            return refused(request)
        values = {
            "kind": kind,
            "symbol": symbol,
            "amount": amount,
            "date": date,
            "divDepositTypeId": divDepositTypeId,
        }
        dividend = kind != "deposit"
        new_id = crud.new_id()

        def work(session: Session) -> Any:
            body = deposit_values(session, values, dividend=dividend, account_id=account_id)
            body["id"] = new_id
            return crud.create_row(session, deposits, body)

        try:
            row = write(request, "div-deposits", work)
        except FormError as errors:
            return account_page(request, account_id, deposit=errors, status_code=422)
        except RmsError as exc:
            failed = FormError.of(exc, values, DEPOSIT_FIELDS)
            return account_page(request, account_id, deposit=failed, status_code=422)
        target = _account_url(
            account_id,
            "dpage=1" if dividend else "xpage=1",  # the list unfolded, the new row in view
            anchor="#dividends" if dividend else "#deposits",
        )
        return redirect(request, target, {"text": f"Added the {deposit_words(row)}."})

    # --- one trade: sell (whole or part) and edit ---------------------------------------

    def trade_form(
        request: Request, trade_id: str, mode: Literal["sell", "edit"], errors: FormError
    ) -> HTMLResponse:
        def work(session: Session) -> tuple[Trade, str]:
            trade = crud.get_row(session, trades, trade_id)
            symbol = session.get(RESOURCES["universe"].model, trade.universeId)
            return trade, symbol.symbol if symbol is not None else "?"

        trade, symbol = page_db(request).run(work)
        failed = bool(errors.messages or errors.conflict or errors.confirm)
        return render(
            request,
            "trade_form.html",
            (409 if errors.conflict else 422) if failed else 200,
            title=f"{'Sell' if mode == 'sell' else 'Edit'} {symbol} lot",
            mode=mode,
            trade=trade,
            symbol=symbol,
            form=errors,
            version=errors.values.get("version") or trade.version,
        )

    @pages.get("/trades/{trade_id}/sell")
    def sell_page(request: Request, trade_id: str) -> HTMLResponse:
        return trade_form(request, trade_id, "sell", FormError())

    @pages.get("/trades/{trade_id}/edit")
    def edit_page(request: Request, trade_id: str) -> HTMLResponse:
        return trade_form(request, trade_id, "edit", FormError())

    def tradeconflict_of(
        request: Request, trade_id: str, mode: Literal["sell", "edit"], values: dict[str, str]
    ) -> FormError:
        current = page_db(request).run(lambda s: crud.get_row(s, trades, trade_id))
        saved = _trade_values(current)
        if mode == "sell":
            mine = {**values, "quantity": values["quantity"] or saved["quantity"]}
            labels = {"quantity": "Shares", "sell": "Sell price", "sell_date": "Sell date"}
        else:
            mine, labels = values, TRADE_LABELS
        return FormError({}, values, conflict=conflict_of(labels, mine, saved, current.version))

    def save_trade(
        request: Request,
        trade_id: str,
        mode: Literal["sell", "edit"],
        values: dict[str, str],
        form: Mapping[str, str],
    ) -> Response:
        """Sell or edit: ``form`` has ``version``, and maybe ``overwrite`` (the saved
        version, from "Save mine over theirs") and ``confirm_date``."""
        names = SELL_FIELDS if mode == "sell" else EDIT_FIELDS
        version = form_version(form.get("overwrite", "") or form.get("version", ""))
        confirmed = bool(form.get("confirm_date"))
        shown = {**values, "version": form.get("version", "")}

        def sell_work(session: Session) -> Any:
            if not values["sell"]:
                raise FormError({"sell": "is needed to sell the lot"}, shown)
            if not values["sell_date"]:
                raise FormError({"sell_date": "is needed to sell the lot"}, shown)
            body = validate(_models("trades").update, values, {"version": version or 1})
            check_trade_dates(session, shown, ["sell_date"], confirmed=confirmed)
            return sell_lot(
                session,
                trade_id,
                version=version,
                sell=body["sell"],
                sell_date=body["sell_date"],
                quantity=body.get("quantity"),
                sold_id=sold_id,
            )

        def edit_work(session: Session) -> Any:
            changes = validate(_models("trades").update, values, {"version": version or 1})
            changes.pop("version")
            changes.setdefault("sell", None)  # emptied sell fields reopen the lot
            changes.setdefault("sell_date", None)
            stored = _trade_values(crud.get_row(session, trades, trade_id))
            check_trade_dates(
                session, shown, ["buy_date", "sell_date"], confirmed=confirmed, stored=stored
            )
            return crud.update_row(session, trades, trade_id, version, changes)

        sold_id = crud.new_id()
        try:
            result = write(request, "trades", sell_work if mode == "sell" else edit_work)
        except FormError as errors:
            errors.values = shown
            return trade_form(request, trade_id, mode, errors)
        except StaleVersionError:
            return trade_form(
                request, trade_id, mode, tradeconflict_of(request, trade_id, mode, shown)
            )
        except RmsError as exc:
            if isinstance(exc, NotFoundError):
                raise
            return trade_form(request, trade_id, mode, FormError.of(exc, shown, names))
        symbol = page_db(request).run(lambda s: queries.symbol_of(s, trade_id))
        if mode == "sell":
            sold, remaining = result.sold, result.remaining
            text = f"Sold {sold.quantity} {symbol} at {money(sold.sell)} on {_day(sold.sell_date)}"
            if remaining is not None:
                text += f"; {remaining.quantity} stay open."
            else:
                text += ": the whole lot."
            account_id = sold.accountId
        else:
            text = f"Saved the {symbol} trade bought {_day(result.buy_date)}."
            account_id = result.accountId
        return redirect(request, _account_url(account_id, anchor="#trades"), {"text": text})

    @pages.post("/trades/{trade_id}/sell")
    def sell(
        request: Request,
        trade_id: str,
        quantity: Field = "",
        sell: Field = "",
        sell_date: Field = "",
        version: Field = "",
        overwrite: Field = "",
        confirm_date: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        values = {"quantity": quantity, "sell": sell, "sell_date": sell_date}
        form = {"version": version, "overwrite": overwrite, "confirm_date": confirm_date}
        return save_trade(request, trade_id, "sell", values, form)

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
        overwrite: Field = "",
        confirm_date: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        values = {
            "quantity": quantity,
            "buy": buy,
            "buy_date": buy_date,
            "sell": sell,
            "sell_date": sell_date,
        }
        form = {"version": version, "overwrite": overwrite, "confirm_date": confirm_date}
        return save_trade(request, trade_id, "edit", values, form)

    # --- one dividend or deposit: edit --------------------------------------------------

    def deposit_form(request: Request, deposit_id: str, errors: FormError) -> HTMLResponse:
        def work(session: Session) -> dict[str, Any]:
            row = crud.get_row(session, deposits, deposit_id)
            symbol = (
                session.get(RESOURCES["universe"].model, row.universeId) if row.universeId else None
            )
            return {
                "row": row,
                "symbol": symbol.symbol if symbol is not None else "",
                "types": queries.deposit_types(session),
            }

        data = page_db(request).run(work)
        row = data["row"]
        failed = bool(errors.messages or errors.conflict)
        what = "dividend" if row.universeId else ("withdrawal" if row.amount < 0 else "deposit")
        return render(
            request,
            "deposit_form.html",
            (409 if errors.conflict else 422) if failed else 200,
            title=f"Edit the {what} of {_day(row.date)}",
            form=errors,
            dividend=row.universeId is not None,
            version=errors.values.get("version") or row.version,
            **data,
        )

    def _deposit_saved(row: DivDeposit, symbol: str) -> dict[str, str]:
        return {
            "symbol": symbol,
            "amount": _number(row.amount),
            "date": _day(row.date),
            "divDepositTypeId": row.divDepositTypeId,
        }

    @pages.get("/deposits/{deposit_id}/edit")
    def deposit_edit_page(request: Request, deposit_id: str) -> HTMLResponse:
        return deposit_form(request, deposit_id, FormError())

    @pages.post("/deposits/{deposit_id}/edit")
    def edit_deposit(
        request: Request,
        deposit_id: str,
        symbol: Field = "",
        amount: Field = "",
        date: Field = "",
        divDepositTypeId: Field = "",  # noqa: N803 - the API's field name
        version: Field = "",
        overwrite: Field = "",
        csrf: Field = "",
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        values = {
            "symbol": symbol,
            "amount": amount,
            "date": date,
            "divDepositTypeId": divDepositTypeId,
        }
        shown = {**values, "version": version}
        stored_version = form_version(overwrite or version)

        def work(session: Session) -> Any:
            row = crud.get_row(session, deposits, deposit_id)
            changes = deposit_values(session, values, dividend=row.universeId is not None)
            changes.pop("version")
            return crud.update_row(session, deposits, deposit_id, stored_version, changes)

        try:
            row = write(request, "div-deposits", work)
        except FormError as errors:
            errors.values = shown
            return deposit_form(request, deposit_id, errors)
        except StaleVersionError:

            def current(session: Session) -> tuple[DivDeposit, str]:
                row = crud.get_row(session, deposits, deposit_id)
                return row, queries.symbol_name(session, row.universeId)

            saved_row, saved_symbol = page_db(request).run(current)
            saved = _deposit_saved(saved_row, saved_symbol)
            conflict = conflict_of(DEPOSIT_LABELS, values, saved, saved_row.version)
            return deposit_form(request, deposit_id, FormError({}, shown, conflict=conflict))
        except RmsError as exc:
            if isinstance(exc, NotFoundError):
                raise
            return deposit_form(request, deposit_id, FormError.of(exc, shown, DEPOSIT_EDIT_FIELDS))
        text = f"Saved the {deposit_words(row)}."
        return redirect(request, _deposit_list(row), {"text": text})

    # --- delete, and undo --------------------------------------------------------------

    def deleted(
        request: Request, kind: str, row: Any, what: str, back: str, anchor: str
    ) -> Response:
        view = view_query(back)
        undo = f"/{kind}/{quote(row.id, safe='')}/restore" + (
            f"?{urlencode({'back': view})}" if view else ""
        )
        flash: Flash = {"text": f"Deleted the {what}.", "undo": undo, "version": row.version}
        return redirect(request, _account_url(row.accountId, view, anchor), flash)

    @pages.post("/trades/{trade_id}/delete")
    def delete_trade(
        request: Request, trade_id: str, version: Field = "", back: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        stored = form_version(version) or None
        row = write(request, "trades", lambda s: crud.delete_row(s, trades, trade_id, stored))
        symbol = page_db(request).run(lambda s: queries.symbol_name(s, row.universeId))
        what = f"{symbol} trade bought {_day(row.buy_date)}"
        return deleted(request, "trades", row, what, back, "#trades")

    @pages.post("/deposits/{deposit_id}/delete")
    def delete_deposit(
        request: Request, deposit_id: str, version: Field = "", back: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        stored = form_version(version) or None
        row = write(
            request, "div-deposits", lambda s: crud.delete_row(s, deposits, deposit_id, stored)
        )
        anchor = "#dividends" if row.universeId else "#deposits"
        return deleted(request, "deposits", row, deposit_words(row), _unfolded(row, back), anchor)

    def restore(
        request: Request, resource: str, key: str, version: str, back: str, anchor: str
    ) -> Response:
        row = undo(request, resource, key, form_version(version) or None)
        if isinstance(row, Response):
            return row
        if resource == "div-deposits":  # back to the row's own list, unfolded
            anchor = "#dividends" if row.universeId else "#deposits"
            back = _unfolded(row, back)
        return redirect(
            request,
            _account_url(row.accountId, view_query(back), anchor),
            {"text": "Restored: the delete is undone."},
        )

    @pages.post("/trades/{trade_id}/restore")
    def restore_trade(
        request: Request, trade_id: str, back: Text = "", version: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        return restore(request, "trades", trade_id, version, back, "#trades")

    @pages.post("/deposits/{deposit_id}/restore")
    def restore_deposit(
        request: Request, deposit_id: str, back: Text = "", version: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        return restore(request, "div-deposits", deposit_id, version, back, "#dividends")

    return pages
