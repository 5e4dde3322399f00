"""The PostgreSQL side: the target database, indexes dropped and restored, digests.

The target is reached only through :mod:`rms.db` (:func:`open_target`), the way the service
reaches its database: the same engine builder, so the cold-start connector (a paused Aurora
is waited for within ``DB_COLD_START_BUDGET_SECONDS``, each wait a line on stderr), the
credential sources (``DATABASE_URL``, or ``DB_*`` with ``DB_SECRET_ARN``,
``DB_SSM_PARAMETER``, ``DB_IAM_AUTH``, ``SSM_PARAMETER_PATH``) and the TLS default
(verify-full off loopback). Nothing secret needs to be on a command line.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, suppress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from rms.db.errors import DRIVER_ERRORS, driver_errors, translate
from rms.db.pg import PgConnection, PgCursor, driver_connection, sql
from rms.errors import RmsError
from rms.migrate.errors import TargetError
from rms.migrate.ledger import LEDGER_SCHEMA
from rms.settings.urls import display_url
from rms.transfer.digest import TableDigest
from rms.transfer.postgresql import table_digest
from rms.transfer.spec import TableSpec

if TYPE_CHECKING:
    from rms.aws import SessionFactory
    from rms.db.database import Database
    from rms.db.observe import DbObserver
    from rms.settings import Settings

__all__ = [
    "ConstraintDef",
    "Target",
    "as_target",
    "drop_secondary",
    "hidden",
    "open_target",
    "restore_secondary",
    "target_digest",
]


def hidden(url: str | URL) -> str:
    """A URL fit for output, logs and reports: the password is never shown."""
    return display_url(url)


def check_postgres_url(url: str) -> None:
    """Only PostgreSQL is a valid target; say so before anything tries to connect."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise TargetError(f"the target is not a database URL: {exc}") from exc
    if parsed.get_backend_name() not in ("postgresql", "postgres"):
        raise TargetError(
            f"the target must be a PostgreSQL URL (postgresql://...), not {parsed.drivername}://"
        )


@dataclass
class Target:
    """The PostgreSQL database a run reads and writes, and how it is named in output."""

    database: Database
    #: The target as output shows it: its URL without the password.
    label: str
    #: Made by :func:`as_target` from a URL: the run that made it disposes of it.
    owned: bool = False

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A SQLAlchemy connection (for Alembic) whose driver connection does the COPY.

        One connection, one transaction: the schema upgrade of an empty target, the load,
        the verification and the ledger row all commit together or not at all. Opening it
        rides through a cold start (the connector's budget); a failure is a TargetError
        naming the target.
        """
        try:
            with target_errors(self.label, "cannot connect"):
                conn = self.database.engine.connect()
        except TargetError:
            raise
        except RmsError as exc:  # the connector's own verdict (budget spent, refused login)
            raise TargetError(f"target {self.label}: cannot connect: {exc.message}") from exc
        try:
            yield conn
        finally:
            with suppress(*DRIVER_ERRORS):
                conn.close()

    def dispose(self) -> None:
        self.database.dispose()


def open_target(
    settings: Settings,
    *,
    session_factory: SessionFactory | None = None,
    observer: DbObserver | None = None,
) -> Target:
    """The target the settings name (``DATABASE_URL`` or the ``DB_*`` variables)."""
    from rms.db import build_database

    url = settings.effective_database_url()
    check_postgres_url(url)
    database = build_database(settings, observer=observer, session_factory=session_factory)
    return Target(database, hidden(url))


def as_target(target: Target | str, settings: Settings | None = None) -> Target:
    """A :class:`Target` for a library caller that has only a URL (owned by the run).

    The URL names the database; ``settings`` (the caller's, from
    :func:`rms.settings.load_settings`) give the rest: the cold-start budget, TLS, timeouts.
    Nothing is read from the environment here: without ``settings`` the URL is used with
    the defaults (:func:`rms.settings.settings_from`).
    """
    if isinstance(target, Target):
        return target
    from rms.settings import settings_from

    check_postgres_url(target)
    if settings is None:
        settings = settings_from(database_url=target)
    else:
        settings = settings.model_copy(update={"database_url": target})
    made = open_target(settings)
    made.owned = True
    return made


def target_error(label: str, exc: BaseException, doing: str) -> BaseException:
    """``exc`` (a driver error) as a :class:`TargetError` naming the target and what failed."""
    return translate(exc, doing, where=f"target {label}", into=TargetError)


def target_errors(label: str, doing: str) -> AbstractContextManager[None]:
    """A driver error in the block becomes a :class:`TargetError`: ``target <label>:
    <doing>: <what the database said>`` (:func:`rms.db.errors.driver_errors`)."""
    return driver_errors(doing, where=f"target {label}", into=TargetError)


def raw(conn: Connection) -> PgConnection:
    """The psycopg connection under ``conn``, for COPY and the catalog queries."""
    return driver_connection(conn)


def no_statement_timeout(cur: PgCursor) -> None:
    """The service's per-statement limit does not suit a migration's long statements."""
    cur.execute("SET LOCAL statement_timeout = 0")


@dataclass(frozen=True)
class ConstraintDef:
    table: str
    name: str
    kind: str  # 'f' foreign key, 'p' primary key, 'u' unique, 'i' plain index
    definition: str

    def drop(self) -> sql.Composed:
        if self.kind == "i":
            return sql.SQL("DROP INDEX {}").format(sql.Identifier(self.name))
        return sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(
            sql.Identifier(self.table), sql.Identifier(self.name)
        )

    def create(self) -> sql.SQL | sql.Composed:
        if self.kind == "i":
            # pg_get_indexdef gives a complete statement, from the catalog, not from a user.
            return sql.SQL(self.definition)
        return sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} {}").format(
            sql.Identifier(self.table), sql.Identifier(self.name), sql.SQL(self.definition)
        )


def secondary_definitions(cur: PgCursor, tables: Sequence[str]) -> list[ConstraintDef]:
    """Foreign keys, primary/unique keys and plain indexes of the tables, as DDL."""
    cur.execute(
        """
        SELECT c.relname, con.conname, con.contype, pg_get_constraintdef(con.oid)
        FROM pg_constraint con JOIN pg_class c ON c.oid = con.conrelid
        WHERE c.relnamespace = current_schema()::regnamespace
          AND c.relname = ANY(%s) AND con.contype IN ('f', 'p', 'u')
        ORDER BY c.relname, con.conname
        """,
        (list(tables),),
    )
    defs = [ConstraintDef(r[0], r[1], r[2], r[3]) for r in cur.fetchall()]
    cur.execute(
        """
        SELECT t.relname, i.relname, pg_get_indexdef(i.oid)
        FROM pg_index x
        JOIN pg_class i ON i.oid = x.indexrelid
        JOIN pg_class t ON t.oid = x.indrelid
        WHERE t.relnamespace = current_schema()::regnamespace AND t.relname = ANY(%s)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = x.indexrelid)
        ORDER BY t.relname, i.relname
        """,
        (list(tables),),
    )
    defs += [ConstraintDef(r[0], r[1], "i", r[2]) for r in cur.fetchall()]
    return defs


_DROP_ORDER = {"f": 0, "u": 1, "p": 2, "i": 3}
_CREATE_ORDER = {"p": 0, "u": 1, "i": 2, "f": 3}


def drop_secondary(cur: PgCursor, defs: Iterable[ConstraintDef]) -> None:
    """Drop them inside the load transaction; a rollback brings every one back."""
    for d in sorted(defs, key=lambda d: _DROP_ORDER[d.kind]):
        cur.execute(d.drop())


def restore_secondary(cur: PgCursor, defs: Iterable[ConstraintDef]) -> None:
    """Recreate in dependency order: keys, indexes, then foreign keys (validated here)."""
    for d in sorted(defs, key=lambda d: _CREATE_ORDER[d.kind]):
        cur.execute(d.create())


def _where_ids(
    spec: TableSpec, ids_from: tuple[str, str] | None, exclude_runs: Sequence[str] = ()
) -> tuple[sql.Composable, tuple[Any, ...]]:
    if ids_from is None:
        if not exclude_runs:
            return sql.SQL(""), ()
        return (
            sql.SQL(
                " WHERE {pk} NOT IN (SELECT unnest(ids) FROM {schema}.run_rows "
                "WHERE run_id = ANY(%s::uuid[]) AND table_name = %s)"
            ).format(pk=sql.Identifier(spec.pk), schema=sql.Identifier(LEDGER_SCHEMA)),
            (list(exclude_runs), spec.name),
        )
    return (
        sql.SQL(
            " WHERE {pk} IN (SELECT unnest(ids) FROM {schema}.run_rows "
            "WHERE run_id = %s AND table_name = %s)"
        ).format(pk=sql.Identifier(spec.pk), schema=sql.Identifier(LEDGER_SCHEMA)),
        ids_from,
    )


def target_digest(
    cur: PgCursor,
    spec: TableSpec,
    ids_from: tuple[str, str] | None = None,
    exclude_runs: Sequence[str] = (),
) -> TableDigest:
    """Count and checksum of a table computed by PostgreSQL (optionally: a run's rows only,
    or the table without the rows of the runs ``exclude_runs``)."""
    where, params = _where_ids(spec, ids_from, exclude_runs)
    return table_digest(cur, spec, where, params)


def validated_references(
    cur: PgCursor, created: Iterable[ConstraintDef]
) -> frozenset[tuple[str, str, str, str]]:
    """``(table, column, parent, parent column)`` of the single-column foreign keys among
    ``created`` that PostgreSQL holds as validated (``convalidated``; a definition ending in
    ``NOT VALID`` is not). Meant for keys this transaction has just created with ``ADD
    CONSTRAINT``, which checked every row then, under the run's exclusive locks."""
    names = {(d.table, d.name) for d in created if d.kind == "f"}
    if not names:
        return frozenset()
    cur.execute(
        """
        SELECT c.relname, con.conname, a.attname, p.relname, pa.attname
        FROM pg_constraint con
        JOIN pg_class c ON c.oid = con.conrelid
        JOIN pg_class p ON p.oid = con.confrelid
        JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = con.conkey[1]
        JOIN pg_attribute pa ON pa.attrelid = con.confrelid AND pa.attnum = con.confkey[1]
        WHERE con.contype = 'f' AND con.convalidated AND cardinality(con.conkey) = 1
          AND c.relnamespace = current_schema()::regnamespace
          AND p.relnamespace = current_schema()::regnamespace
        """
    )
    return frozenset((r[0], r[2], r[3], r[4]) for r in cur.fetchall() if (r[0], r[1]) in names)


def orphan_counts(
    cur: PgCursor,
    specs: Sequence[TableSpec],
    validated: frozenset[tuple[str, str, str, str]] = frozenset(),
) -> dict[str, int]:
    """Rows whose foreign key names no row, per ``table.column`` (all zero when sound).

    A reference in ``validated`` (see :func:`validated_references`: a foreign key the
    caller's transaction has just created, which PostgreSQL checked over every row, with no
    write since) counts zero without a query: its count is zero by that check.
    """
    pks = {s.name: s.pk for s in specs}
    out: dict[str, int] = {}
    for spec in specs:
        for column, parent in spec.fks:
            if (spec.name, column, parent, pks[parent]) in validated:
                out[f"{spec.name}.{column}"] = 0
                continue
            cur.execute(
                sql.SQL(
                    "SELECT count(*) FROM {child} c WHERE c.{col} IS NOT NULL AND NOT EXISTS "
                    "(SELECT 1 FROM {parent} p WHERE p.{pk} = c.{col})"
                ).format(
                    child=sql.Identifier(spec.name),
                    col=sql.Identifier(column),
                    parent=sql.Identifier(parent),
                    pk=sql.Identifier(pks[parent]),
                )
            )
            row = cur.fetchone()
            out[f"{spec.name}.{column}"] = int(row[0]) if row else 0
    return out


def table_counts(cur: PgCursor, specs: Sequence[TableSpec]) -> dict[str, int]:
    """Rows per application table (tables that do not exist yet count as absent)."""
    cur.execute(
        "SELECT relname FROM pg_class WHERE relkind = 'r' "
        "AND relnamespace = current_schema()::regnamespace AND relname = ANY(%s)",
        ([s.name for s in specs],),
    )
    existing = {r[0] for r in cur.fetchall()}
    counts: dict[str, int] = {}
    for spec in specs:
        if spec.name in existing:
            cur.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(spec.name)))
            row = cur.fetchone()
            counts[spec.name] = int(row[0]) if row else 0
    return counts
