"""Holdings rules: what an account's positions, per symbol and in total, are worth.

For one account, every figure is computed from its live (not soft-deleted) trades and
dividends:

* a lot is open while it has no sell date; its **cost basis** is ``buy * quantity``;
* the **unrealised gain** of an open lot is ``(last price - buy) * quantity``, only where a
  price is known (a last price above zero); a symbol or account total of unrealised gains
  adds the priced lots only and says how many lots have no price;
* the **realised gain** of a sold lot is ``(sell - buy) * quantity``, counted in the year of
  its sell date for "realised this year";
* the **income this year** is the sum of the dividends (rows with a symbol) dated in the
  calendar year (UTC), whether the lot that paid them is still open or not;
* the **yearly income** of an open lot is ``distribution * distributions per year *
  quantity``; the **yield on cost** of a symbol or an account is its yearly income over its
  open cost basis (None when nothing is open).

Money totals are rounded to the cent; yields are plain ratios (0.085 is 8.5 %).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime

__all__ = ["Figures", "Holdings", "LotRow", "SymbolTotals", "holdings"]


@dataclass(frozen=True)
class LotRow:
    """One lot (an open or sold trade) with its symbol's price data."""

    trade_id: str
    version: int
    symbol: str
    quantity: int
    buy: float
    buy_date: datetime
    sell: float | None
    sell_date: datetime | None
    last_price: float
    distribution: float
    distributions_per_year: int

    @property
    def is_open(self) -> bool:
        return self.sell_date is None

    @property
    def cost_basis(self) -> float:
        return round(self.buy * self.quantity, 2)

    @property
    def priced(self) -> bool:
        return self.last_price > 0

    @property
    def unrealised_gain(self) -> float | None:
        if not self.is_open or not self.priced:
            return None
        return round((self.last_price - self.buy) * self.quantity, 2)

    @property
    def realised_gain(self) -> float | None:
        if self.is_open or self.sell is None:
            return None
        return round((self.sell - self.buy) * self.quantity, 2)

    @property
    def yearly_income(self) -> float:
        return (
            self.distribution * self.distributions_per_year * self.quantity if self.is_open else 0.0
        )

    @property
    def yield_on_cost(self) -> float | None:
        """distribution x distributions per year / the price paid."""
        if self.buy <= 0:
            return None
        return self.distribution * self.distributions_per_year / self.buy


def _cents(value: float) -> float:
    return round(value + 0.0, 2)


@dataclass(frozen=True)
class Figures:
    """The totals shared by a symbol and an account."""

    open_lots: int
    sold_lots: int
    open_quantity: int
    cost_basis: float
    market_value: float
    unrealised_gain: float
    unpriced_lots: int
    realised_gain: float
    realised_this_year: float
    income_this_year: float
    yearly_income: float
    #: A year of the current distributions over the open lots' cost basis; None without
    #: open lots.
    yield_on_cost: float | None


def _figures(lots: Iterable[LotRow], income: float, year: int) -> Figures:
    lots = list(lots)
    opened = [lot for lot in lots if lot.is_open]
    sold = [lot for lot in lots if not lot.is_open]
    priced = [lot for lot in opened if lot.priced]
    cost_basis = _cents(sum(lot.buy * lot.quantity for lot in opened))
    yearly_income = _cents(sum(lot.yearly_income for lot in opened))
    return Figures(
        open_lots=len(opened),
        sold_lots=len(sold),
        open_quantity=sum(lot.quantity for lot in opened),
        cost_basis=cost_basis,
        market_value=_cents(sum(lot.last_price * lot.quantity for lot in priced)),
        unrealised_gain=_cents(sum((lot.last_price - lot.buy) * lot.quantity for lot in priced)),
        unpriced_lots=len(opened) - len(priced),
        realised_gain=_cents(sum(((lot.sell or 0.0) - lot.buy) * lot.quantity for lot in sold)),
        realised_this_year=_cents(
            sum(
                ((lot.sell or 0.0) - lot.buy) * lot.quantity
                for lot in sold
                if lot.sell_date is not None and lot.sell_date.year == year
            )
        ),
        income_this_year=_cents(income),
        yearly_income=yearly_income,
        yield_on_cost=yearly_income / cost_basis if cost_basis > 0 else None,
    )


@dataclass(frozen=True)
class SymbolTotals:
    symbol: str
    figures: Figures
    open_lots: list[LotRow] = field(default_factory=list)
    sold_lots: list[LotRow] = field(default_factory=list)

    @property
    def average_cost(self) -> float | None:
        quantity = self.figures.open_quantity
        return self.figures.cost_basis / quantity if quantity else None

    @property
    def last_price(self) -> float | None:
        prices = [lot.last_price for lot in self.open_lots + self.sold_lots if lot.priced]
        return prices[0] if prices else None


@dataclass(frozen=True)
class Holdings:
    """An account's lots grouped by symbol (symbols in alphabetical order) and its totals."""

    account_id: str
    year: int
    symbols: list[SymbolTotals]
    total: Figures


def holdings(
    account_id: str, year: int, lots: Iterable[LotRow], income: Mapping[str, float]
) -> Holdings:
    """Group ``lots`` by symbol and total them; ``income`` is this year's dividends by symbol.

    A symbol appears when the account has a lot of it (open or sold) or a dividend of it
    this year.
    """
    by_symbol: dict[str, list[LotRow]] = {}
    for lot in lots:
        by_symbol.setdefault(lot.symbol, []).append(lot)
    for symbol in income:
        by_symbol.setdefault(symbol, [])
    symbols = []
    for symbol in sorted(by_symbol):
        rows = sorted(by_symbol[symbol], key=lambda lot: (lot.buy_date, lot.trade_id))
        symbols.append(
            SymbolTotals(
                symbol=symbol,
                figures=_figures(rows, income.get(symbol, 0.0), year),
                open_lots=[lot for lot in rows if lot.is_open],
                sold_lots=sorted(
                    (lot for lot in rows if not lot.is_open),
                    key=lambda lot: (lot.sell_date, lot.trade_id),
                    reverse=True,
                ),
            )
        )
    every = [lot for rows in by_symbol.values() for lot in rows]
    return Holdings(account_id, year, symbols, _figures(every, sum(income.values()), year))
