"""Trade actions beyond the generic resource routes: selling a lot, whole or in part."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from rms.api.deps import database, reference_cache
from rms.api.routes.resources import KeyPath
from rms.api.schemas import TradeSaleIn, TradeSaleOut
from rms.db.database import Database
from rms.http.cache import ReferenceCache
from rms.http.models import MODELS
from rms.http.problems import problem_responses
from rms.repo import crud
from rms.repo.trades import sell_lot

__all__ = ["trade_router"]


def trade_router() -> APIRouter:
    router = APIRouter(
        prefix="/api/trades", tags=["trades"], responses=problem_responses(400, 404, 409, 422, 503)
    )
    read: Any = MODELS["trades"].read

    @router.post("/{key}/sell", response_model=TradeSaleOut, summary="Sell a lot, whole or in part")
    def sell(
        key: KeyPath,
        body: TradeSaleIn,
        db: Annotated[Database, Depends(database)],
        cache: Annotated[ReferenceCache, Depends(reference_cache)],
    ) -> dict[str, Any]:
        sold_id = body.id or crud.new_id()  # before the first attempt: a retry reuses it

        def work(session: Session) -> dict[str, Any]:
            sale = sell_lot(
                session,
                key,
                version=body.version,
                sell=body.sell,
                sell_date=body.sell_date,
                quantity=body.quantity,
                sold_id=sold_id,
            )
            remaining = sale.remaining
            return {
                "sold": read.model_validate(sale.sold),
                "remaining": None if remaining is None else read.model_validate(remaining),
            }

        with cache.writing("trades"):
            result: dict[str, Any] = db.run(work, write=True)
        return result

    return router
