"""The options the migration commands parse themselves: ``KEY=VALUE`` pairs, ``--workers``."""

from __future__ import annotations

import pytest

from rms.errors import InvalidInputError
from rms.migrate.cli.common import MAX_WORKERS, pairs, parse_workers


def test_pairs_split_at_the_first_equals_sign() -> None:
    assert pairs([" a.b =x=y", "c="], "--fill", "TABLE.COLUMN=VALUE") == {"a.b": "x=y", "c": ""}


@pytest.mark.parametrize("value", ["novalue", "=x", " =x"])
def test_a_pair_without_a_key_is_refused_naming_the_flag(value: str) -> None:
    with pytest.raises(InvalidInputError, match=f"--fill {value}: expected TABLE.COLUMN=VALUE"):
        pairs([value], "--fill", "TABLE.COLUMN=VALUE")


def test_workers_is_auto_or_a_count_up_to_the_limit() -> None:
    assert parse_workers(" Auto ") is None
    assert parse_workers("0") == 0
    assert parse_workers(str(MAX_WORKERS)) == MAX_WORKERS
    for bad in (str(MAX_WORKERS + 1), "-1", "two", ""):
        with pytest.raises(InvalidInputError, match="--workers"):
            parse_workers(bad)
