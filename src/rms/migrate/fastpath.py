"""The per-row hot path, generated once per table: convert, encode for COPY, render.

A million-row table spends most of its migration time in Python, one row at a time. A
generic loop calls a converter, a renderer and a psycopg dumper per *value*; this module
instead writes one straight-line function per table (from the same rules as
:mod:`rms.migrate.convert` and :mod:`rms.transfer.digest`) that does, per *row*:

* the exact conversion (inline type checks for the common case, falling back to the
  reference converters for the rare forms such as text dates),
* the PostgreSQL binary COPY encoding of the row (length-prefixed fields, big-endian
  doubles copied bit for bit, ``timestamp`` as UTC microseconds since 2000-01-01, an enum
  as its label's text),
* the canonical rendering used by the checksum.

Any value the inline checks do not accept is handed to the reference converter, which either
converts it or raises :class:`BadValue`; the caller then re-runs the reference converters
column by column to name every problem. So the fast path can be faster, never laxer: a test
compares it with the reference path value by value.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from hashlib import md5
from typing import Any

from rms.migrate.convert import BadValue, converter
from rms.transfer.digest import canonical_json
from rms.transfer.spec import TableSpec

__all__ = ["COPY_HEADER", "COPY_TRAILER", "RowFunction", "row_function"]

#: Binary COPY stream signature, flags and header extension length.
COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)
COPY_TRAILER = struct.pack(">h", -1)

#: (COPY bytes of the row, row digest, converted values)
RowFunction = Callable[[tuple[Any, ...]], tuple[bytes, int, tuple[Any, ...]]]

_PG_EPOCH_MS = 946_684_800_000


def _namespace(spec: TableSpec) -> dict[str, Any]:
    ns: dict[str, Any] = {
        "_md5": md5,
        # The first 8 bytes of the MD5 as a signed big-endian integer (as digest.row_digest).
        "_high64": struct.Struct(">q8x").unpack,
        "BadValue": BadValue,
        "_pi": struct.Struct(">i").pack,
        "_pid": struct.Struct(">id").pack,
        "_pii": struct.Struct(">ii").pack,
        "_piq": struct.Struct(">iq").pack,
        "_NULL": struct.pack(">i", -1),
        "_TRUE": struct.pack(">i", 1) + b"\x01",
        "_FALSE": struct.pack(">i", 1) + b"\x00",
        "_HDR": struct.pack(">h", len(spec.columns)),
        "_canon": canonical_json,
        "_join": b"".join,
    }
    for i, col in enumerate(spec.columns):
        ns[f"_conv{i}"] = converter(col)
        ns[f"_choices{i}"] = frozenset(col.choices)
    return ns


def _column_code(i: int, kind: str, nullable: bool) -> list[str]:
    """Lines computing v{i} (converted), p{i} (COPY field bytes), r{i} (rendering)."""
    v, p, r = f"v{i}", f"p{i}", f"r{i}"
    src = f"raw[{i + 1}]"
    lines = [f"{v} = {src}"]
    null = [f"{p} = _NULL", f"{r} = 'N'"]
    if kind in ("text", "enum"):
        check = f"{v} not in _choices{i}" if kind == "enum" else f"'\\x00' in {v}"
        body = [
            f"if type({v}) is not str or {check}: {v} = _conv{i}({v})",
            f"e = {v}.encode()",
            f"{p} = _pi(len(e)) + e",
            f"{r} = f'{{len({v})}}:{{{v}}}'",
        ]
    elif kind == "int":
        body = [
            f"if type({v}) is not int or not -2147483648 <= {v} <= 2147483647: {v} = _conv{i}({v})",
            f"{p} = _pii(4, {v})",
            f"{r} = str({v})",
        ]
    elif kind == "float":
        body = [
            f"if type({v}) is not float: {v} = _conv{i}({v})",
            f"{p} = _pid(8, {v})",
            f"{r} = {p}[4:].hex()",
        ]
    elif kind == "bool":
        body = [
            f"if type({v}) is not int or ({v} != 0 and {v} != 1): {v} = _conv{i}({v})",
            f"{v} = {v} == 1",
            f"{p} = _TRUE if {v} else _FALSE",
            f"{r} = 'true' if {v} else 'false'",
        ]
    elif kind == "datetime":
        body = [
            f"if type({v}) is not int or not (100000000000 <= {v} <= 253402300799999 "
            f"or -62135596800000 <= {v} <= -100000000000): {v} = _conv{i}({v})",
            f"{p} = _piq(8, ({v} - {_PG_EPOCH_MS}) * 1000)",
            f"{r} = str({v} * 1000)",
        ]
    elif kind == "json":
        body = [
            f"{v} = _conv{i}({v})",
            f"e = {v}.encode()",
            f"{p} = _pi(len(e) + 1) + b'\\x01' + e",
            f"{r} = _canon({v})",
        ]
    else:  # pragma: no cover - every kind of spec.Kind is handled above
        raise TypeError(kind)
    if nullable:
        return [*lines, f"if {v} is None:", *("    " + x for x in null), "else:"] + [
            "    " + x for x in body
        ]
    return [*lines, f"if {v} is None: {v} = _conv{i}({v})", *body]


def row_function(spec: TableSpec, references: dict[str, set[Any]] | None = None) -> RowFunction:
    """The generated function for one table (raises BadValue on the first bad value).

    ``references`` maps a foreign-key column to the set of ids it may name; a row naming
    any other id raises BadValue too (the caller's slow path then says which and why).
    """
    n = len(spec.columns)
    body: list[str] = []
    names = spec.column_names
    for i, col in enumerate(spec.columns):
        body += _column_code(i, col.kind, col.nullable)
    for column, _ids in (references or {}).items():
        i = names.index(column)
        body.append(f"if v{i} is not None and v{i} not in _ids{i}: raise BadValue('reference')")
    fields = ", ".join(f"p{i}" for i in range(n))
    rendering = "f'" + "|".join(f"{{r{i}}}" for i in range(n)) + "'"  # one BUILD_STRING
    values = ", ".join(f"v{i}" for i in range(n)) + ("," if n == 1 else "")
    source = "\n".join(
        [
            "def convert_row(raw):",
            *("    " + line for line in body),
            f"    rendering = {rendering}",
            "    digest = _high64(_md5(rendering.encode(), usedforsecurity=False).digest())[0]",
            f"    return _join((_HDR, {fields})), digest, ({values})",
        ]
    )
    namespace = _namespace(spec)
    for column, ids in (references or {}).items():
        namespace[f"_ids{names.index(column)}"] = ids
    exec(compile(source, f"<rms.migrate row function for {spec.name}>", "exec"), namespace)  # noqa: S102
    function: RowFunction = namespace["convert_row"]
    return function
