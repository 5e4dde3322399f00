"""Generate an RMS SQLite file in the application's own format, of any size.

What the existing (Prisma) application leaves on disk: quoted camelCase DDL with DATETIME
columns, ids as TEXT (UUIDs), booleans 0/1, REAL floats with full double precision, and
DateTime cells that are mostly INTEGER epoch milliseconds with a share of the TEXT forms
hand-written SQL left behind (``YYYY-MM-DD``, ``YYYY-MM-DD HH:MM:SS``, ISO-8601 with ``T``,
``Z`` or an offset, and milliseconds) plus some epoch seconds. Deterministic for a seed.

    python bench/gen_sqlite.py --trades 1000000 --deposits 200000 --out rms-1m.db
"""

from __future__ import annotations

import argparse
import random
import sqlite3
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

DDL = """
CREATE TABLE "accounts" (
  "id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL UNIQUE,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1);
CREATE TABLE "risk_group" (
  "id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL UNIQUE,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1);
CREATE TABLE "universe" (
  "id" TEXT NOT NULL PRIMARY KEY, "distribution" REAL NOT NULL,
  "distributions_per_year" INTEGER NOT NULL, "last_price" REAL NOT NULL,
  "most_recent_sell_date" DATETIME, "most_recent_sell_price" REAL,
  "symbol" TEXT NOT NULL UNIQUE, "ex_date" DATETIME, "risk_group_id" TEXT NOT NULL,
  "expired" BOOLEAN NOT NULL DEFAULT false, "is_closed_end_fund" BOOLEAN NOT NULL DEFAULT true,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1,
  "volatility_calculated_at" DATETIME, "volatility_long" TEXT, "volatility_short" TEXT,
  FOREIGN KEY ("risk_group_id") REFERENCES "risk_group"("id")
    ON DELETE RESTRICT ON UPDATE CASCADE);
CREATE TABLE "trades" (
  "id" TEXT NOT NULL PRIMARY KEY, "universeId" TEXT NOT NULL, "accountId" TEXT NOT NULL,
  "buy" REAL NOT NULL, "sell" REAL NOT NULL, "buy_date" DATETIME NOT NULL,
  "quantity" INTEGER NOT NULL, "sell_date" DATETIME,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1,
  FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  FOREIGN KEY ("universeId") REFERENCES "universe"("id") ON DELETE RESTRICT ON UPDATE CASCADE);
CREATE TABLE "holidays" (
  "id" TEXT NOT NULL PRIMARY KEY, "date" DATETIME NOT NULL UNIQUE, "name" TEXT NOT NULL,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1);
CREATE TABLE "divDepositType" (
  "id" TEXT NOT NULL PRIMARY KEY, "name" TEXT NOT NULL,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1);
CREATE TABLE "divDeposits" (
  "id" TEXT NOT NULL PRIMARY KEY, "date" DATETIME NOT NULL, "amount" REAL NOT NULL,
  "accountId" TEXT NOT NULL, "divDepositTypeId" TEXT NOT NULL, "universeId" TEXT,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1,
  FOREIGN KEY ("accountId") REFERENCES "accounts"("id") ON DELETE RESTRICT ON UPDATE CASCADE,
  FOREIGN KEY ("divDepositTypeId") REFERENCES "divDepositType"("id")
    ON DELETE RESTRICT ON UPDATE CASCADE,
  FOREIGN KEY ("universeId") REFERENCES "universe"("id") ON DELETE SET NULL ON UPDATE CASCADE);
CREATE TABLE "screener" (
  "id" TEXT NOT NULL PRIMARY KEY, "symbol" TEXT NOT NULL UNIQUE, "distribution" REAL NOT NULL,
  "distributions_per_year" INTEGER NOT NULL, "last_price" REAL NOT NULL, "ex_date" DATETIME,
  "risk_group_id" TEXT NOT NULL,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1,
  FOREIGN KEY ("risk_group_id") REFERENCES "risk_group"("id")
    ON DELETE RESTRICT ON UPDATE CASCADE);
CREATE TABLE "settings" (
  "key" TEXT NOT NULL PRIMARY KEY, "value" TEXT NOT NULL,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "updatedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "deletedAt" DATETIME, "version" INTEGER NOT NULL DEFAULT 1);
CREATE TABLE "cusip_cache" (
  "id" TEXT NOT NULL PRIMARY KEY, "cusip" TEXT NOT NULL, "symbol" TEXT NOT NULL,
  "source" TEXT NOT NULL, "resolvedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "lastUsedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "updatedAt" DATETIME NOT NULL);
CREATE TABLE "cusip_cache_archive" (
  "id" TEXT NOT NULL PRIMARY KEY, "cusip" TEXT NOT NULL, "symbol" TEXT NOT NULL,
  "source" TEXT NOT NULL, "resolvedAt" DATETIME NOT NULL,
  "archivedAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP, "reason" TEXT);
CREATE TABLE "cusip_cache_audit" (
  "id" TEXT NOT NULL PRIMARY KEY, "cusip" TEXT NOT NULL, "symbol" TEXT NOT NULL,
  "action" TEXT NOT NULL, "source" TEXT NOT NULL, "userId" TEXT, "reason" TEXT,
  "createdAt" DATETIME NOT NULL DEFAULT CURRENT_TIMESTAMP);
CREATE UNIQUE INDEX "cusip_cache_cusip_key" ON "cusip_cache"("cusip");
CREATE INDEX "trades_accountId_idx" ON "trades"("accountId");
CREATE INDEX "trades_universeId_idx" ON "trades"("universeId");
CREATE INDEX "divDeposits_accountId_idx" ON "divDeposits"("accountId");
"""

START_MS = int(datetime(2012, 1, 1, tzinfo=UTC).timestamp() * 1000)
SPAN_MS = int(timedelta(days=365 * 13).total_seconds() * 1000)


class Dates:
    """DateTime cells in the mix the application leaves: mostly epoch ms, some text forms."""

    def __init__(self, rng: random.Random, text_share: float) -> None:
        self.rng = rng
        self.text_share = text_share

    def __call__(self, ms: int) -> Any:
        rng = self.rng
        if rng.random() >= self.text_share:
            return ms
        instant = datetime.fromtimestamp(ms / 1000, UTC)
        form = rng.randrange(7)
        if form == 0:
            return instant.strftime("%Y-%m-%d %H:%M:%S")  # CURRENT_TIMESTAMP style
        if form == 1:
            return instant.strftime("%Y-%m-%d")
        if form == 2:
            return instant.strftime("%Y-%m-%dT%H:%M:%S.") + f"{instant.microsecond // 1000:03d}Z"
        if form == 3:
            local = instant.astimezone(
                __import__("datetime").timezone(timedelta(hours=rng.choice([-5, 2, 9])))
            )
            return local.isoformat(timespec="milliseconds")
        if form == 4:
            return instant.strftime("%Y-%m-%d %H:%M:%S.") + f"{instant.microsecond // 1000:03d}"
        if form == 5:
            return ms // 1000  # epoch seconds written by hand
        return instant.strftime("%Y-%m-%dT%H:%M:%SZ")


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _price(rng: random.Random) -> float:
    # Full-precision doubles, as JavaScript arithmetic leaves them (e.g. 0.1 + 0.2).
    return rng.uniform(2.0, 120.0) * (1 + rng.random() * 1e-9)


def _volatility(rng: random.Random) -> tuple[Any, Any, Any]:
    """universe.volatility_*: added in 2026 (Prisma 7), so its instant is ISO text."""
    if rng.random() < 0.5:
        return None, None, None
    when = datetime.fromtimestamp((START_MS + rng.randrange(SPAN_MS)) / 1000, UTC)
    figures = f"{rng.uniform(0.05, 0.6):.4f}", f"{rng.uniform(0.05, 0.6):.4f}"
    return when.isoformat(timespec="milliseconds"), *figures


def generate(
    out: Path,
    trades: int,
    deposits: int,
    universe: int = 2000,
    seed: int = 42,
    text_share: float = 0.08,
) -> dict[str, int]:
    """Write the file; returns rows per table."""
    rng = random.Random(seed)
    date = Dates(rng, text_share)
    out.unlink(missing_ok=True)
    conn = sqlite3.connect(out)
    conn.execute("PRAGMA journal_mode = OFF")
    conn.execute("PRAGMA synchronous = OFF")
    conn.executescript(DDL)

    def stamp() -> tuple[Any, Any]:
        ms = START_MS + rng.randrange(SPAN_MS)
        return date(ms), date(ms + rng.randrange(86_400_000 * 30))

    accounts = [(_uuid(rng), f"Account {i + 1}", *stamp(), None, 1) for i in range(12)]
    groups = [
        (_uuid(rng), name, *stamp(), None, 1) for name in ("Equities", "Income", "Tax Free Income")
    ]
    dtypes = [
        (_uuid(rng), name, *stamp(), None, 1)
        for name in ("Dividend", "Deposit", "Interest", "Return of capital")
    ]
    uni = []
    for i in range(universe):
        sold = rng.random() < 0.3
        uni.append(
            (
                _uuid(rng),
                rng.uniform(0.01, 0.5),
                rng.choice([4, 12]),
                _price(rng),
                date(START_MS + rng.randrange(SPAN_MS)) if sold else None,
                _price(rng) if sold else None,
                f"S{i:05d}",
                date(START_MS + rng.randrange(SPAN_MS)) if rng.random() < 0.8 else None,
                rng.choice(groups)[0],
                int(rng.random() < 0.05),
                int(rng.random() < 0.9),
                *stamp(),
                None,
                rng.randrange(1, 4),
                *_volatility(rng),
            )
        )
    screener = [
        (
            _uuid(rng),
            f"S{i:05d}",
            rng.uniform(0.01, 0.5),
            rng.choice([4, 12]),
            _price(rng),
            date(START_MS + rng.randrange(SPAN_MS)),
            rng.choice(groups)[0],
            *stamp(),
            None,
            1,
        )
        for i in range(min(500, universe))
    ]
    holidays = [
        (_uuid(rng), date(START_MS + d * 86_400_000), f"Holiday {d}", *stamp(), None, 1)
        for d in range(0, 13 * 365, 37)
    ]
    settings = [
        ("theme", '{"mode": "dark", "accent": "#3366ff"}', *stamp(), None, 1),
        ("targets", '{"yield": 0.0725, "groups": [0.2, 0.5, 0.3]}', *stamp(), None, 2),
    ]
    uni_ids = [u[0] for u in uni]
    acc_ids = [a[0] for a in accounts]

    def trade_rows() -> Iterator[tuple[Any, ...]]:
        for _ in range(trades):
            buy_ms = START_MS + rng.randrange(SPAN_MS)
            sold = rng.random() < 0.6
            created = buy_ms + rng.randrange(86_400_000)
            yield (
                _uuid(rng),
                rng.choice(uni_ids),
                rng.choice(acc_ids),
                _price(rng),
                _price(rng),
                date(buy_ms),
                rng.randrange(1, 5000),
                date(buy_ms + rng.randrange(86_400_000 * 400)) if sold else None,
                date(created),
                date(created + rng.randrange(86_400_000)),
                date(created + 1) if rng.random() < 0.02 else None,
                rng.randrange(1, 3),
            )

    def deposit_rows() -> Iterator[tuple[Any, ...]]:
        for _ in range(deposits):
            ms = START_MS + rng.randrange(SPAN_MS)
            yield (
                _uuid(rng),
                date(ms),
                round(rng.uniform(1, 5000), 2) + rng.random() * 1e-7,
                rng.choice(acc_ids),
                rng.choice(dtypes)[0],
                rng.choice(uni_ids) if rng.random() < 0.8 else None,
                date(ms),
                date(ms + 1000),
                None,
                1,
            )

    with conn:
        conn.executemany("INSERT INTO accounts VALUES (?,?,?,?,?,?)", accounts)
        conn.executemany("INSERT INTO risk_group VALUES (?,?,?,?,?,?)", groups)
        conn.executemany("INSERT INTO divDepositType VALUES (?,?,?,?,?,?)", dtypes)
        conn.executemany(f"INSERT INTO universe VALUES ({','.join('?' * 18)})", uni)
        conn.executemany(f"INSERT INTO screener VALUES ({','.join('?' * 11)})", screener)
        conn.executemany("INSERT INTO holidays VALUES (?,?,?,?,?,?,?)", holidays)
        conn.executemany("INSERT INTO settings VALUES (?,?,?,?,?,?)", settings)
        conn.executemany(f"INSERT INTO trades VALUES ({','.join('?' * 12)})", trade_rows())
        conn.executemany(f"INSERT INTO divDeposits VALUES ({','.join('?' * 10)})", deposit_rows())
    counts = {
        name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0]
        for (name,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
    }
    conn.close()
    return counts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trades", type=int, default=1_000_000)
    parser.add_argument("--deposits", type=int, default=200_000)
    parser.add_argument("--universe", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument(
        "--text-share",
        type=float,
        default=0.08,
        help="share of DateTime cells written as text or epoch seconds",
    )
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    started = time.perf_counter()
    counts = generate(
        args.out, args.trades, args.deposits, args.universe, args.seed, args.text_share
    )
    print(f"{args.out}: {counts} in {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
