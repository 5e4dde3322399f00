"""What every ``rms`` command group is built from: the same Typer settings, the same output.

- :func:`command_group` makes a Typer app whose help is Click's plain layout (two columns
  that never cut an option name, flags without a ``<bool>`` metavar, readable at 80
  columns) and that leaves errors to the one boundary, :func:`rms.cli.main`.
- :func:`stdout_console` and :func:`stderr_console` make rich consoles per command (never
  at import): on a terminal they use its width; piped to a file or a program they do not
  wrap at all, so every line arrives whole.
- :func:`command_settings` reads the settings for a command (``--url`` wins, and errors
  about it name ``--url``, not ``DATABASE_URL``) and sets the log level from them.
- :class:`Hooks` is what a caller may inject into a command instead of environment
  variables read by product code: :func:`rms.cli.main` takes one (tests pass an observer of
  the migration's named points, or an AWS session factory bound to moto) and commands read
  it with :func:`hooks_of`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console

from rms.aws import SessionFactory
from rms.errors import ConfigError, InvalidInputError
from rms.logs import configure_logging

if TYPE_CHECKING:
    from rms.settings import Settings

__all__ = [
    "PIPE_WIDTH",
    "Hooks",
    "command_group",
    "command_settings",
    "hooks_of",
    "stderr_console",
    "stdout_console",
]

#: Width of rich output that goes to a file or a pipe: wide enough that no table or line of
#: ours is ever wrapped (text is printed with soft wrapping off in any case).
PIPE_WIDTH = 1000

#: Click's help layout: option column up to 30 characters, the rest for the help text.
_CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def command_group(help_text: str, **options: Any) -> typer.Typer:
    """A Typer command group with the package's help layout and no error handling of its own."""
    return typer.Typer(
        help=help_text,
        no_args_is_help=True,
        rich_markup_mode=None,
        pretty_exceptions_enable=False,
        add_completion=False,
        context_settings=dict(_CONTEXT),
        **options,
    )


def _console(stderr: bool) -> Console:
    probe = Console(stderr=stderr)
    if probe.is_terminal:
        return Console(stderr=stderr, highlight=False, emoji=False)
    return Console(stderr=stderr, width=PIPE_WIDTH, soft_wrap=True, highlight=False, emoji=False)


def stdout_console() -> Console:
    """A console on stdout: the terminal's width, or no wrapping when piped."""
    return _console(stderr=False)


def stderr_console() -> Console:
    """A console on stderr (progress, warnings): the terminal's width, or no wrapping."""
    return _console(stderr=True)


@dataclass(frozen=True)
class Hooks:
    """What a caller of :func:`rms.cli.main` injects into the commands (tests, embedding).

    Product code never reads a test switch from the environment; a test passes what it
    needs here.
    """

    #: Called with the name of every point a migration or an export passes (``backup-done``,
    #: ``rows:trades``, ``before-commit``, ``before-rename``...), before it goes on.
    migration_events: Callable[[str], None] | None = None
    #: Makes the boto3 sessions of every AWS call (tests bind it to moto).
    session_factory: SessionFactory | None = None


def hooks_of(ctx: typer.Context) -> Hooks:
    """The :class:`Hooks` :func:`rms.cli.main` was given (defaults when run another way)."""
    found = ctx.find_object(Hooks)
    return found if found is not None else Hooks()


def command_settings(
    ctx: typer.Context, url: str | None = None, *, flag: str = "--url"
) -> Settings:
    """The settings for a command (``url``, from ``flag``, wins), logging set to their level.

    Imported here, not at the top: commands that need no settings (``rms cost estimate``)
    then start without loading pydantic-settings and SQLAlchemy.
    """
    from rms.settings import load_settings

    overrides = {"database_url": url} if url else {}
    try:
        settings = load_settings(session_factory=hooks_of(ctx).session_factory, **overrides)
    except ConfigError as exc:
        if url and exc.field == "DATABASE_URL":  # the user typed the flag, not DATABASE_URL
            raise InvalidInputError(exc.message.replace("DATABASE_URL", flag), field=flag) from None
        raise
    configure_logging(settings.log_level)
    return settings
