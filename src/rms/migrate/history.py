"""The application's own schema history, as facts a migration acts on.

From ``../shared/design/SCHEMA-HISTORY.md`` (the application's 22 Prisma migrations): which
tables and columns it dropped later (their values go to ``rms_archive``, never lost), which
required columns it added without a default (its own migration could only run on an empty
table, so an older file with rows there needs a decision: see :mod:`rms.migrate.lineage`),
which enum value it renamed, and a fingerprint of the schema after each migration, so a
report can say which point of the history a file is at.

Facts only: nothing here reads a file or decides anything.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rms.migrate.sqlite import SourceSchema

__all__ = [
    "ADDED_WITHOUT_DEFAULT",
    "BOOKKEEPING_TABLES",
    "DROPPED_COLUMNS",
    "DROPPED_TABLES",
    "MIGRATIONS",
    "OWN_BOOKKEEPING_TABLES",
    "OWN_FINGERPRINTS",
    "OWN_REVISIONS",
    "RENAMED_VALUES",
    "HistoryPoint",
    "history_point",
    "migration_name",
    "schema_fingerprint",
]

#: The application's migrations, in order (``prisma/migrations/<id>``); number n is index n-1.
MIGRATIONS: tuple[str, ...] = (
    "20250613192713_init",
    "20250623225801_2025_06_23",
    "20250624164356_2025_06_24",
    "20250625212411_2025_06_25",
    "20250626142132_2025_06_26",
    "20250704182149_2025_07_04",
    "20250709203737_update_holidays_table",
    "20250710130602_most_recent_sell_price",
    "20250710131720_most_recent_sell_price_fix",
    "20250710132111_most_recent_sell_price_what_was_i_thinking",
    "20250717230326_screener",
    "20250717232804_screener_unique_symbol",
    "20250718180340_screener_remove_excess",
    "20250718205708_screener_risk_group",
    "20250719214310_screener_additional_fields",
    "20250804174018_remove_risk_score",
    "20250822165500_story_e3_schema_integrity_performance",
    "20250920172154_add_is_closed_end_fund_flag",
    "20260306000000_add_cusip_cache",
    "20260319000000_rename_openfigi_to_thirteenf",
    "20260329181257_remove_checkbox_columns",
    "20260426142617_add_volatility_columns_to_universe",
)


def migration_name(number: int) -> str:
    """``05 (20250626142132_2025_06_26)``: how reports and messages name a migration."""
    return f"{number:02d} ({MIGRATIONS[number - 1]})"


#: Columns the application dropped later: (table, column) -> the migration that dropped it.
DROPPED_COLUMNS: dict[tuple[str, str], int] = {
    ("universe", "risk_group"): 2,
    ("trades", "statusId"): 4,
    ("screener", "holdings"): 13,
    ("screener", "total_percent_top_holdings"): 13,
    ("screener", "consistent_distributions"): 13,
    ("screener", "inception_date"): 13,
    ("universe", "risk"): 16,
    ("screener", "has_volitility"): 21,
    ("screener", "objectives_understood"): 21,
    ("screener", "graph_higher_before_2008"): 21,
}

#: Tables the application dropped later -> the migration that dropped them.
DROPPED_TABLES: dict[str, int] = {"status": 4, "_accountsTostatus": 4}

#: Prisma's own bookkeeping in a file made by ``prisma migrate``: which migrations ran, with
#: checksums and logs. It describes the SQLite schema, not the portfolio; it is archived
#: whole (so nothing is lost) and never becomes a table in PostgreSQL, where a
#: ``_prisma_migrations`` holding SQLite migrations would mislead ``prisma migrate``.
BOOKKEEPING_TABLES: frozenset[str] = frozenset({"_prisma_migrations"})

#: Our own bookkeeping, in a file rms wrote (the embedded database): which Alembic revision
#: the file is at (it describes that file's schema; the target keeps its own), and the
#: service's sign-in sessions (``rms_session``, :data:`rms.schema.core.SERVICE_STATE_TABLES`:
#: a session belongs to the database it was made in). Accounted for and not carried.
OWN_BOOKKEEPING_TABLES: frozenset[str] = frozenset({"alembic_version", "rms_session"})

#: Required columns the application added without a default -> the migration that added them.
#: Its own migration fails on a table with rows, so an older file with rows there has none.
ADDED_WITHOUT_DEFAULT: dict[tuple[str, str], int] = {
    ("universe", "risk_group_id"): 2,
    ("trades", "quantity"): 5,
    ("screener", "risk_group_id"): 14,
    ("screener", "distribution"): 15,
    ("screener", "distributions_per_year"): 15,
    ("screener", "last_price"): 15,
}

#: Values the application rewrote in place: (table, column) -> {old: new, ...} and the
#: migration that did it (20 renamed the enum value OPENFIGI to THIRTEENF).
RENAMED_VALUES: dict[tuple[str, str], tuple[dict[str, str], int]] = {
    ("cusip_cache", "source"): ({"OPENFIGI": "THIRTEENF"}, 20),
}

#: Every table name that ever existed in the application's schema.
APP_TABLES: frozenset[str] = frozenset(
    {
        "accounts",
        "status",
        "universe",
        "trades",
        "holidays",
        "_accountsTostatus",
        "risk_group",
        "divDepositType",
        "divDeposits",
        "screener",
        "cusip_cache",
        "cusip_cache_archive",
        "cusip_cache_audit",
    }
)

#: :func:`schema_fingerprint` of the schema after each migration, computed from the empty
#: files in ``../shared/fixtures/prisma-history`` (tests/migrate/test_history.py recomputes
#: them). Equal schemas share a fingerprint: 08 and 10 differ only by column order, 19 and
#: 20 not at all (20 changed data only).
FINGERPRINTS: dict[str, tuple[int, ...]] = {}  # filled below from _FINGERPRINT_TABLE


_FINGERPRINT_TABLE: tuple[tuple[int, str], ...] = (
    (1, "0dd84b564e6b90be"),
    (2, "d5d949c94719340b"),
    (3, "0cf1410c5a1c5939"),
    (4, "23717ce1b5c0da8d"),
    (5, "c3b1ff07d1b2275c"),
    (6, "4815078bdc565d1c"),
    (7, "a2d0c6edb2de978e"),
    (8, "05b7f9e05ddd68af"),
    (9, "897e6baacab95bc6"),
    (10, "05b7f9e05ddd68af"),
    (11, "44aa47904512dae2"),
    (12, "952ccdab0f301e2a"),
    (13, "a6dda09e5df682e7"),
    (14, "de7d1c1039d43856"),
    (15, "f2e75c2a0cc2f837"),
    (16, "bf646800078bd381"),
    (17, "18ee8539e41cb059"),
    (18, "d83914651e3f7599"),
    (19, "6bfc8ecbfc504c84"),
    (20, "6bfc8ecbfc504c84"),
    (21, "5b9767e8bf005c19"),
    (22, "e042d4d153f0aef1"),
)
for _number, _print in _FINGERPRINT_TABLE:
    FINGERPRINTS[_print] = (*FINGERPRINTS.get(_print, ()), _number)

#: :func:`schema_fingerprint` of a SQLite file rms itself wrote (the embedded database), at
#: each of our own Alembic revisions (``src/rms/schema/alembic/versions``) -> the revision.
#: Known points as much as the application's: tests/migrate/test_history.py recomputes them
#: by upgrading an empty file to each revision, so a new revision cannot be forgotten here.
OWN_FINGERPRINTS: dict[str, str] = {
    "e50bbfae868a0f80": "0001",
    "5499423808471637": "0002",
    "906192b1c1df1f19": "0003",
}

#: Our revisions' names, as the files in ``src/rms/schema/alembic/versions`` give them.
OWN_REVISIONS: dict[str, str] = {
    "0001": "initial",
    "0002": "prisma_latest",
    "0003": "sign_in_sessions",
}


def schema_fingerprint(schema: SourceSchema) -> str:
    """16 hex digits over the application's tables: columns (name, declared type, NOT NULL)
    and index names, order-insensitive. Our own and unknown tables do not take part."""
    parts: list[str] = []
    for name in sorted(t for t in schema.tables if t in APP_TABLES):
        table = schema.tables[name]
        columns = sorted(
            f"{c.name}:{c.declared_type.upper()}:{int(c.notnull)}" for c in table.columns
        )
        parts.append(name + "(" + ",".join(columns) + ")")
    parts.append("indexes(" + ",".join(sorted(schema.indexes)) + ")")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class HistoryPoint:
    """Where a file stands: a point of the application's history (``numbers``), or a
    revision of the schema rms itself writes (``revision``), or neither (both empty)."""

    numbers: tuple[int, ...]
    fingerprint: str
    revision: str | None = None

    def describe(self) -> str:
        if self.revision is not None:
            name = OWN_REVISIONS.get(self.revision)
            return f"rms's own schema at revision {self.revision}" + (f" ({name})" if name else "")
        if not self.numbers:
            return (
                "matches no point of the application's schema history and no revision of "
                "rms's own schema exactly (changed by hand?)"
            )
        names = " or ".join(migration_name(n) for n in self.numbers)
        return f"the application's schema after migration {names}"

    def to_dict(self) -> dict[str, object]:
        return {
            "migrations": list(self.numbers),
            "rms_revision": self.revision,
            "description": self.describe(),
        }


def history_point(schema: SourceSchema) -> HistoryPoint:
    fingerprint = schema_fingerprint(schema)
    return HistoryPoint(
        FINGERPRINTS.get(fingerprint, ()), fingerprint, OWN_FINGERPRINTS.get(fingerprint)
    )
