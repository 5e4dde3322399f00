"""A realistic RMS portfolio in the application's latest schema, for the Prisma harness.

Every model and every field appears, with the values that break lossy copies: instants with
milliseconds (some around the America/New_York daylight-saving changes), floats that need all
17 significant digits, unicode text, booleans both ways, NULLs in every optional field and set
in others, both ``CusipCacheSource`` values, deposits with and without a symbol, open and closed
trades, and one symbol (NEA) that has deposits but no trades, which the application may delete.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.prisma.harness import Portfolio


def _t(text: str) -> datetime:
    """An instant from ISO-8601 text; naive text is UTC."""
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _std(created: str, updated: str | None = None, deleted: str | None = None) -> dict[str, Any]:
    return {
        "createdAt": _t(created),
        "updatedAt": _t(updated or created),
        "deletedAt": _t(deleted) if deleted else None,
    }


def sample_portfolio() -> Portfolio:
    """A fresh copy each call (callers may change it)."""
    risk_groups = [
        {"id": "rg-equities", "name": "Equities", "version": 1,
         **_std("2025-06-23T22:58:01.100", "2025-06-23T22:58:01.100")},
        {"id": "rg-income", "name": "Income", "version": 3,
         **_std("2025-06-23T22:58:01.200", "2026-01-05T14:02:11.999")},
        {"id": "rg-taxfree", "name": "Tax Free Income", "version": 1,
         **_std("2025-06-23T22:58:01.300")},
    ]  # fmt: skip
    accounts = [
        {"id": "acc-brokerage", "name": "Brokerage", "version": 1,
         **_std("2025-06-13T19:27:13.001", "2025-09-19T21:13:53.622")},
        {"id": "acc-roth", "name": "Zoë's Roth IRA — 401(k) ✓", "version": 2,
         **_std("2025-07-04T18:21:49.500", "2026-03-08T07:00:00.000")},
        {"id": "acc-closed", "name": "Old 📈 account", "version": 5,
         **_std("2025-06-14T00:00:00.000", "2025-11-02T05:30:00.123", "2025-11-02T06:30:00.123")},
    ]  # fmt: skip
    deposit_types = [
        {"id": "dt-dividend", "name": "Dividend", **_std("2025-07-04T18:21:49.000")},
        {"id": "dt-deposit", "name": "Deposit", **_std("2025-07-04T18:21:49.001")},
        {"id": "dt-withdrawal", "name": "Withdrawal",
         **_std("2025-07-04T18:21:49.002", deleted="2025-12-31T23:59:59.999")},
    ]  # fmt: skip
    universe = [
        {"id": "u-pdi", "symbol": "PDI", "distribution": 0.2205, "distributions_per_year": 12,
         "last_price": 18.890000000000001, "most_recent_sell_date": _t("2025-10-15T19:59:59.999"),
         "most_recent_sell_price": 19.329999999999998, "ex_date": _t("2026-04-13T04:00:00.000"),
         "risk_group_id": "rg-income", "expired": False, "is_closed_end_fund": True, "version": 7,
         "volatility_long": "0.1873", "volatility_short": "0.0912",
         "volatility_calculated_at": _t("2026-04-26T14:26:17.123"),
         **_std("2025-06-13T19:27:13.622", "2026-04-26T14:26:17.123")},
        {"id": "u-pty", "symbol": "PTY", "distribution": 0.11880000000000002,
         "distributions_per_year": 12, "last_price": 14.1, "most_recent_sell_date": None,
         "most_recent_sell_price": None, "ex_date": _t("2026-03-09T07:30:00.456"),
         "risk_group_id": "rg-income", "expired": False, "is_closed_end_fund": True, "version": 1,
         "volatility_long": None, "volatility_short": None, "volatility_calculated_at": None,
         **_std("2025-06-13T19:27:14.000")},
        {"id": "u-clm", "symbol": "CLM", "distribution": 0.1247, "distributions_per_year": 12,
         "last_price": 0.1 + 0.2, "most_recent_sell_date": _t("2025-03-09T06:59:59.999"),
         "most_recent_sell_price": 7.7700000000000005, "ex_date": None,
         "risk_group_id": "rg-equities", "expired": True, "is_closed_end_fund": True,
         "version": 2, "volatility_long": "n/a", "volatility_short": "",
         "volatility_calculated_at": None,
         **_std("2025-06-24T16:43:56.010", "2025-08-04T17:40:18.020")},
        {"id": "u-nea", "symbol": "NEA", "distribution": 0.0645, "distributions_per_year": 12,
         "last_price": 11.37, "most_recent_sell_date": None, "most_recent_sell_price": None,
         "ex_date": _t("2025-11-02T05:30:00.000"), "risk_group_id": "rg-taxfree",
         "expired": False, "is_closed_end_fund": True, "version": 1,
         "volatility_long": "0.05", "volatility_short": None,
         "volatility_calculated_at": _t("2025-11-02T06:30:00.001"),
         **_std("2025-07-10T13:06:02.123")},
        {"id": "u-jepi", "symbol": "JEPI", "distribution": 1 / 3, "distributions_per_year": 12,
         "last_price": 57.04, "most_recent_sell_date": None, "most_recent_sell_price": None,
         "ex_date": _t("2026-02-02T05:00:00.000"), "risk_group_id": "rg-equities",
         "expired": False, "is_closed_end_fund": False, "version": 1,
         "volatility_long": "0.1", "volatility_short": "0.2",
         "volatility_calculated_at": _t("2026-04-26T14:26:17.999"),
         **_std("2025-09-20T17:21:54.000", "2026-04-26T14:26:18.000")},
    ]  # fmt: skip
    buy0 = _t("2025-06-16T13:30:00.250")
    trades = [
        {"id": f"t-{i:02d}", "universeId": sym, "accountId": acc,
         "buy": buy, "sell": sell, "buy_date": buy0 + timedelta(days=9 * i, milliseconds=7 * i),
         "quantity": qty,
         "sell_date": None if sell == 0 else buy0 + timedelta(days=9 * i + 40, milliseconds=1),
         **_std("2025-06-16T13:30:01.000", None if sell == 0 else "2025-09-01T20:00:00.001")}
        for i, (sym, acc, buy, sell, qty) in enumerate(
            [
                ("u-pdi", "acc-brokerage", 18.42, 0.0, 100),
                ("u-pdi", "acc-roth", 17.985000000000003, 19.329999999999998, 250),
                ("u-pty", "acc-brokerage", 14.07, 0.0, 1000),
                ("u-clm", "acc-brokerage", 8.1199999999999992, 7.7700000000000005, 75),
                ("u-jepi", "acc-roth", 56.5, 0.0, 12),
                ("u-pty", "acc-closed", 13.9, 14.333333333333334, 1),
            ]
        )
    ]  # fmt: skip
    deposits = [
        {"id": "d-01", "date": _t("2025-07-31T04:00:00.000"), "amount": 22.05,
         "accountId": "acc-brokerage", "divDepositTypeId": "dt-dividend", "universeId": "u-pdi",
         "version": 1, **_std("2025-07-31T12:00:00.500")},
        {"id": "d-02", "date": _t("2025-08-29T04:00:00.000"), "amount": 0.1 + 0.7,
         "accountId": "acc-roth", "divDepositTypeId": "dt-dividend", "universeId": "u-nea",
         "version": 2, **_std("2025-08-29T12:00:00.001", "2025-08-30T00:00:00.002")},
        {"id": "d-03", "date": _t("2025-11-02T05:30:00.123"), "amount": 64.499999999999986,
         "accountId": "acc-roth", "divDepositTypeId": "dt-dividend", "universeId": "u-nea",
         "version": 1, **_std("2025-11-02T06:30:00.123")},
        {"id": "d-04", "date": _t("2025-12-30T15:00:00.000"), "amount": 5000.0,
         "accountId": "acc-brokerage", "divDepositTypeId": "dt-deposit", "universeId": None,
         "version": 1, **_std("2025-12-30T15:00:00.000")},
        {"id": "d-05", "date": _t("2026-01-15T21:00:00.999"), "amount": -1234.5600000000002,
         "accountId": "acc-closed", "divDepositTypeId": "dt-withdrawal", "universeId": None,
         "version": 1, **_std("2026-01-15T21:00:01.000", deleted="2026-01-16T00:00:00.000")},
    ]  # fmt: skip
    holidays = [
        {"id": "h-newyear", "date": _t("2026-01-01T00:00:00.000"), "name": "New Year's Day",
         "version": 1, **_std("2025-07-09T20:37:37.000")},
        {"id": "h-july4", "date": _t("2025-07-04T00:00:00.000"), "name": "Independence Day",
         "version": 1, **_std("2025-07-09T20:37:37.001")},
        {"id": "h-goodfriday", "date": _t("2026-04-03T00:00:00.000"), "name": "Good Friday ✝",
         "version": 2, **_std("2025-07-09T20:37:37.002", "2026-01-02T10:00:00.000")},
    ]  # fmt: skip
    screener = [
        {"id": "s-gof", "symbol": "GOF", "distribution": 0.1821, "distributions_per_year": 12,
         "last_price": 12.649999999999999, "ex_date": _t("2026-04-10T04:00:00.000"),
         "risk_group_id": "rg-income", "version": 1, **_std("2025-07-17T23:03:26.000")},
        {"id": "s-uty", "symbol": "UTY", "distribution": 0.19, "distributions_per_year": 4,
         "last_price": 33.009999999999998, "ex_date": None, "risk_group_id": "rg-equities",
         "version": 3, **_std("2025-07-19T21:43:10.000", "2026-03-29T18:12:57.000")},
    ]  # fmt: skip
    cusip_cache = [
        {"id": "cc-1", "cusip": "72201R833", "symbol": "PDI", "source": "THIRTEENF",
         "resolvedAt": _t("2026-03-06T00:00:00.000"), "lastUsedAt": _t("2026-04-23T13:10:07.100"),
         "createdAt": _t("2026-03-06T00:00:00.000"), "updatedAt": _t("2026-04-23T13:10:07.100")},
        {"id": "cc-2", "cusip": "46641Q332", "symbol": "JEPI", "source": "YAHOO_FINANCE",
         "resolvedAt": _t("2026-03-19T12:00:00.001"), "lastUsedAt": _t("2026-03-19T12:00:00.001"),
         "createdAt": _t("2026-03-19T12:00:00.001"), "updatedAt": _t("2026-03-19T12:00:00.002")},
    ]  # fmt: skip
    archive = [
        {"id": "ca-1", "cusip": "19247X100", "symbol": "CLM", "source": "THIRTEENF",
         "resolvedAt": _t("2026-03-06T00:00:00.500"), "archivedAt": _t("2026-03-29T18:12:57.000"),
         "reason": "symbol expired"},
        {"id": "ca-2", "cusip": "000000000", "symbol": "ZZZ", "source": "YAHOO_FINANCE",
         "resolvedAt": _t("2026-03-07T00:00:00.000"), "archivedAt": _t("2026-03-29T18:12:57.001"),
         "reason": None},
    ]  # fmt: skip
    audit = [
        {"id": "au-1", "cusip": "72201R833", "symbol": "PDI", "action": "RESOLVE",
         "source": "THIRTEENF", "userId": None, "reason": None,
         "createdAt": _t("2026-03-06T00:00:00.000")},
        {"id": "au-2", "cusip": "19247X100", "symbol": "CLM", "action": "ARCHIVE",
         "source": "YAHOO_FINANCE", "userId": "dave", "reason": 'manual "cleanup"\nline two',
         "createdAt": _t("2026-03-29T18:12:57.000")},
    ]  # fmt: skip
    return {
        "risk_group": risk_groups,
        "accounts": accounts,
        "divDepositType": deposit_types,
        "universe": universe,
        "trades": trades,
        "divDeposits": deposits,
        "holidays": holidays,
        "screener": screener,
        "cusip_cache": cusip_cache,
        "cusip_cache_archive": archive,
        "cusip_cache_audit": audit,
    }
