"""The row diff: two sides' rendered rows merged in key order, naming what differs.

When a table's checksums do not match, both directions name the first differing values:
each side gives ``(primary key, canonical text of each column)`` in the same key byte order
(:func:`rms.transfer.postgresql.rendered_rows` on the server, the direction's own reading
of the SQLite side), and the merge reports a row only one side has (``column`` ``"*"``) or
each column whose texts differ.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, NamedTuple

__all__ = ["Differing", "RenderedRow", "differences"]

#: (primary key, canonical text of each column).
RenderedRow = tuple[Any, list[str]]


class Differing(NamedTuple):
    """A value (or a row, ``column == "*"``) that differs: what each side holds."""

    row_id: Any
    column: str
    left: str
    right: str


def differences(
    columns: Sequence[str], left: Iterator[RenderedRow], right: Iterator[RenderedRow]
) -> Iterator[Differing]:
    """Every difference between the two sides, in key order (take the first few)."""
    a, b = next(left, None), next(right, None)
    while a is not None or b is not None:
        if b is None or (a is not None and a[0] < b[0]):
            assert a is not None
            yield Differing(a[0], "*", "row present", "row missing")
            a = next(left, None)
        elif a is None or b[0] < a[0]:
            yield Differing(b[0], "*", "row absent", "row present")
            b = next(right, None)
        else:
            for name, x, y in zip(columns, a[1], b[1], strict=True):
                if x != y:
                    yield Differing(a[0], name, x, y)
            a, b = next(left, None), next(right, None)
