"""Drive the RMS application's own Prisma client from Python tests.

Everything here goes through the real toolchain (``tests/prisma/node``): Prisma 7's generated
client with ``@prisma/adapter-better-sqlite3`` (SQLite) or ``@prisma/adapter-pg``
(PostgreSQL), the way the application reads and writes, and Prisma 6.19's wasm schema engine
for the PostgreSQL schema the application would create. Requests and answers travel as JSON on
stdin/stdout (see ``node/harness.mjs``); no console output is parsed.

Values on the Python side are plain Python: ``datetime`` (aware, UTC, millisecond precision)
for DateTime, ``float`` for Float, ``int``, ``bool``, ``str`` (also enum values) and ``None``.
A portfolio is ``{model: [row, ...]}`` with rows keyed by the Prisma field names (which are the
column names).

Call the functions after the ``prisma_toolchain`` fixture (``tests/prisma/toolchain.py``), which
installs the toolchain or skips/fails with a reason; each function also takes the toolchain
explicitly.
"""

from __future__ import annotations

import json
import math
import shutil
import struct
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, NamedTuple

import psycopg
from psycopg import sql
from sqlalchemy.engine import make_url

from tests.prisma.toolchain import Toolchain, default_toolchain

__all__ = [
    "APP_LATEST_SQLITE",
    "MODELS",
    "Difference",
    "HarnessError",
    "OperationResult",
    "Portfolio",
    "app_schema_sql",
    "compare",
    "format_differences",
    "push_app_schema",
    "read_all",
    "run_app_operations",
    "set_database_timezone",
    "write_portfolio",
    "write_sqlite",
]

#: An empty SQLite file with exactly the application's schema after its last migration
#: (a byte copy of ``../shared/fixtures/prisma-history/22_add_volatility_columns_to_universe.db``).
APP_LATEST_SQLITE = (
    Path(__file__).resolve().parent / "fixtures" / "22_add_volatility_columns_to_universe.db"
)

#: The application's models, parents before children.
MODELS = (
    "risk_group",
    "accounts",
    "divDepositType",
    "universe",
    "trades",
    "divDeposits",
    "holidays",
    "screener",
    "cusip_cache",
    "cusip_cache_archive",
    "cusip_cache_audit",
)

Portfolio = dict[str, list[dict[str, Any]]]
TimestampFormat = Literal["iso8601", "unixepoch-ms"]


class HarnessError(Exception):
    """The application's client refused or failed; the message is Prisma's own."""


class Difference(NamedTuple):
    """One field that differs; ``field`` is ``"*"`` for a row present on one side only."""

    model: str
    id: str
    field: str
    left: Any
    right: Any


@dataclass(frozen=True)
class OperationResult:
    """One application operation, run in a transaction that was rolled back."""

    name: str
    ok: bool
    error: str | None
    detail: Any


# -- URLs ---------------------------------------------------------------------------------


def client_url(url: str | Path) -> str:
    """The URL form the node side takes: ``file:<absolute path>`` or ``postgresql://...``.

    Accepts a path, ``file:...``, ``sqlite:///...`` or any SQLAlchemy/libpq PostgreSQL URL.
    """
    if isinstance(url, Path):
        return f"file:{url.resolve()}"
    if url.startswith("file:"):
        return url
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if not parsed.database:
            raise ValueError("an SQLite URL needs a file path")
        return f"file:{Path(parsed.database).resolve()}"
    if parsed.get_backend_name() == "postgresql":
        return parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    raise ValueError(f"not an SQLite or PostgreSQL URL: {parsed.drivername}")


# -- value codec --------------------------------------------------------------------------


def _encode_float(x: float) -> float | str:
    if math.isfinite(x) and not (x == 0.0 and math.copysign(1.0, x) < 0):
        return x
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return "-0"


def _encode_value(model: str, row_id: Any, name: str, value: Any) -> Any:
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError(f"{model} id={row_id} {name}: a naive datetime is ambiguous")
        if value.microsecond % 1000:
            raise ValueError(f"{model} id={row_id} {name}: Prisma keeps milliseconds only")
        utc = value.astimezone(UTC)
        return utc.isoformat(timespec="milliseconds").replace("+00:00", "Z")
    if isinstance(value, float):
        return _encode_float(value)
    if value is None or isinstance(value, bool | int | str):
        return value
    raise ValueError(f"{model} id={row_id} {name}: cannot send {type(value).__name__}")


def encode_portfolio(portfolio: Mapping[str, Sequence[Mapping[str, Any]]]) -> dict[str, Any]:
    return {
        model: [
            {k: _encode_value(model, row.get("id"), k, v) for k, v in row.items()} for row in rows
        ]
        for model, rows in portfolio.items()
    }


def decode_value(kind: str, value: Any) -> Any:
    if value is None:
        return None
    if kind == "DateTime":
        return datetime.fromisoformat(value).astimezone(UTC)
    if kind == "Float":
        return float(value)
    return value


def _decode_read(result: Mapping[str, Any]) -> Portfolio:
    fields: Mapping[str, Mapping[str, Mapping[str, str]]] = result["fields"]
    out: Portfolio = {}
    for model, rows in result["models"].items():
        types = {name: meta["type"] for name, meta in fields[model].items()}
        decoded = [{k: decode_value(types[k], v) for k, v in row.items()} for row in rows]
        out[model] = sorted(decoded, key=lambda r: str(r["id"]))
    return out


# -- the node side ------------------------------------------------------------------------


def _call(tool: Toolchain, request: Mapping[str, Any], timeout: float = 300.0) -> Any:
    proc = tool.run(["harness.mjs"], input_text=json.dumps(request), timeout=timeout)
    try:
        answer = json.loads(proc.stdout)
    except ValueError:
        raise HarnessError(
            f"node harness.mjs {request.get('command')} exited {proc.returncode} without an "
            f"answer; stderr:\n{proc.stderr.strip()[-3000:]}"
        ) from None
    if not answer.get("ok"):
        raise HarnessError(answer["error"]["message"])
    return answer["result"]


def write_portfolio(
    url: str | Path,
    portfolio: Mapping[str, Sequence[Mapping[str, Any]]],
    timestamp_format: TimestampFormat | None = None,
    *,
    toolchain: Toolchain | None = None,
) -> dict[str, int]:
    """Create every row through the application's client, in one transaction; rows per model.

    ``timestamp_format`` is the SQLite adapter's option: ``None`` is what the application does
    (the adapter's default, ISO-8601 text), ``"unixepoch-ms"`` stores integers.
    """
    tool = toolchain or default_toolchain()
    result = _call(
        tool,
        {
            "command": "write",
            "url": client_url(url),
            "timestampFormat": timestamp_format,
            "portfolio": encode_portfolio(portfolio),
        },
    )
    counts: dict[str, int] = result["counts"]
    return counts


def write_sqlite(
    path: Path,
    portfolio: Mapping[str, Sequence[Mapping[str, Any]]],
    timestamp_format: TimestampFormat | None = None,
    *,
    toolchain: Toolchain | None = None,
) -> dict[str, int]:
    """A new SQLite file at ``path``: the application's latest DDL, then ``portfolio`` written
    through its client (see :func:`write_portfolio`). Refuses to overwrite a file."""
    if path.exists():
        raise FileExistsError(f"{path} exists; write_sqlite makes new files only")
    shutil.copyfile(APP_LATEST_SQLITE, path)
    try:
        return write_portfolio(path, portfolio, timestamp_format, toolchain=toolchain)
    except BaseException:
        path.unlink(missing_ok=True)
        raise


def read_all(
    url: str | Path,
    timestamp_format: TimestampFormat | None = None,
    *,
    toolchain: Toolchain | None = None,
) -> Portfolio:
    """Every row of every model, every scalar and enum field, read by the application's client.

    Rows are sorted by id (code point order). A model whose query fails (a missing column or
    table, an unreadable value) raises :class:`HarnessError` with Prisma's message.
    """
    tool = toolchain or default_toolchain()
    result = _call(
        tool, {"command": "read", "url": client_url(url), "timestampFormat": timestamp_format}
    )
    return _decode_read(result)


def run_app_operations(
    url: str | Path, *, toolchain: Toolchain | None = None
) -> list[OperationResult]:
    """The application's usual writes, each in its own transaction that is rolled back.

    Creating a trade, updating a universe row, deleting a symbol that has deposits (and no
    trades: the deposits must stay, with ``universeId`` NULL), creating ``cusip_cache`` rows with
    each enum value, reading the models with their relations; last, a check that all row counts
    are what they were. Each result says whether it worked and, if not, Prisma's message.
    """
    tool = toolchain or default_toolchain()
    results = _call(tool, {"command": "operations", "url": client_url(url)})
    return [OperationResult(r["name"], r["ok"], r["error"], r["detail"]) for r in results]


def app_schema_sql(pg_url: str, *, toolchain: Toolchain | None = None) -> str:
    """The SQL that creates the application's PostgreSQL schema from nothing.

    Made by Prisma 6.19's wasm schema engine (``migrate diff --from-empty``) from
    ``schema.postgresql.prisma``. It connects to ``pg_url`` (the JS engine needs a database
    through its adapter) but reads and changes nothing there. ``db push`` is not used: with the
    pg adapter it fails on any database ("Column type 'name' could not be deserialized",
    prisma/orm#27403).
    """
    tool = toolchain or default_toolchain()
    schema = (tool.project / "prisma" / "schema.postgresql.prisma").read_text()
    # Prisma 6 wants a url in the datasource block (Prisma 7 forbids one); the adapter in
    # prisma6.config.mjs is what connects.
    with_url = schema.replace(
        'provider = "postgresql"', 'provider = "postgresql"\n  url      = env("RMS_PRISMA6_URL")', 1
    )
    with tempfile.TemporaryDirectory(prefix="rms-prisma6-") as tmp:
        schema_path = Path(tmp) / "schema.prisma"
        schema_path.write_text(with_url)
        proc = tool.run(
            [
                "node_modules/prisma6/build/index.js",
                "migrate",
                "diff",
                "--config",
                "prisma6.config.mjs",
                "--from-empty",
                "--to-schema-datamodel",
                str(schema_path),
                "--script",
            ],
            env={"RMS_PRISMA6_URL": client_url(pg_url), "RMS_PRISMA6_SCHEMA": str(schema_path)},
        )
    if proc.returncode != 0 or "CREATE TABLE" not in proc.stdout:
        raise HarnessError(
            f"prisma migrate diff (6.19, wasm engine) failed, exit {proc.returncode}:\n"
            f"{proc.stderr.strip()[-3000:]}"
        )
    return proc.stdout


def push_app_schema(
    pg_url: str, *, script: str | None = None, toolchain: Toolchain | None = None
) -> str:
    """Create the application's own PostgreSQL schema in an empty database, in one transaction.

    Executes ``script`` (the result of an earlier :func:`app_schema_sql`, to save starting the
    schema engine again) or a fresh :func:`app_schema_sql`; returns the SQL that ran.
    """
    if script is None:
        script = app_schema_sql(pg_url, toolchain=toolchain)
    with psycopg.connect(client_url(pg_url)) as conn:
        conn.execute(script.encode())
    return script


def set_database_timezone(pg_url: str, zone: str) -> None:
    """Every new session of the database gets this TimeZone (``ALTER DATABASE ... SET``).

    Checked on a new connection, so a test relying on it cannot pass vacuously.
    """
    libpq = client_url(pg_url)
    with psycopg.connect(libpq, autocommit=True) as conn:
        row = conn.execute("SELECT current_database()").fetchone()
        assert row is not None
        conn.execute(
            sql.SQL("ALTER DATABASE {} SET timezone = {}").format(
                sql.Identifier(row[0]), sql.Literal(zone)
            )
        )
    with psycopg.connect(libpq) as conn:
        shown = conn.execute("SHOW timezone").fetchone()
    if shown is None or shown[0] != zone:
        raise HarnessError(f"the database TimeZone is {shown!r}, not {zone!r}")


# -- comparison ---------------------------------------------------------------------------


def _same(a: Any, b: Any) -> bool:
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or struct.pack(">d", a) == struct.pack(">d", b)
    return bool(a == b)


def compare(
    left: Mapping[str, Sequence[Mapping[str, Any]]],
    right: Mapping[str, Sequence[Mapping[str, Any]]],
    models: Sequence[str] | None = None,
) -> list[Difference]:
    """Every field that differs between two portfolios, as (model, id, field, left, right).

    Strict: floats compare bit for bit, ``True`` differs from ``1``, ``None`` from a missing
    field (shown as the string ``"<absent>"``), instants must be equal to the millisecond.
    ``models`` limits the comparison (default: every model on either side).
    """
    absent = "<absent>"
    names = models if models is not None else sorted(set(left) | set(right))
    diffs: list[Difference] = []
    for model in names:
        lrows = {str(r["id"]): r for r in left.get(model, [])}
        rrows = {str(r["id"]): r for r in right.get(model, [])}
        for row_id in sorted(set(lrows) | set(rrows)):
            lrow, rrow = lrows.get(row_id), rrows.get(row_id)
            if lrow is None or rrow is None:
                diffs.append(
                    Difference(
                        model,
                        row_id,
                        "*",
                        absent if lrow is None else "row",
                        absent if rrow is None else "row",
                    )
                )
                continue
            for name in sorted(set(lrow) | set(rrow)):
                lv, rv = lrow.get(name, absent), rrow.get(name, absent)
                if (name not in lrow) or (name not in rrow) or not _same(lv, rv):
                    diffs.append(Difference(model, row_id, name, lv, rv))
    return diffs


def format_differences(diffs: Sequence[Difference], limit: int = 40) -> str:
    """A readable list for an assertion message."""
    lines = [f"{d.model} id={d.id} {d.field}: {d.left!r} != {d.right!r}" for d in diffs[:limit]]
    if len(diffs) > limit:
        lines.append(f"... and {len(diffs) - limit} more")
    return "\n".join(lines)
