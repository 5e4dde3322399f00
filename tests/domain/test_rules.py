"""The trade and deposit rules on their own (no database, no HTTP)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rms.domain.rules import check_deposit, check_trade, is_open, trade_sell_price
from rms.errors import InvalidInputError

BOUGHT = datetime(2024, 3, 1, 14, 30, tzinfo=UTC)
SOLD = datetime(2024, 4, 1, tzinfo=UTC)
OPEN: dict[str, Any] = {"buy": 10.0, "quantity": 5, "buy_date": BOUGHT}


@pytest.mark.parametrize(
    "trade",
    [
        OPEN,
        {**OPEN, "sell": 12.0, "sell_date": SOLD},
        {**OPEN, "sell": 0.0, "sell_date": SOLD},  # sold for nothing is still sold
        {**OPEN, "sell": 9.0, "sell_date": BOUGHT},  # sold the moment it was bought
        {**OPEN, "buy": 1e-9, "quantity": 1},
    ],
)
def test_valid_trades_pass(trade: dict[str, Any]) -> None:
    check_trade(trade)


@pytest.mark.parametrize(
    ("trade", "field", "words"),
    [
        ({**OPEN, "buy": 0}, "buy", "more than 0"),
        ({**OPEN, "buy": -1.5}, "buy", "got -1.5"),
        ({**OPEN, "buy": float("nan")}, "buy", "more than 0"),
        ({**OPEN, "buy": None}, "buy", "required"),
        ({**OPEN, "quantity": 0}, "quantity", "more than 0"),
        ({**OPEN, "sell": 12.0}, "sell_date", "needs its sell_date"),
        ({**OPEN, "sell_date": SOLD}, "sell", "needs its sell price"),
        ({**OPEN, "sell": -1.0, "sell_date": SOLD}, "sell", "0 or more"),
        (
            {**OPEN, "sell": 12.0, "sell_date": datetime(2024, 3, 1, 14, 29, tzinfo=UTC)},
            "sell_date",
            "before the buy_date 2024-03-01",
        ),
    ],
)
def test_broken_trades_name_the_field(trade: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(InvalidInputError, match=words) as info:
        check_trade(trade)
    assert info.value.field == field


def test_open_trades_show_no_sell_price() -> None:
    assert is_open(OPEN) and not is_open({**OPEN, "sell_date": SOLD})
    assert trade_sell_price(220.0, None) is None
    assert trade_sell_price(0.0, SOLD) == 0.0 and trade_sell_price(12.5, SOLD) == 12.5


@pytest.mark.parametrize(
    "deposit",
    [{"amount": 100.0}, {"amount": -50.0}, {"amount": 0.01, "universeId": "pdi"}],
)
def test_valid_deposits_pass(deposit: dict[str, Any]) -> None:
    check_deposit(deposit)


@pytest.mark.parametrize(
    ("deposit", "words"),
    [
        ({"amount": 0.0}, "must not be 0"),
        ({"amount": -13.0, "universeId": "pdi"}, "dividend .* more than 0"),
        ({"amount": 0.0, "universeId": "pdi"}, "dividend"),
        ({"amount": None}, "required"),
    ],
)
def test_broken_deposits_name_the_amount(deposit: dict[str, Any], words: str) -> None:
    with pytest.raises(InvalidInputError, match=words) as info:
        check_deposit(deposit)
    assert info.value.field == "amount"
