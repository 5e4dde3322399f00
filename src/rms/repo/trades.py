"""Selling a lot, whole or in part, in one unit of work (``POST /api/trades/{id}/sell``).

Selling the whole lot closes it (``sell`` and ``sell_date`` set on the trade itself).
Selling part of it splits the lot: the trade keeps its id, stays open and keeps the rest
of the shares; a new trade (same account, symbol, buy price and buy date) holds the
shares sold, closed at the sell price and date. Both writes happen in the caller's
transaction, so the lot is never seen half split.

Retries are harmless: the caller makes the sold trade's id before the first attempt; a
replay finds the open trade one version on with the remaining quantity (accepted as
already applied by :func:`rms.repo.crud.update_row`) and the sold trade with the same
content (returned by :func:`rms.repo.crud.create_row`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from rms.errors import InvalidInputError, StaleVersionError
from rms.repo import crud
from rms.repo.resources import RESOURCES

__all__ = ["Sale", "sell_lot"]


@dataclass(frozen=True)
class Sale:
    """What a sale left: the closed trade, and the lot still open (``None``: all sold)."""

    sold: Any
    remaining: Any | None


def sell_lot(
    session: Session,
    trade_id: str,
    *,
    version: int,
    sell: float,
    sell_date: datetime,
    quantity: int | None = None,
    sold_id: str | None = None,
) -> Sale:
    """Sell ``quantity`` shares (default: all) of the open lot ``trade_id`` at ``version``.

    Raises :class:`InvalidInputError` naming ``quantity`` when it is more than the lot
    holds, or names a closed lot; :class:`StaleVersionError` when the lot changed since
    ``version``; the trade rules (:mod:`rms.domain.rules`) as for any update.
    """
    spec = RESOURCES["trades"]
    lot = crud.get_row(session, spec, trade_id)
    whole = quantity is None or quantity == lot.quantity
    if lot.version != version:
        if sold_id is not None and lot.version == version + 1:
            sold = session.get(spec.model, sold_id)
            if sold is not None:  # the first attempt committed; its answer was lost
                return Sale(sold, lot)
        if whole:  # a replayed whole sale is accepted by update_row, anything else is stale
            return Sale(
                crud.update_row(session, spec, trade_id, version, _closing(sell, sell_date)), None
            )
        raise StaleVersionError(spec.label, trade_id, given=version, current=lot.version)
    if lot.sell_date is not None:
        raise InvalidInputError(
            f"id: trade {trade_id!r} is already sold ({lot.sell_date:%Y-%m-%d})", field="id"
        )
    wanted = lot.quantity if quantity is None else quantity
    if not 1 <= wanted <= lot.quantity:
        raise InvalidInputError(
            f"quantity: the lot holds {lot.quantity} shares; {wanted} cannot be sold from it",
            field="quantity",
        )
    if wanted == lot.quantity:
        closed = crud.update_row(session, spec, trade_id, version, _closing(sell, sell_date))
        return Sale(closed, None)
    # The lot first: its conditional UPDATE takes the row (PostgreSQL), so a concurrent
    # sale of the same lot waits, then finds a new version and is refused.
    remaining = crud.update_row(
        session, spec, trade_id, version, {"quantity": lot.quantity - wanted}
    )
    sold = crud.create_row(
        session,
        spec,
        {
            "id": sold_id or crud.new_id(),
            "accountId": remaining.accountId,
            "universeId": remaining.universeId,
            "buy": remaining.buy,
            "buy_date": remaining.buy_date,
            "quantity": wanted,
            **_closing(sell, sell_date),
        },
    )
    return Sale(sold, remaining)


def _closing(sell: float, sell_date: datetime) -> dict[str, Any]:
    return {"sell": sell, "sell_date": sell_date}
