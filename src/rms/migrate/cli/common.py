"""What the ``rms db`` migration commands share: the target, the ``--to`` option, the
repeatable ``KEY=VALUE`` options and ``--workers`` parsed, lines printed as they are."""

from __future__ import annotations

from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from rms.clikit import command_settings, hooks_of, stderr_console
from rms.errors import InvalidInputError

if TYPE_CHECKING:
    from rms.migrate.target import Target
    from rms.settings import Settings

__all__ = [
    "MAX_WORKERS",
    "Format",
    "OnError",
    "ToOption",
    "pairs",
    "parse_workers",
    "say",
    "target_of",
]

#: The most ``--workers`` a run accepts.
MAX_WORKERS = 64


class OnError(StrEnum):
    abort = "abort"
    quarantine = "quarantine"


class Format(StrEnum):
    table = "table"
    json = "json"


ToOption = Annotated[
    str | None,
    typer.Option(
        "--to",
        metavar="URL",
        help="Target PostgreSQL URL (default: DATABASE_URL or the DB_* variables; a password "
        "here is visible to others: prefer the environment).",
    ),
]


def say(console: Console, text: str) -> None:
    """One line exactly as given: no markup, no highlighting."""
    console.print(text, markup=False, highlight=False)


def _warn_password(to: str | None) -> None:
    if not to:
        return
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        password = make_url(to).password
    except (ArgumentError, ValueError):
        return
    if password:
        say(
            stderr_console(),
            "warning: the --to URL holds a password: it is now in your shell history and "
            "visible to other users (ps); name the database in the environment instead "
            "(DATABASE_URL, or DB_HOST and DB_NAME with DB_SECRET_ARN, DB_SSM_PARAMETER or "
            "DB_IAM_AUTH) and leave --to out",
        )


def target_of(ctx: typer.Context, to: str | None) -> tuple[Settings, Target]:
    """The target: ``--to``, or the database the settings name (never the embedded one)."""
    from rms.migrate.target import open_target

    _warn_password(to)
    settings = command_settings(ctx, to, flag="--to")
    if not to and settings.is_embedded:
        raise InvalidInputError(
            "no target database: give --to URL, or name it in the environment (DATABASE_URL, "
            "or DB_HOST, DB_NAME and a password source such as DB_SECRET_ARN); the settings "
            "name only the embedded SQLite database",
            field="--to",
        )
    return settings, open_target(settings, session_factory=hooks_of(ctx).session_factory)


def pairs(values: Sequence[str], flag: str, example: str) -> dict[str, str]:
    """Repeated ``KEY=VALUE`` options as a mapping (``flag`` and ``example`` for the error)."""
    out: dict[str, str] = {}
    for value in values:
        key, sep, rest = value.partition("=")
        if not sep or not key.strip():
            raise InvalidInputError(f"{flag} {value}: expected {example}", field=flag)
        out[key.strip()] = rest
    return out


def parse_workers(value: str) -> int | None:
    """``--workers``: ``auto`` (None) or a count from 0 to 64."""
    text = value.strip().lower()
    if text == "auto":
        return None
    if text.isdecimal() and int(text) <= MAX_WORKERS:
        return int(text)
    raise InvalidInputError(
        f"--workers {value}: expected auto or a whole number from 0 to {MAX_WORKERS}",
        field="--workers",
    )
