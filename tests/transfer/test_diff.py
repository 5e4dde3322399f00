"""The row diff both directions name their differences with."""

from __future__ import annotations

from itertools import islice

from rms.transfer.diff import Differing, differences


def test_rows_one_side_lacks_and_values_that_differ_in_key_order() -> None:
    left = iter([("a", ["1", "x"]), ("b", ["2", "y"]), ("d", ["4", "w"])])
    right = iter([("b", ["2", "Y"]), ("c", ["3", "z"]), ("d", ["4", "w"])])
    assert list(differences(["id", "v"], left, right)) == [
        Differing("a", "*", "row present", "row missing"),
        Differing("b", "v", "y", "Y"),
        Differing("c", "*", "row absent", "row present"),
    ]


def test_equal_sides_have_no_differences_and_the_first_few_are_taken_lazily() -> None:
    rows = [(f"{i:03}", [str(i)]) for i in range(5)]
    assert list(differences(["id"], iter(rows), iter(rows))) == []

    def endless() -> object:
        i = 0
        while True:
            yield f"{i:09}", [str(i)]
            i += 1

    found = islice(differences(["id"], endless(), iter([])), 3)  # type: ignore[arg-type]
    assert [d.row_id for d in found] == ["000000000", "000000001", "000000002"]
