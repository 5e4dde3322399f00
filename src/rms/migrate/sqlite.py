"""The migration's SQLite side (its source): open read-only, check, introspect, back up, and
stream rows.

The source is opened read-only (:func:`rms.transfer.sqlite.open_readonly`, never
``immutable=1``: the application may still be writing). A consistent copy is then taken
with the online backup API (which copies one committed snapshot, retrying if a writer
interferes) and every later read comes from that copy, so the whole migration sees one
state of the data even while the application runs.

A copy of one state is not enough when the application keeps writing: rows committed after
the copy would be missing from the target. :class:`SourceWatch` keeps a connection to the
live file open from the backup until COMMIT and reads ``PRAGMA data_version`` on it, which
changes whenever another connection (any process) commits to the file, in rollback-journal
and WAL mode alike; the run refuses to commit when it changed.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from rms.db.errors import translate_db_error
from rms.migrate.convert import BadText
from rms.migrate.errors import SourceError
from rms.transfer.sqlite import (
    SQLITE_HEADER,
    open_readonly,
    quote_ident,
    remove_database_file,
    remove_side_files,
)

__all__ = [
    "SourceColumn",
    "SourceSchema",
    "SourceTable",
    "SourceWatch",
    "backup_to",
    "integrity_check",
    "iter_rows",
    "open_source",
    "read_schema",
]

#: Rows per fetch from SQLite; only a batch at a time is in memory.
FETCH_ROWS = 2000


def _source_error(path: Path, exc: BaseException) -> SourceError:
    text = str(exc)
    journal = Path(f"{path}-journal")
    if "readonly" in text and journal.exists() and journal.stat().st_size > 0:
        return SourceError(
            f"{path} has a hot journal ({journal.name}): a process stopped in the middle of "
            "writing to it, and only a writer may roll that unfinished write back, while the "
            "migration opens the file read-only; start and stop the application once (or run "
            f"sqlite3 {path} 'PRAGMA quick_check'), then run the migration again"
        )
    if "locked" in text or "busy" in text:
        return SourceError(
            f"{path} is locked by another process (it holds a write lock); close the "
            "application or wait for it to finish, then retry"
        )
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return SourceError(f"{path} is not a usable SQLite database: {text}")
    return SourceError(f"cannot read {path}: {translate_db_error(exc)}")


def check_file(path: Path) -> None:
    """Fail early and clearly on a path that cannot be a SQLite database."""
    if not path.exists():
        raise SourceError(f"{path} does not exist")
    if not path.is_file():
        raise SourceError(f"{path} is not a file")
    try:
        with path.open("rb") as fh:
            header = fh.read(len(SQLITE_HEADER))
    except OSError as exc:
        raise SourceError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if not header:
        raise SourceError(f"{path} is empty (0 bytes): not an RMS database")
    if header != SQLITE_HEADER:
        raise SourceError(f"{path} is not a SQLite database (its header is not 'SQLite format 3')")


def open_source(path: Path, busy_timeout: float = 2.0) -> sqlite3.Connection:
    """The source, read-only (:func:`rms.transfer.sqlite.open_readonly`), after checking it
    can be a SQLite file; SQLite's refusals as :class:`SourceError`\\ s saying what to do."""
    check_file(path)
    try:
        return open_readonly(path, busy_timeout)
    except sqlite3.Error as exc:
        raise _source_error(path, exc) from exc


def integrity_check(conn: sqlite3.Connection, path: Path, *, quick: bool = False) -> None:
    """``PRAGMA integrity_check`` (or ``quick_check``: the same minus index-vs-table checks,
    O(N) instead of O(N log N): 0.6 s instead of 9 s on the 1.2M-row reference file)."""
    pragma = "quick_check" if quick else "integrity_check"
    try:
        rows = [r[0] for r in conn.execute(f"PRAGMA {pragma}(20)")]
    except sqlite3.Error as exc:
        raise _source_error(path, exc) from exc
    if rows != ["ok"]:
        raise SourceError(
            f"{path} fails PRAGMA {pragma} (the file is corrupt): " + "; ".join(rows[:5])
        )


@dataclass
class SourceColumn:
    name: str
    declared_type: str
    notnull: bool


@dataclass
class SourceTable:
    name: str
    columns: list[SourceColumn]
    rows: int
    has_rowid: bool = True
    #: The SQL name rows are read from when it is not the table itself: a TEMP table the
    #: run derived on the reading connection (see :mod:`rms.migrate.lineage`).
    relation: str | None = None

    @property
    def sql_name(self) -> str:
        return self.relation or quote_ident(self.name)

    def find(self, name: str) -> SourceColumn | None:
        """A column by name: exact first, then case-insensitively (as SQLite resolves it)."""
        for col in self.columns:
            if col.name == name:
                return col
        for col in self.columns:
            if col.name.lower() == name.lower():
                return col
        return None


@dataclass
class SourceSchema:
    tables: dict[str, SourceTable] = field(default_factory=dict)
    #: Names of the file's indexes (SQLite's own ``sqlite_autoindex_*`` excluded).
    indexes: set[str] = field(default_factory=set)

    def find(self, name: str) -> SourceTable | None:
        if name in self.tables:
            return self.tables[name]
        for table_name, table in self.tables.items():
            if table_name.lower() == name.lower():
                return table
        return None


def read_schema(conn: sqlite3.Connection, path: Path) -> SourceSchema:
    schema = SourceSchema()
    try:
        names = [
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' ORDER BY name"
            )
        ]
        for name in names:
            cols = [
                SourceColumn(name=r[1], declared_type=str(r[2] or ""), notnull=bool(r[3]))
                for r in conn.execute(f"PRAGMA table_info({quote_ident(name)})")
            ]
            count_sql = f"SELECT count(*) FROM {quote_ident(name)}"  # noqa: S608
            (count,) = conn.execute(count_sql).fetchone()
            has_rowid = True
            try:
                conn.execute(f"SELECT rowid FROM {quote_ident(name)} LIMIT 1").fetchall()  # noqa: S608
            except sqlite3.OperationalError:
                has_rowid = False
            schema.tables[name] = SourceTable(name, cols, int(count), has_rowid)
        schema.indexes = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'index' "
                "AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
            )
        }
    except sqlite3.Error as exc:
        raise _source_error(path, exc) from exc
    return schema


def backup_to(conn: sqlite3.Connection, dest: Path, path: Path) -> None:
    """A consistent copy of the source at ``dest`` (online backup API, one snapshot), as one
    self-contained file.

    The backup API copies the pages, header included, so the copy of a source in WAL mode
    (as a running rms leaves its file) is in WAL mode too, and every later reader of it
    would make ``-wal`` and ``-shm`` files beside it. The copy is switched to the rollback
    journal (``journal_mode=DELETE``, which checkpoints and removes its WAL), so it is one
    file that opens read-only on its own and leaves nothing beside it.
    """
    dest.parent.mkdir(parents=True, exist_ok=True)
    target = sqlite3.connect(dest)
    try:
        conn.backup(target, pages=-1)
        (mode,) = target.execute("PRAGMA journal_mode=DELETE").fetchone()
        if str(mode).lower() != "delete":
            raise sqlite3.OperationalError(f"the copy stayed in journal mode {mode}")
    except sqlite3.Error as exc:
        target.close()
        remove_database_file(dest)
        raise _source_error(path, exc) from exc
    target.close()
    remove_side_files(dest)


def _checking_text(raw: bytes) -> Any:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return BadText(raw)


def iter_rows(
    conn: sqlite3.Connection,
    table: SourceTable,
    select: Sequence[str],
    order_by_pk: str | None = None,
    after: int | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Rows as ``(rowid, *select)``, in rowid order (or by primary key for a diff); with
    ``after``, only the rows whose rowid is greater (the rest of a table read in chunks).

    Text that is not valid UTF-8 makes sqlite3 fail the whole fetch; when that happens the
    scan resumes after the last good rowid with a text factory that returns such values as
    :class:`BadText`, so they become problems naming their row instead of a crash.
    """
    rowid = "rowid" if table.has_rowid else "NULL"
    columns = ", ".join(select)
    base = f"SELECT {rowid}, {columns} FROM {table.sql_name}"  # noqa: S608
    if order_by_pk is not None:
        query = f"{base} ORDER BY {quote_ident(order_by_pk)} COLLATE BINARY, {rowid}"
        yield from conn.execute(query)
        return
    if not table.has_rowid:
        yield from conn.execute(base)
        return
    last: int | None = after
    try:
        if last is None:
            cursor = conn.execute(f"{base} ORDER BY rowid")
        else:
            cursor = conn.execute(f"{base} WHERE rowid > ? ORDER BY rowid", (last,))
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
            last = batch[-1][0]
        return
    except sqlite3.OperationalError as exc:
        if "decode" not in str(exc):
            raise
    previous = conn.text_factory
    conn.text_factory = _checking_text
    try:
        if last is None:
            cursor = conn.execute(f"{base} ORDER BY rowid")
        else:
            cursor = conn.execute(f"{base} WHERE rowid > ? ORDER BY rowid", (last,))
        while batch := cursor.fetchmany(FETCH_ROWS):
            yield from batch
    finally:
        conn.text_factory = previous


class SourceWatch:
    """A connection to the live source that notices any commit another process makes to it.

    Opened before the backup and kept until COMMIT. ``PRAGMA data_version`` on one connection
    changes exactly when some *other* connection committed to the file in between (SQLite
    reads the file change counter, or the WAL index, for it); this connection only reads, so
    its own reads never change it. :meth:`backup` copies the file through this connection,
    so the version taken before the copy describes the copied state.
    """

    def __init__(self, path: Path, busy_timeout: float = 2.0) -> None:
        self.path = path
        self.conn = open_source(path, busy_timeout)
        try:
            self.version = self._read()
        except BaseException:
            self.conn.close()
            raise

    def _read(self) -> int | None:
        """The data version, or None when a writer holds the file right now (busy)."""
        try:
            (value,) = self.conn.execute("PRAGMA data_version").fetchone()
        except sqlite3.OperationalError as exc:
            if "locked" in str(exc) or "busy" in str(exc):
                return None
            raise _source_error(self.path, exc) from exc
        return int(value)

    def backup(self, dest: Path) -> None:
        backup_to(self.conn, dest, self.path)

    def changed(self) -> bool:
        """True if anyone committed to the source since the watch began (or is writing now)."""
        now = self._read()
        return now is None or now != self.version

    @contextmanager
    def held(self) -> Iterator[bool]:
        """A read transaction on the live file for the moment of COMMIT; yields :meth:`changed`.

        In rollback-journal mode the read lock it holds keeps other processes from
        committing until the block ends, so nothing can slip in between the check and the
        target's COMMIT. In WAL mode readers never block writers: the check is as late as
        it can be, and a commit in the milliseconds of the target's COMMIT is not seen here
        (docs/migration.md, "A source still being written").
        """
        try:
            self.conn.execute("BEGIN")
            self.conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
        except sqlite3.OperationalError:  # a writer holds the file: it is being written
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")
            yield True
            return
        try:
            yield self.changed()
        finally:
            with suppress(sqlite3.Error):
                self.conn.execute("ROLLBACK")

    def close(self) -> None:
        self.conn.close()
