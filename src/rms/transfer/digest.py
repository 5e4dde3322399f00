"""Content checksums computed independently on each side of the migration.

A row is rendered as canonical text, column by column, in model order, joined with ``|``:

========  ==========================================  ======================================
kind      Python (over the converted source value)    PostgreSQL (in SQL, over the table)
========  ==========================================  ======================================
text      ``len:value`` (length in code points)       ``length(c) || ':' || c``
enum      as text                                     as text, over ``c::text``
int       decimal                                     ``c::text``
float     the 8 bytes, big-endian, hex                ``encode(float8send(c), 'hex')``
bool      ``true``/``false``                          ``c::text``
datetime  epoch microseconds                          ``(extract(epoch from c)*1e6)::bigint``
          (``timestamp`` holding UTC: extract reads it as UTC, whatever the session zone)
json      :func:`canonical_json`                      ``c::text``, canonicalised in Python
NULL      ``N``                                       ``coalesce(..., 'N')``
========  ==========================================  ======================================

Floats are compared as bit patterns, so ``-0.0``, ``5e-324`` and ``0.1 + 0.2`` must arrive
bit for bit; text is length-prefixed, so no separator inside a value can shift columns.
The row digest is the first 8 bytes of the MD5 of the rendering as a signed 64-bit integer,
and a table's checksum is the **sum** of its row digests: order-independent (no sort of a
million rows on either side) and sensitive to duplicated or missing rows, unlike XOR.

The PostgreSQL side runs in SQL, so a bug in the loader cannot hide itself by computing
both checksums from the same Python values. The one exception is ``settings.value``: jsonb
prints documents in its own normal form, which Python cannot reproduce exactly, so its
text is fetched and canonicalised the same way as the source (a small table).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable, Iterable, Sequence
from hashlib import md5
from typing import Any

from rms.db.pg import sql
from rms.transfer.spec import Kind, TableSpec

__all__ = [
    "TableDigest",
    "canonical_json",
    "finish_json_rendering",
    "python_renderers",
    "render_row",
    "row_digest",
    "sql_column_renders",
    "sql_row_digest",
]

_PACK_DOUBLE = struct.Struct(">d").pack


class TableDigest:
    """Row count and the sum of row digests of one table."""

    __slots__ = ("count", "total")

    def __init__(self, count: int = 0, total: int = 0) -> None:
        self.count = count
        self.total = total

    def add(self, rendering: str) -> None:
        self.count += 1
        self.total += row_digest(rendering)

    @property
    def checksum(self) -> str:
        """The sum, as text (modulo 2**64, hex), for reports and the ledger."""
        return f"{self.total % 2**64:016x}"

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, TableDigest)
            and self.count == other.count
            and self.total == other.total
        )

    def __hash__(self) -> int:
        return hash((self.count, self.total))

    def __repr__(self) -> str:
        return f"TableDigest(count={self.count}, checksum={self.checksum})"


def row_digest(rendering: str) -> int:
    digest = md5(rendering.encode(), usedforsecurity=False).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _r_text(v: Any) -> str:
    return "N" if v is None else f"{len(v)}:{v}"


def _r_int(v: Any) -> str:
    return "N" if v is None else str(v)


def _r_float(v: Any) -> str:
    return "N" if v is None else _PACK_DOUBLE(v).hex()


def _r_bool(v: Any) -> str:
    return "N" if v is None else ("true" if v else "false")


def _r_datetime(v: Any) -> str:
    return "N" if v is None else str(v * 1000)


def _r_json(v: Any) -> str:
    return "N" if v is None else canonical_json(v)


_PY: dict[Kind, Callable[[Any], str]] = {
    "text": _r_text,
    "int": _r_int,
    "float": _r_float,
    "bool": _r_bool,
    "datetime": _r_datetime,
    "json": _r_json,
    "enum": _r_text,
}

_SQL: dict[Kind, str] = {
    "text": "length({c})::text || ':' || {c}",
    "int": "{c}::text",
    "float": "encode(float8send({c}), 'hex')",
    "bool": "{c}::text",
    "datetime": "((extract(epoch from {c}) * 1000000)::bigint)::text",
    "json": "{c}::text",
    "enum": "length({c}::text)::text || ':' || {c}::text",
}


def python_renderers(spec: TableSpec) -> list[Callable[[Any], str]]:
    """Per-column renderers of converted values (epoch ms for instants, JSON as text)."""
    return [_PY[c.kind] for c in spec.columns]


def render_row(renderers: Sequence[Callable[[Any], str]], row: Iterable[Any]) -> str:
    return "|".join([r(v) for r, v in zip(renderers, row, strict=True)])


def sql_column_renders(spec: TableSpec) -> list[sql.Composable]:
    """One SQL expression per column giving its canonical text (JSON still raw)."""
    out: list[sql.Composable] = []
    for col in spec.columns:
        expr = sql.SQL(_SQL[col.kind]).format(c=sql.Identifier(col.name))
        out.append(sql.SQL("coalesce({}, 'N')").format(expr))
    return out


def sql_row_digest(spec: TableSpec) -> sql.Composable | None:
    """SQL for the digest of one row, or None when the table needs Python (json)."""
    if any(c.kind == "json" for c in spec.columns):
        return None
    rendering = sql.SQL("concat_ws('|', {})").format(sql.SQL(", ").join(sql_column_renders(spec)))
    return sql.SQL("('x' || left(md5({}), 16))::bit(64)::bigint").format(rendering)


def finish_json_rendering(spec: TableSpec, rendered: Sequence[str]) -> str:
    """Join SQL-rendered columns, canonicalising the raw JSON ones in Python."""
    parts = [
        canonical_json(text) if col.kind == "json" and text != "N" else text
        for col, text in zip(spec.columns, rendered, strict=True)
    ]
    return "|".join(parts)


def canonical_json(text: str) -> str:
    """One rendering of a JSON document, the same whichever side produced the text.

    Keys sorted, no spaces, numbers as exact decimals (so ``1.0`` from SQLite and ``1.0``
    from jsonb agree, and no digit is lost to a float).
    """
    from decimal import Decimal

    def render(obj: Any) -> str:
        if isinstance(obj, dict):
            items = sorted(obj.items())
            return "{" + ",".join(json.dumps(k) + ":" + render(v) for k, v in items) + "}"
        if isinstance(obj, list):
            return "[" + ",".join(render(v) for v in obj) + "]"
        if isinstance(obj, Decimal):
            return str(obj.normalize()) if obj != 0 else "0"
        return json.dumps(obj)

    return render(json.loads(text, parse_float=Decimal, parse_int=Decimal))
