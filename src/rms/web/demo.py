"""Removing the demo portfolio from the pages: a confirmation page, then one POST.

The same function as ``rms db seed --remove-demo`` (:func:`rms.seed.remove_demo`), in one
unit of work: exactly the demo's rows go, the owner's rows and the reference data stay. When
the owner's rows use a demo account or symbol, the page says which and offers to keep those.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, Response

from rms.db.database import Database
from rms.http.cache import ReferenceCache
from rms.seed import DemoInUseError, demo_plan, remove_demo
from rms.web.render import csrf_ok, redirect, refused, render
from rms.web.routing import PageRoute

__all__ = ["router"]

Field = Annotated[str, Form(max_length=200)]


def _db(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def router() -> APIRouter:
    pages = APIRouter(route_class=PageRoute, include_in_schema=False)

    def confirm_page(request: Request, *, error: str | None = None) -> HTMLResponse:
        plan = _db(request).run(demo_plan)
        return render(
            request,
            "demo_remove.html",
            409 if error else 200,
            title="Remove the demo portfolio",
            plan=plan,
            error=error,
        )

    @pages.get("/demo/remove")
    def remove_page(request: Request) -> HTMLResponse:
        return confirm_page(request)

    @pages.post("/demo/remove")
    def remove(
        request: Request, confirm: Field = "", keep: Field = "", csrf: Field = ""
    ) -> Response:
        if not csrf_ok(request, csrf):
            return refused(request)
        if confirm != "remove":
            return confirm_page(request, error="Nothing was removed: confirm with the button.")
        cache: ReferenceCache = request.app.state.cache
        try:
            _, deleted = _db(request).run(
                lambda s: remove_demo(s, keep_used=keep == "yes"), write=True
            )
        except DemoInUseError:
            return confirm_page(
                request,
                error="Nothing was removed: some of your own rows use the demo's accounts or "
                "symbols (listed below). Move or delete them first, or tick "
                "'Keep them'.",
            )
        finally:
            for group in ("accounts", "universe", "trades", "div-deposits"):
                cache.invalidate(group)
        if not sum(deleted.values()):
            text = "There was no demo portfolio to remove."
        else:
            parts = ", ".join(f"{count} {what}" for what, count in deleted.items() if count)
            text = f"Removed the demo portfolio: {parts}. Your own rows are as they were."
        return redirect(request, "/", {"text": text})

    return pages
