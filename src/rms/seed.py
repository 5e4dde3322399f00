"""Reference data for a fresh environment, and an optional demo portfolio.

Everything here is idempotent: rows have deterministic ids and are only inserted when
missing, so running the seed twice changes nothing the second time.

Market holidays come from the ``holidays`` package's NYSE calendar (kept up to date by its
maintainers, special closures included) rather than rules written here.

The demo portfolio runs from 2021-01 through the day it is seeded (:func:`seed_demo`), and
is removed by :func:`remove_demo`. Its rows are known exactly: they are the ids the
generator produces from its fixed seed (``demo-account-1``, ``demo-pdi``,
``demo-trade-0001``, ``demo-deposit-0001``, ...), recomputed here through a year after
today, never a pattern of names, so an owner's row is never taken for a demo row (the API
lets a client choose ids, and a prefix such as ``demo-`` would not be proof). A month's rows
do not depend on the day the demo was seeded through, so a demo seeded months ago is found
whole.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import delete, insert, or_, select
from sqlalchemy.orm import Session

from rms.domain.portfolio import STANDARD_RISK_GROUPS
from rms.errors import ConflictError
from rms.schema.tables import (
    Account,
    DivDeposit,
    DivDepositType,
    Holiday,
    RiskGroup,
    Row,
    Trade,
    Universe,
)
from rms.schema.types import utcnow

__all__ = [
    "DEPOSIT_TYPES",
    "DemoInUseError",
    "DemoPlan",
    "SeedResult",
    "demo_plan",
    "has_demo",
    "remove_demo",
    "seed_demo",
    "seed_reference",
]

DEPOSIT_TYPES = ("Deposit", "Dividend", "Interest", "Return of Capital")


def _slug(name: str) -> str:
    return name.lower().replace(" ", "-")


def risk_group_id(name: str) -> str:
    return f"rg-{_slug(name)}"


def deposit_type_id(name: str) -> str:
    return f"ddt-{_slug(name)}"


@dataclass
class SeedResult:
    """Rows inserted per table (zero when they were already there)."""

    inserted: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.inserted.values())


def _insert_missing(session: Session, model: type[Row], rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert the rows whose id is not present yet; returns how many were inserted."""
    if not rows:
        return 0
    key = model.__table__.c.id
    present = set(session.scalars(select(key).where(key.in_([r["id"] for r in rows]))))
    now = utcnow()
    missing = [
        {"createdAt": now, "updatedAt": now, "version": 1, **row}
        for row in rows
        if row["id"] not in present
    ]
    if missing:
        session.execute(insert(model), missing)
    return len(missing)


def _midnight(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def seed_reference(session: Session, years: Iterable[int]) -> SeedResult:
    """The standard risk groups, deposit types and NYSE holidays for ``years``."""
    years = list(years)
    import holidays  # not at import: the service imports this module for its demo page

    calendar = holidays.financial_holidays("NYSE", years=years)
    taken = set(session.scalars(select(Holiday.date)))
    holiday_rows = [
        {"id": f"holiday-{day.isoformat()}", "date": _midnight(day), "name": name}
        for day, name in sorted(calendar.items())
        if _midnight(day) not in taken
    ]
    return SeedResult(
        {
            "risk_group": _insert_missing(
                session,
                RiskGroup,
                [{"id": risk_group_id(n), "name": n} for n in STANDARD_RISK_GROUPS],
            ),
            "divDepositType": _insert_missing(
                session,
                DivDepositType,
                [{"id": deposit_type_id(n), "name": n} for n in DEPOSIT_TYPES],
            ),
            "holidays": _insert_missing(session, Holiday, holiday_rows),
        }
    )


# --- demo portfolio --------------------------------------------------------------------------

# (symbol, risk group, distributions per year, typical price): real closed-end-fund tickers.
_DEMO_SYMBOLS: tuple[tuple[str, str, int, float], ...] = (
    ("PDI", "Income", 12, 19.5),
    ("PTY", "Income", 12, 14.2),
    ("PCN", "Income", 12, 13.1),
    ("PFL", "Income", 12, 8.6),
    ("PHK", "Income", 12, 4.9),
    ("GOF", "Income", 12, 15.0),
    ("BGB", "Income", 12, 11.8),
    ("ARDC", "Income", 12, 13.9),
    ("JQC", "Income", 12, 5.6),
    ("DSL", "Income", 12, 12.1),
    ("AWF", "Income", 12, 10.8),
    ("HYT", "Income", 12, 9.7),
    ("CHI", "Income", 12, 11.2),
    ("BDJ", "Equities", 12, 8.4),
    ("ETY", "Equities", 12, 13.6),
    ("ETV", "Equities", 12, 13.9),
    ("EOS", "Equities", 12, 20.1),
    ("EXG", "Equities", 12, 8.2),
    ("BST", "Equities", 12, 36.0),
    ("UTF", "Equities", 12, 24.5),
    ("UTG", "Equities", 12, 28.7),
    ("GUT", "Equities", 12, 5.8),
    ("RQI", "Equities", 12, 12.3),
    ("RNP", "Equities", 12, 20.4),
    ("KYN", "Equities", 12, 10.1),
    ("BTT", "Tax Free Income", 12, 21.3),
    ("NEA", "Tax Free Income", 12, 11.4),
    ("NAD", "Tax Free Income", 12, 11.9),
    ("NVG", "Tax Free Income", 12, 12.6),
    ("NZF", "Tax Free Income", 12, 12.2),
    ("MUI", "Tax Free Income", 12, 11.7),
    ("MYI", "Tax Free Income", 12, 10.9),
    ("NUV", "Tax Free Income", 12, 8.9),
    ("PML", "Tax Free Income", 12, 8.4),
    ("VKQ", "Tax Free Income", 12, 9.6),
    ("IQI", "Tax Free Income", 12, 9.9),
)
_DEMO_ACCOUNTS = ("Brokerage", "Roth IRA", "Traditional IRA")
DEMO_FIRST_MONTH = (2021, 1)
#: The months one random stream makes (the demo's rows before it ran to the seeding day, kept
#: exactly: fixtures were made from them); each later month draws from its own stream.
_ONE_STREAM_LAST_MONTH = (2025, 12)
#: A lot bought in the one-stream months is sold by this day or never (as it always was).
_ONE_STREAM_LAST_SALE = datetime(2025, 12, 28, tzinfo=UTC)
#: How far past today :func:`demo_ids` looks, and so how far :func:`seed_demo` may reach: a
#: demo seeded where the clock ran ahead (then copied here) is still recognised.
_ID_MARGIN = timedelta(days=366)


def _months(first: tuple[int, int], last: tuple[int, int]) -> list[tuple[int, int]]:
    months, (year, month) = [], first
    while (year, month) <= last:
        months.append((year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


def _day_in(rng: random.Random, year: int, month: int) -> datetime:
    return datetime(year, month, rng.randint(1, 28), 15, 30, tzinfo=UTC)


def _today() -> date:
    return datetime.now(UTC).date()


def _demo_month(
    rng: random.Random,
    year: int,
    month: int,
    rows: dict[type[Row], list[dict[str, Any]]],
    last_sale: datetime | None,
) -> None:
    """One month's deposits, purchases (some sold later) and dividends, appended to ``rows``."""
    accounts, universe = rows[Account], rows[Universe]
    trades, deposits = rows[Trade], rows[DivDeposit]
    for account in accounts:
        if rng.random() < 0.75:
            deposits.append(
                {
                    "id": f"demo-deposit-{len(deposits) + 1:04d}",
                    "date": _day_in(rng, year, month),
                    "amount": float(rng.randrange(250, 2000, 50)),
                    "accountId": account["id"],
                    "divDepositTypeId": deposit_type_id("Deposit"),
                    "universeId": None,
                }
            )
    for _ in range(rng.randint(4, 6)):
        symbol = rng.choice(universe)
        buy_date = _day_in(rng, year, month)
        buy = round(symbol["last_price"] * rng.uniform(0.85, 1.1), 2)
        sell_date = buy_date + timedelta(days=rng.randint(20, 400))
        closed = rng.random() < 0.55 and (last_sale is None or sell_date <= last_sale)
        trades.append(
            {
                "id": f"demo-trade-{len(trades) + 1:04d}",
                "universeId": symbol["id"],
                "accountId": rng.choice(accounts)["id"],
                "buy": buy,
                "sell": round(buy * (1 + rng.gauss(0.03, 0.08)), 2) if closed else 0.0,
                "buy_date": buy_date,
                "quantity": rng.randrange(50, 600, 10),
                "sell_date": sell_date if closed else None,
            }
        )
    month_end = datetime(year, month, 28, tzinfo=UTC)
    held = [
        t
        for t in trades
        if t["buy_date"] < month_end and (t["sell_date"] is None or t["sell_date"] > month_end)
    ]
    for trade in rng.sample(held, min(len(held), 8)):
        symbol = next(u for u in universe if u["id"] == trade["universeId"])
        deposits.append(
            {
                "id": f"demo-deposit-{len(deposits) + 1:04d}",
                "date": month_end,
                "amount": round(trade["quantity"] * symbol["distribution"], 2),
                "accountId": trade["accountId"],
                "divDepositTypeId": deposit_type_id("Dividend"),
                "universeId": trade["universeId"],
            }
        )


def _demo_rows(seed: int, through: date) -> dict[type[Row], list[dict[str, Any]]]:
    """The demo portfolio as it stands on ``through``: nothing dated after that day.

    The history is generated month by month up to ``through``'s month, whatever day
    ``through`` is, and only then cut: the random draws of a month never depend on
    ``through``, so a row has the same id and content for every ``through`` that includes
    it (the ids of an earlier cut are a subset of a later one's). 2021-01..2025-12 come from
    one stream seeded with ``seed`` (the rows the demo always had); each later month from its
    own stream, seeded with ``seed`` and the month. The cut drops deposits, dividends and
    purchases after ``through`` and shows a lot sold after ``through`` as still open.
    """
    rng = random.Random(seed)  # noqa: S311 - demo data
    accounts = [{"id": f"demo-account-{i + 1}", "name": n} for i, n in enumerate(_DEMO_ACCOUNTS)]
    universe: list[dict[str, Any]] = [
        {
            "id": f"demo-{symbol.lower()}",
            "symbol": symbol,
            "risk_group_id": risk_group_id(group),
            "distributions_per_year": per_year,
            "last_price": price,
            "distribution": round(price * rng.uniform(0.07, 0.12) / per_year, 4),
            "expired": False,
            "is_closed_end_fund": True,
        }
        for symbol, group, per_year, price in _DEMO_SYMBOLS
    ]
    rows: dict[type[Row], list[dict[str, Any]]] = {
        Account: accounts,
        Universe: universe,
        Trade: [],
        DivDeposit: [],
    }
    for year, month in _months(DEMO_FIRST_MONTH, (through.year, through.month)):
        if (year, month) <= _ONE_STREAM_LAST_MONTH:
            _demo_month(rng, year, month, rows, _ONE_STREAM_LAST_SALE)
        else:
            own = random.Random(f"rms-demo:{seed}:{year:04d}-{month:02d}")  # noqa: S311
            _demo_month(own, year, month, rows, None)
    trades: list[dict[str, Any]] = []
    for trade in rows[Trade]:
        if trade["buy_date"].date() > through:
            continue
        sold = trade["sell_date"]
        trades.append(trade if sold is None or sold.date() <= through else _open(trade))
    deposits = [d for d in rows[DivDeposit] if d["date"].date() <= through]
    return {Account: accounts, Universe: universe, Trade: trades, DivDeposit: deposits}


def _open(trade: dict[str, Any]) -> dict[str, Any]:
    return {**trade, "sell": 0.0, "sell_date": None}


DEMO_SEED = 20240101


def seed_demo(session: Session, seed: int = DEMO_SEED, through: date | None = None) -> SeedResult:
    """A believable portfolio from 2021-01 through ``through`` (default: today, UTC), needing
    the reference data first; nothing in it is dated after ``through``.

    Generated from a fixed random seed, so every run through the same day produces the same
    rows. Seeding again on a later day inserts only the rows missing (the months since, the
    rest of the last month); rows already there are not updated: a lot the first seed showed
    open that the later one would show sold stays open (with no dividends after the day it
    would have been sold), which is a believable portfolio still, never a contradiction.
    ``through`` may not be more than a year past today: :func:`remove_demo` would not know
    those rows.
    """
    today = _today()
    through = today if through is None else through
    if through > today + _ID_MARGIN:
        raise ValueError(f"demo through {through}: more than a year after today ({today})")
    seed_reference(session, [])
    inserted = {
        str(model.__tablename__): _insert_missing(session, model, rows)
        for model, rows in _demo_rows(seed, through).items()
    }
    return SeedResult(inserted)


# --- removing the demo portfolio -------------------------------------------------------------

#: Deleted in this order (rows that refer to others first); reference data is never touched.
_DEMO_TABLES: tuple[tuple[type[Row], str], ...] = (
    (DivDeposit, "dividends and deposits"),
    (Trade, "trades"),
    (Universe, "symbols"),
    (Account, "accounts"),
)


def demo_ids() -> dict[type[Row], frozenset[str]]:
    """Every id the demo generator makes through a year after today, by table (whether or not
    it is in the database): the ids of a demo seeded through any day up to then, since an
    earlier cut's ids are a subset of a later one's (see :func:`_demo_rows`)."""
    return _demo_ids_through(_today() + _ID_MARGIN)


@lru_cache(maxsize=2)
def _demo_ids_through(horizon: date) -> dict[type[Row], frozenset[str]]:
    rows = _demo_rows(DEMO_SEED, horizon)
    return {model: frozenset(r["id"] for r in rows[model]) for model, _ in _DEMO_TABLES}


@dataclass(frozen=True)
class DemoPlan:
    """What removing the demo portfolio would do, read before doing it.

    ``present`` counts the demo rows in the database by table (plain names);
    ``dependents`` says, in the owner's words, which of his rows use a demo account or a
    demo symbol; ``used`` are those demo accounts and symbols (kept if the owner asks).
    """

    present: dict[str, int]
    dependents: list[str]
    used: dict[type[Row], frozenset[str]]

    @property
    def total(self) -> int:
        return sum(self.present.values())


class DemoInUseError(ConflictError):
    """The owner's rows use demo accounts or symbols: removing them would break his rows."""

    title = "Demo portfolio in use"


def _present(session: Session, model: type[Row], ids: frozenset[str]) -> set[str]:
    key = model.__table__.c.id
    return set(session.scalars(select(key).where(key.in_(sorted(ids)))))


def _names(session: Session, model: type[Row], column: Any, ids: set[str]) -> str:
    names = sorted(session.scalars(select(column).where(model.__table__.c.id.in_(sorted(ids)))))
    return ", ".join(names)


def has_demo(session: Session) -> bool:
    """Whether demo trades, dividends or deposits are still in the database (cheap)."""
    ids = demo_ids()
    for model in (Trade, DivDeposit):
        key = model.__table__.c.id
        if session.scalar(select(key).where(key.in_(sorted(ids[model]))).limit(1)) is not None:
            return True
    return False


def _s(items: set[str]) -> str:
    return "s" if len(items) != 1 else ""


def demo_plan(session: Session) -> DemoPlan:
    """Count the demo rows present and find the owner's rows that depend on them."""
    ids = demo_ids()
    present = {model: _present(session, model, ids[model]) for model, _ in _DEMO_TABLES}
    accounts, symbols = sorted(present[Account]), sorted(present[Universe])
    dependents: list[str] = []
    used_accounts: set[str] = set()
    used_symbols: set[str] = set()
    for model, plural in ((Trade, "trades"), (DivDeposit, "dividends or deposits")):
        mine = [
            model.__table__.c.id.not_in(sorted(ids[model])),
        ]
        uses = or_(model.accountId.in_(accounts), model.universeId.in_(symbols))
        rows = session.execute(
            select(model.accountId, model.universeId, model.deletedAt).where(*mine, uses)
        ).all()
        if not rows:
            continue
        in_accounts = {a for a, _, _ in rows if a in present[Account]}
        of_symbols = {u for _, u, _ in rows if u in present[Universe]}
        used_accounts |= in_accounts
        used_symbols |= of_symbols
        deleted = sum(1 for _, _, gone in rows if gone is not None)
        where = []
        if in_accounts:
            where.append(
                f"in the demo account{_s(in_accounts)} "
                f"{_names(session, Account, Account.name, in_accounts)}"
            )
        if of_symbols:
            where.append(
                f"of the demo symbol{_s(of_symbols)} "
                f"{_names(session, Universe, Universe.symbol, of_symbols)}"
            )
        note = f" ({deleted} of them deleted, which could still be undone)" if deleted else ""
        dependents.append(f"{len(rows)} of your {plural} {' and '.join(where)}{note}")
    return DemoPlan(
        present={plural: len(present[model]) for model, plural in _DEMO_TABLES},
        dependents=dependents,
        used={Account: frozenset(used_accounts), Universe: frozenset(used_symbols)},
    )


def remove_demo(session: Session, *, keep_used: bool = False) -> tuple[DemoPlan, dict[str, int]]:
    """Delete exactly the demo portfolio's rows (in the caller's one transaction).

    Refused (:class:`DemoInUseError`) when the owner's rows use a demo account or symbol,
    unless ``keep_used``: then those demo accounts and symbols stay (everything else of the
    demo goes, its trades and dividends in the kept accounts too). Returns the plan and the
    rows deleted by table. Risk groups, deposit types and holidays are never touched.
    """
    plan = demo_plan(session)
    if plan.dependents and not keep_used:
        refusal = DemoInUseError(
            "not removed: some of your own rows use the demo portfolio's accounts or symbols; "
            "move or delete them first, or keep those demo accounts and symbols"
        )
        refusal.lines = tuple(plan.dependents)
        raise refusal
    ids = demo_ids()
    deleted: dict[str, int] = {}
    for model, plural in _DEMO_TABLES:
        doomed = sorted(ids[model] - plan.used.get(model, frozenset()))
        key = model.__table__.c.id
        count = 0
        for start in range(0, len(doomed), 500):
            result = session.execute(delete(model).where(key.in_(doomed[start : start + 500])))
            count += int(getattr(result, "rowcount", 0) or 0)
        deleted[plural] = count
    return plan, deleted
