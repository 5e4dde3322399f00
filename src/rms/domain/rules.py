"""Rules a trade and a deposit obey, whoever writes them and on whichever database.

They are checked on the whole row as it would be after the write (for an update: the stored
row with the changes applied), so a PATCH that changes one field cannot break a rule that
involves another (``sell_date`` against the stored ``buy_date``). Each rule raises
:class:`rms.errors.InvalidInputError` naming the field to correct.

A trade is *open* while it has no ``sell_date``. An open trade has no sell price: the API
shows ``sell`` as null. The application's ``sell`` column is NOT NULL, so an open trade
is stored with ``sell = 0`` (what the application itself writes for one, and what its
summaries expect); a value left there by an older writer is ignored while the trade is
open (:func:`trade_sell_price`).

The per-field bounds (``buy > 0``, ``quantity > 0``, amounts not zero) are also declared in
the request schema, so a client sees them in the OpenAPI document; they are repeated here
because these functions are the rules themselves, called for every write.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from rms.errors import InvalidInputError

__all__ = [
    "OPEN_TRADE_STORED_SELL",
    "check_deposit",
    "check_trade",
    "is_open",
    "trade_sell_price",
]

#: What the ``sell`` column holds for an open trade (the column is NOT NULL).
OPEN_TRADE_STORED_SELL = 0.0


def _positive(values: Mapping[str, Any], name: str, what: str) -> None:
    value = values.get(name)
    if value is None:
        raise InvalidInputError(f"{name}: {what} is required", field=name)
    if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
        raise InvalidInputError(f"{name}: {what} must be more than 0, got {value!r}", field=name)


def is_open(trade: Mapping[str, Any]) -> bool:
    return trade.get("sell_date") is None


def trade_sell_price(sell: float | None, sell_date: datetime | None) -> float | None:
    """The sell price a trade shows: none while it is open, whatever the column holds."""
    return None if sell_date is None else sell


def check_trade(trade: Mapping[str, Any]) -> None:
    """A trade as it would be stored: prices and quantity positive, sold consistently.

    * ``buy`` > 0 and ``quantity`` > 0;
    * ``sell`` and ``sell_date`` are set together or not at all (``sell`` may be 0: a
      position sold for nothing is still sold);
    * ``sell_date`` is not before ``buy_date``.
    """
    _positive(trade, "buy", "the buy price")
    _positive(trade, "quantity", "the quantity")
    sell, sell_date = trade.get("sell"), trade.get("sell_date")
    if sell is not None and sell_date is None:
        raise InvalidInputError(
            "sell_date: a trade with a sell price needs its sell_date "
            "(an open trade has no sell price: send sell as null)",
            field="sell_date",
        )
    if sell_date is not None and sell is None:
        raise InvalidInputError(
            "sell: a trade with a sell_date needs its sell price "
            "(to reopen the trade, send sell_date and sell as null)",
            field="sell",
        )
    if sell is not None and not (math.isfinite(sell) and sell >= 0):
        raise InvalidInputError(f"sell: must be 0 or more, got {sell!r}", field="sell")
    buy_date = trade.get("buy_date")
    if sell_date is not None and buy_date is not None and sell_date < buy_date:
        raise InvalidInputError(
            f"sell_date: {sell_date:%Y-%m-%d} is before the buy_date {buy_date:%Y-%m-%d}; "
            "a trade is sold on or after the day it was bought",
            field="sell_date",
        )


def check_deposit(deposit: Mapping[str, Any]) -> None:
    """A dividend (a deposit naming a symbol) is more than 0; any other deposit is not 0.

    A negative deposit without a symbol is a withdrawal; a negative dividend means nothing
    (a correction is a change to the dividend, not a second, negative one).
    """
    amount = deposit.get("amount")
    if amount is None:
        raise InvalidInputError("amount: the amount is required", field="amount")
    if deposit.get("universeId") is not None:
        if not amount > 0:
            raise InvalidInputError(
                f"amount: a dividend (a deposit with a universeId) must be more than 0, "
                f"got {amount!r}",
                field="amount",
            )
    elif amount == 0:
        raise InvalidInputError(
            "amount: a deposit must not be 0 (a negative amount is a withdrawal)", field="amount"
        )
