"""The read pages: sign-in, dashboard, holidays; "sign out everywhere".

The universe, the screener and the other lists the owner changes are :mod:`rms.web.manage`.

The dashboard's figures come from :func:`rms.repo.summary.month_summary` and
:func:`rms.repo.summary.year_graph`, the functions behind ``/api/summary`` and
``/api/summary/graph``, in one unit of work, so the page and the API cannot disagree.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, Response
from pydantic import TypeAdapter, ValidationError
from sqlalchemy.orm import Session

from rms.db.database import Database
from rms.domain.portfolio import year_total
from rms.http.cookies import signed_out
from rms.http.problems import field_problems
from rms.http.values import Month
from rms.repo import crud
from rms.repo import pages as queries
from rms.repo.calendar import year_holidays
from rms.repo.resources import RESOURCES
from rms.repo.summary import latest_month, month_summary, year_graph
from rms.seed import has_demo
from rms.web.chart import year_chart
from rms.web.render import csrf_ok, refused, render
from rms.web.routing import PageRoute

__all__ = ["login_page", "router"]

_MONTH = TypeAdapter(Month)
Text = Annotated[str, Query(max_length=200)]


def login_page(request: Request, target: str, *, error: str | None = None) -> HTMLResponse:
    """The sign-in page: ``/auth/login`` answers it, and a failed sign-in shows it again
    (:mod:`rms.api.routes.auth`, which :func:`rms.app.create_app` hands it to)."""
    auth = request.app.state.auth
    return render(
        request,
        "login.html",
        title="Sign in",
        target=target,
        error=error,
        token_form=auth.local is not None,
        oidc=auth.oidc is not None,
    )


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def router() -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    @pages.get("/")
    def dashboard(request: Request, month: Text = "", account_id: Text = "") -> HTMLResponse:
        error = None
        asked: str | None = None
        if month:
            try:
                asked = _MONTH.validate_python(month)
            except ValidationError as exc:
                error = f"month {field_problems(exc.errors())[0]['reason']}"
        account = account_id or None

        def work(session: Session) -> dict[str, Any]:
            if account is not None:
                crud.get_row(session, RESOURCES["accounts"], account)
            # No month asked: the latest one with data up to now (the demo data ends before
            # today), so the first screen is not all zeros; this month when there is none.
            now = datetime.now(UTC)
            chosen = asked or latest_month(session, now, account) or now.strftime("%Y-%m")
            summary = month_summary(session, chosen, account)
            months = year_graph(session, int(chosen[:4]), account)
            return {
                "month": chosen,
                "summary": summary,
                "months": months,
                "year_total": year_total(months),
                "accounts": queries.accounts(session),
                "demo": has_demo(session),
            }

        data = _db(request).run(work)
        return render(
            request,
            "dashboard.html",
            title="Dashboard",
            account_id=account or "",
            month_error=error,
            chart=year_chart(data["months"]),
            chart_narrow=year_chart(data["months"], narrow=True),
            **data,
        )

    @pages.get("/holidays")
    def holidays(request: Request, year: Text = "") -> HTMLResponse:
        chosen, error = datetime.now(UTC).year, None
        if year.isascii() and year.isdigit() and 1900 <= int(year) <= 2199:
            chosen = int(year)
        elif year:
            error = f"Year {year!r} is not a year from 1900 to 2199; showing {chosen}."
        rows = _db(request).run(lambda s: year_holidays(s, chosen))
        return render(
            request,
            "holidays.html",
            400 if error else 200,
            title=f"Market holidays {chosen}",
            rows=rows,
            year=chosen,
            year_error=error,
        )

    @pages.post("/auth/logout-everywhere")
    async def sign_out_everywhere(
        request: Request, csrf: Annotated[str, Form(max_length=200)] = ""
    ) -> Response:
        """The pages' "Sign out everywhere" button: every session ends, this one too."""
        if not csrf_ok(request, csrf):
            return refused(request)
        store = request.app.state.auth.store
        if store is not None:
            await anyio.to_thread.run_sync(store.end_all)
        return await signed_out(request)

    return pages
