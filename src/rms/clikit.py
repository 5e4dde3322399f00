"""What every ``rms`` command group is built from: the same Typer settings, the same output.

- :func:`command_group` makes a Typer app whose help is Click's plain layout (two columns
  that never cut an option name, flags without a ``<bool>`` metavar, readable at 80
  columns) and that leaves errors to the one boundary, :func:`rms.cli.main`.
- :func:`stdout_console` and :func:`stderr_console` make rich consoles per command (never
  at import): on a terminal they use its width; piped to a file or a program they do not
  wrap at all, so every line arrives whole.
- :func:`command_settings` reads the settings for a command (``--url`` wins, and errors
  about it name ``--url``, not ``DATABASE_URL``) and sets the log level from them.
- :class:`LazyCommand` names a command (or a command group) by the module that defines it:
  a group made with ``lazy=`` lists it, with its one-line help, without importing that
  module, which is imported only when the command (or its ``--help``) runs.
- :class:`Hooks` is what a caller may inject into a command instead of environment
  variables read by product code: :func:`rms.cli.main` takes one (tests pass an observer of
  the migration's named points, or an AWS session factory bound to moto) and commands read
  it with :func:`hooks_of`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, MutableMapping, Sequence
from dataclasses import dataclass
from gettext import gettext
from importlib import import_module
from typing import TYPE_CHECKING, Any

import typer
from rich.console import Console
from typer._click import core as click_core
from typer._click import formatting as click_formatting
from typer.core import TyperCommand, TyperGroup
from typer.models import Default

from rms.aws import SessionFactory
from rms.errors import ConfigError, InvalidInputError
from rms.logs import configure_logging

if TYPE_CHECKING:
    from rms.settings import Settings

__all__ = [
    "PIPE_WIDTH",
    "Hooks",
    "LazyCommand",
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


@dataclass(frozen=True)
class LazyCommand:
    """A command of a group, defined in ``module``, imported when it is first looked up.

    ``attribute`` is a Typer app, added as the sub-group ``name`` (with ``help`` and
    ``short_help`` as :meth:`typer.Typer.add_typer` takes them), or the command's function
    (registered with them as :meth:`typer.Typer.command` takes them).
    ``help`` and ``short_help`` are also what the group's help lists for it before it is
    loaded, so they must be the command's own (tests/test_startup.py compares them).
    """

    name: str
    module: str
    attribute: str
    help: str | None = None
    short_help: str | None = None

    def load(self) -> click_core.Command:
        """The command, as the group would have built it had it been registered eagerly."""
        found = getattr(import_module(self.module), self.attribute)
        holder = command_group("")  # the settings its commands inherit from their group
        if isinstance(found, typer.Typer):
            # Texts not given stay add_typer's defaults: an explicit None would hide the
            # app's own help.
            holder.add_typer(
                found,
                name=self.name,
                help=Default(None) if self.help is None else self.help,
                short_help=Default(None) if self.short_help is None else self.short_help,
            )
        else:
            holder.command(self.name, help=self.help, short_help=self.short_help)(found)
        return typer.main.get_group(holder).commands[self.name]

    def listed(self) -> click_core.Command:
        """A stand-in with the same name and help, for the group's list of commands."""
        return TyperCommand(self.name, help=self.help, short_help=self.short_help)


class _Commands(MutableMapping[str, click_core.Command]):
    """A group's commands, the lazy ones imported on first lookup; in the group's order."""

    def __init__(
        self, eager: Mapping[str, click_core.Command], lazy: Sequence[LazyCommand], first: bool
    ) -> None:
        self._loaded = dict(eager)
        self._lazy = {spec.name: spec for spec in lazy}
        names = [spec.name for spec in lazy]
        self._order = names + list(eager) if first else list(eager) + names

    def is_loaded(self, name: str) -> bool:
        return name in self._loaded

    def spec(self, name: str) -> LazyCommand | None:
        return self._lazy.get(name)

    def __getitem__(self, name: str) -> click_core.Command:
        if name not in self._loaded:
            if name not in self._lazy:
                raise KeyError(name)
            self._loaded[name] = self._lazy[name].load()
        return self._loaded[name]

    def __setitem__(self, name: str, command: click_core.Command) -> None:
        if name not in self._order:
            self._order.append(name)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._order:
            raise KeyError(name)
        self._order.remove(name)
        self._loaded.pop(name, None)
        self._lazy.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(list(self._order))

    def __len__(self) -> int:
        return len(self._order)

    def __contains__(self, name: object) -> bool:
        return name in self._order


def _lazy_group_class(lazy: Sequence[LazyCommand], *, first: bool) -> type[TyperGroup]:
    """A :class:`TyperGroup` whose ``lazy`` commands load on first lookup (before the
    group's own commands when ``first``, after them otherwise)."""

    class LazyGroup(TyperGroup):
        def __init__(self, **attrs: Any) -> None:
            super().__init__(**attrs)
            self.commands = _Commands(self.commands, lazy, first)

        def list_commands(self, ctx: click_core.Context) -> list[str]:
            return list(self.commands)  # the names only: listing loads nothing

        def format_commands(
            self, ctx: click_core.Context, formatter: click_formatting.HelpFormatter
        ) -> None:
            # Click's own listing, except that a command not loaded yet is listed through
            # its stand-in, which carries the same help: listing imports nothing.
            commands = self.commands
            assert isinstance(commands, _Commands)
            rows: list[tuple[str, click_core.Command]] = []
            for name in self.list_commands(ctx):
                spec = commands.spec(name)
                if spec is not None and not commands.is_loaded(name):
                    cmd: click_core.Command | None = spec.listed()
                else:
                    cmd = self.get_command(ctx, name)
                if cmd is not None and not cmd.hidden:
                    rows.append((name, cmd))
            if rows:
                limit = formatter.width - 6 - max(len(name) for name, _cmd in rows)
                with formatter.section(gettext("Commands")):
                    formatter.write_dl([(n, c.get_short_help_str(limit)) for n, c in rows])

    return LazyGroup


def command_group(
    help_text: str, *, lazy: Sequence[LazyCommand] = (), lazy_first: bool = False, **options: Any
) -> typer.Typer:
    """A Typer command group with the package's help layout and no error handling of its own.

    ``lazy``: commands listed at once but imported only when run or asked for their help
    (see :class:`LazyCommand`), after the group's own commands, or before them if
    ``lazy_first``.
    """
    if lazy:
        options["cls"] = _lazy_group_class(lazy, first=lazy_first)
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
