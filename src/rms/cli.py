"""The ``rms`` command line: thin commands over plain functions, and its one error boundary.

:func:`main` is the only place where an error becomes output. Whatever goes wrong, in any
sub-command, the user gets **one line** on stderr and an exit status:

- a usage error (unknown command or option, missing or invalid value) names the command,
  the flag as typed and what to do: ``error: No such option: --prot (did you mean
  --port?); see 'rms serve --help'``, status 2;
- an error of the package (:class:`rms.errors.RmsError`, database driver errors translated
  by :mod:`rms.db.errors`, a file that cannot be read or written) is ``error: <message>``,
  status 2; the items an error introduces (``RmsError.lines``: the problems of a source
  file, the differences a verification found) follow it, indented, one a line;
- Ctrl-C is ``interrupted``, status 130;
- anything else is a bug: one line saying so, status 1, and the traceback in the log at
  DEBUG (``LOG_LEVEL=DEBUG``).

Every line passes through the secret registry, so no password reaches the terminal. The
usage errors are the ones of the copy of Click that Typer 0.29 carries (``typer._click``),
which is why a handler for the separately installed ``click`` never matched them; they are
imported from there, in this one module.
"""

from __future__ import annotations

import difflib
import gc
import logging
import os
import sys
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
from typer._click import core as click_core
from typer._click import exceptions as click_errors

from rms.clikit import (
    Hooks,
    LazyCommand,
    command_group,
    command_settings,
    hooks_of,
    stdout_console,
)
from rms.errors import InvalidInputError, RmsError
from rms.logs import configure_logging, end_status_line, stderr_logging
from rms.migrate.cli import LAZY_COMMANDS as MIGRATE_COMMANDS
from rms.secrets import default_secret_registry

if TYPE_CHECKING:  # `rms --help` imports no pydantic, SQLAlchemy or psycopg: see _driver_error
    from rms.settings import Settings

__all__ = ["app", "main", "run"]

log = logging.getLogger("rms.cli")

#: Exit statuses: usage and runtime errors, a bug, Ctrl-C.
EXIT_ERROR, EXIT_BUG, EXIT_INTERRUPTED = 2, 1, 130

# The command modules other than this one are imported only when their command (or its
# --help) runs: `rms db migrate` does not pay for `rms cost`'s pricing tables, `rms db
# export`'s progress bars or `rms dev`'s emulator. The groups list them all the same.
app = command_group(
    "RMS portfolio service and its database tools.",
    name="rms",
    lazy=[
        LazyCommand("cost", "rms.cost.cli", "app", short_help="What each database option costs."),
        LazyCommand(
            "dev", "rms.devtools.cli", "app", help="Developer tools: the Aurora pause emulator."
        ),
        LazyCommand("config", "rms.config_cli", "app", help="Show the effective configuration."),
    ],
)
db_app = command_group(
    "Schema, seeding and data migration.",
    lazy=[
        *MIGRATE_COMMANDS,
        LazyCommand(
            "export",
            "rms.export.cli",
            "export_cmd",
            short_help="Copy the PostgreSQL database into a new SQLite file.",
        ),
        LazyCommand(
            "bootstrap-roles",
            "rms.roles_cli",
            "bootstrap_roles_cmd",
            short_help="Create the owner and application roles (once, as master).",
        ),
    ],
    lazy_first=True,
)
app.add_typer(db_app, name="db")

UrlOption = Annotated[
    str | None,
    typer.Option(
        "--url",
        metavar="URL",
        help="Database URL (default: DATABASE_URL, the DB_* variables, or the embedded SQLite "
        "database in the state directory).",
    ),
]


def _describe(settings: Settings) -> str:
    from rms.settings.urls import display_url

    return display_url(settings.effective_database_url())


@app.command()
def serve(
    ctx: typer.Context,
    host: Annotated[str, typer.Option(metavar="HOST", help="Interface to listen on.")] = (
        "127.0.0.1"
    ),
    port: Annotated[
        int, typer.Option(min=1, max=65535, metavar="PORT", help="TCP port (1-65535).")
    ] = 8000,
) -> None:
    """Serve the HTTP API (docs at /docs)."""
    import uvicorn

    from rms.app import create_app
    from rms.auth import Authenticator
    from rms.auth.serving import mask_access_log, proxy_options, sign_in_lines
    from rms.db import build_database
    from rms.db.engine import is_sqlite
    from rms.db.health import check_schema
    from rms.http.serving import uvicorn_limits

    if not host.strip():
        # uvicorn binds "" to every interface; an unset variable must not do that silently.
        raise InvalidInputError(
            "--host is empty: name the interface to listen on (e.g. 127.0.0.1)",
            field="--host",
        )
    settings = command_settings(ctx)
    configure_logging(settings.log_level, timestamps=True)
    auth = Authenticator(settings, bind_host=host)  # refuses RMS_AUTH=off off loopback
    db = build_database(settings, session_factory=hooks_of(ctx).session_factory, serving=True)
    if is_sqlite(db.engine):
        # A local file: cheap to look at. A configured path that is not there is refused
        # here, in one line; a schema behind the head keeps /health/ready at 503. (A
        # PostgreSQL database is not woken at start: its schema is read by /health.)
        try:
            check_schema(db)
        except BaseException:
            db.dispose()
            raise
    out = stdout_console()
    out.print(
        f"RMS on http://{host}:{port} (docs at /docs), database: {_describe(settings)}",
        markup=False,
    )
    for line in sign_in_lines(settings, auth, host, port):
        out.print(line, markup=False, soft_wrap=True)
    mask_access_log()
    application = create_app(settings, db=db, bind_host=host, authenticator=auth)
    try:
        uvicorn.run(
            application,
            host=host,
            port=port,
            log_level=settings.log_level.lower(),
            **proxy_options(settings),
            **uvicorn_limits(settings),
        )
    finally:
        db.dispose()


@db_app.command("upgrade")
def db_upgrade(
    ctx: typer.Context,
    url: UrlOption = None,
    create: Annotated[
        bool,
        typer.Option(
            "--create",
            help="Make the SQLite file (and its directories) if it does not exist; without "
            "it only the embedded database is made, and a missing file is refused.",
        ),
    ] = False,
) -> None:
    """Bring the database schema to the newest revision."""
    from rms.db import build_database
    from rms.db.deadline import command_budget
    from rms.schema.migrations import upgrade

    settings = command_settings(ctx, url)
    db = build_database(
        settings, session_factory=hooks_of(ctx).session_factory, create=create or None
    )
    try:
        with command_budget(settings):
            revision = upgrade(db.engine)
    finally:
        db.dispose()
    stdout_console().print(f"schema at revision {revision} ({_describe(settings)})", markup=False)


def _remove_demo(ctx: typer.Context, url: str | None, *, keep_used: bool) -> None:
    """``rms db seed --remove-demo``: exactly the demo rows, one transaction."""
    from rms.db import build_database
    from rms.db.deadline import command_budget
    from rms.seed import DemoInUseError
    from rms.seed import remove_demo as remove

    settings = command_settings(ctx, url)
    db = build_database(settings, session_factory=hooks_of(ctx).session_factory)
    try:
        with command_budget(settings):
            plan, deleted = db.run(lambda s: remove(s, keep_used=keep_used), write=True)
    except DemoInUseError as exc:
        exc.message = (
            "demo portfolio not removed: some of your own rows use its accounts or symbols; "
            "move or delete them first, or pass --keep-used to keep those demo accounts and "
            "symbols"
        )
        raise
    finally:
        db.dispose()
    out = stdout_console()
    if not sum(deleted.values()):
        out.print(f"no demo portfolio to remove in {_describe(settings)}", markup=False)
        return
    summary = ", ".join(f"{table} {count}" for table, count in deleted.items())
    out.print(f"removed the demo portfolio: {summary}", markup=False)
    if keep_used and plan.dependents:
        kept = sum(len(ids) for ids in plan.used.values())
        out.print(f"kept {kept} demo accounts and symbols that your own rows use", markup=False)


@db_app.command("seed", short_help="Insert reference data (and, if asked, demo data).")
def db_seed(
    ctx: typer.Context,
    url: UrlOption = None,
    demo: Annotated[
        bool,
        typer.Option(
            "--demo",
            help="Also add the demo portfolio (invented accounts, trades and deposits). "
            "Only into the embedded database, unless --allow-non-embedded.",
        ),
    ] = False,
    demo_if_embedded: Annotated[
        bool,
        typer.Option(
            "--demo-if-embedded",
            help="Add the demo portfolio if the database is the embedded one; otherwise "
            "only the reference data (what `make run` uses).",
        ),
    ] = False,
    allow_non_embedded: Annotated[
        bool,
        typer.Option(
            "--allow-non-embedded",
            help="With --demo: add the demo portfolio to a configured database too.",
        ),
    ] = False,
    remove_demo: Annotated[
        bool,
        typer.Option(
            "--remove-demo",
            help="Remove the demo portfolio instead (its accounts, symbols, trades, dividends "
            "and deposits; your own rows and the reference data stay), in one transaction.",
        ),
    ] = False,
    keep_used: Annotated[
        bool,
        typer.Option(
            "--keep-used",
            help="With --remove-demo: keep the demo accounts and symbols your own rows use "
            "(otherwise the removal is refused).",
        ),
    ] = False,
    first_year: Annotated[
        int, typer.Option(min=1900, max=2200, metavar="YEAR", help="First year of holidays.")
    ] = 2015,
    last_year: Annotated[
        int,
        typer.Option(
            min=1900,
            max=2200,
            metavar="YEAR",
            help="Last year of holidays [default: two years from now].",
            show_default=False,
        ),
    ] = datetime.now(UTC).year + 2,
) -> None:
    """Insert reference data (risk groups, deposit types, holidays); idempotent."""
    from rms.db import build_database
    from rms.db.deadline import command_budget
    from rms.seed import seed_demo, seed_reference

    if first_year > last_year:
        raise InvalidInputError(
            f"--first-year {first_year} is after --last-year {last_year}", field="--first-year"
        )
    if demo and demo_if_embedded:
        raise InvalidInputError(
            "--demo and --demo-if-embedded cannot be combined: use one", field="--demo"
        )
    if allow_non_embedded and not demo:
        raise InvalidInputError("--allow-non-embedded only goes with --demo", field="--demo")
    if keep_used and not remove_demo:
        raise InvalidInputError("--keep-used only goes with --remove-demo", field="--keep-used")
    if remove_demo and (demo or demo_if_embedded):
        raise InvalidInputError(
            "--remove-demo cannot be combined with --demo or --demo-if-embedded: use one",
            field="--remove-demo",
        )
    if remove_demo:
        _remove_demo(ctx, url, keep_used=keep_used)
        return
    settings = command_settings(ctx, url)
    out = stdout_console()
    add_demo = demo or (demo_if_embedded and settings.is_embedded)
    if demo and not settings.is_embedded and not allow_non_embedded:
        raise InvalidInputError(
            f"refusing to add the demo portfolio to {_describe(settings)} "
            f"({_configured_by(settings)}): invented rows belong only in the embedded "
            "database; pass --allow-non-embedded to add them anyway",
            field="--demo",
        )
    db = build_database(settings, session_factory=hooks_of(ctx).session_factory)
    try:
        with command_budget(settings):
            result = db.run(
                lambda s: seed_reference(s, range(first_year, last_year + 1)), write=True
            )
            if add_demo:
                result.inserted.update(db.run(seed_demo, write=True).inserted)
    finally:
        db.dispose()
    summary = ", ".join(f"{table} {count}" for table, count in result.inserted.items())
    out.print(
        f"seeded: {summary} rows inserted" if result.total else "seed: nothing to insert",
        markup=False,
    )
    if demo_if_embedded and not add_demo:
        out.print(
            f"demo portfolio not added: {_describe(settings)} is a configured database "
            f"({_configured_by(settings)}), not the embedded one",
            markup=False,
        )


def _configured_by(settings: Settings) -> str:
    if settings.database_url:
        origin = settings.origin("database_url")
        return "--url" if origin == "override" else f"DATABASE_URL from {origin}"
    return "the DB_* variables"


@db_app.command("health", short_help="Connect, SELECT 1 and report timings.")
def db_health(ctx: typer.Context, url: UrlOption = None) -> None:
    """Deep health check: connect (waking a paused database), SELECT 1, report timings."""
    import json

    from rms.db import build_database
    from rms.db.deadline import command_budget
    from rms.db.health import deep_check

    settings = command_settings(ctx, url)
    db = build_database(settings, session_factory=hooks_of(ctx).session_factory)
    try:
        with command_budget(settings):
            report = deep_check(db)
    finally:
        db.dispose()
    stdout_console().print_json(json.dumps(report))
    if report["status"] != "ok":
        raise RmsError(
            f"schema is at {report['database']['schema_revision']}, "
            f"head is {report['database']['schema_head']}: run `rms db upgrade`"
        )


@app.command()
def version() -> None:
    """Print the version."""
    from rms import __version__

    stdout_console().print(__version__, markup=False)


# -- the error boundary ------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None, *, hooks: Hooks | None = None) -> int:
    """Run one ``rms`` command; return its exit status. The one CLI error boundary.

    ``hooks`` are injected into the commands (see :class:`rms.clikit.Hooks`).
    """
    args = list(sys.argv[1:] if argv is None else argv)
    with stderr_logging():
        try:
            result = app(args=args, prog_name="rms", standalone_mode=False, obj=hooks or Hooks())
        except click_errors.NoArgsIsHelpError as exc:
            stdout_console().print(exc.format_message(), markup=False, soft_wrap=True)
            return EXIT_ERROR
        except click_errors.UsageError as exc:
            return _fail(usage_message(exc, args), EXIT_ERROR)
        except click_errors.ClickException as exc:  # e.g. a file Click could not open
            return _fail(exc.format_message(), EXIT_ERROR)
        except RmsError as exc:
            return _fail(exc.message, EXIT_ERROR, lines=exc.lines)
        except (KeyboardInterrupt, typer.Abort):
            return _fail("interrupted", EXIT_INTERRUPTED, prefix="")
        except BrokenPipeError:
            # The reader went away (``rms ... | head``): nothing left to tell it.
            _silence_stdout()
            return EXIT_BUG
        except OSError as exc:
            return _fail(_os_message(exc), EXIT_ERROR)
        except Exception as exc:  # a driver error, or a bug: one line, the traceback to the log
            translated = _driver_error(exc)
            if translated is not None:
                return _fail(translated.message, EXIT_ERROR)
            log.debug("unexpected error", exc_info=exc)
            return _fail(
                f"unexpected {type(exc).__name__}: {exc} (a bug in rms; LOG_LEVEL=DEBUG "
                "shows the traceback)",
                EXIT_BUG,
            )
    code = result if isinstance(result, int) else 0
    if code == EXIT_INTERRUPTED:  # Typer turns Ctrl-C inside a command into Exit(130)
        _fail("interrupted", EXIT_INTERRUPTED, prefix="")
    return code


def _driver_error(exc: Exception) -> RmsError | None:
    """A database driver's error as ours, or None when ``exc`` is not one.

    Checked here, after the other handlers, instead of in an ``except DRIVER_ERRORS``
    clause, so that :mod:`rms.db.errors` (SQLAlchemy, psycopg, the models) is imported
    only when a command failed: a driver error can only exist once its driver is loaded.
    No driver error is an ``OSError``, ``RmsError`` or Click exception, so the order of
    the handlers above does not change which one a driver error reaches.
    """
    if "sqlalchemy" not in sys.modules and "psycopg" not in sys.modules:
        return None
    from rms.db.errors import DRIVER_ERRORS, translate_db_error

    return translate_db_error(exc) if isinstance(exc, DRIVER_ERRORS) else None


def _fail(message: str, code: int, *, prefix: str = "error: ", lines: Sequence[str] = ()) -> int:
    """Write ``message`` as one line on stderr, then each of ``lines`` indented on its own
    line (the items the message introduces), secrets masked; return ``code``."""
    end_status_line()
    parts = [line.strip() for line in str(message).splitlines() if line.strip()]
    redact = default_secret_registry().redact
    out = [f"{prefix}{redact('; '.join(parts) or 'failed')}"]
    out += [f"  {redact(' '.join(line.split()))}" for line in lines if line.strip()]
    sys.stderr.write("\n".join(out) + "\n")
    sys.stderr.flush()
    return code


def usage_message(exc: click_errors.UsageError, args: Sequence[str] = ()) -> str:
    """A usage error as one sentence: what is wrong, as typed, and where to read more."""
    ctx = exc.ctx
    where = ctx.command_path if ctx is not None else _command_path(args)
    if isinstance(exc, click_errors.NoSuchOption):
        known = exc.possibilities or (_option_names(ctx) if ctx is not None else [])
        message = f"No such option: {exc.option_name}" + _did_you_mean(exc.option_name, known)
    elif isinstance(exc, click_errors.MissingParameter):
        message = exc.format_message().rstrip(".")
        help_text = getattr(exc.param, "help", None)
        if help_text:
            message += f" ({help_text.rstrip('.')})"
    elif exc.message.startswith("No such command") and ctx is not None:
        name = exc.message.split("'")[1] if "'" in exc.message else ""
        commands = _command_names(ctx)
        message = f"No such command '{name}'" + (
            _did_you_mean(name, commands, quote=True) or f" (commands: {', '.join(commands)})"
        )
    else:
        message = exc.format_message().replace("Value error, ", "").rstrip(".")
    return f"{message}; see '{where} --help'"


def _did_you_mean(given: str, known: Sequence[str], *, quote: bool = False) -> str:
    close = difflib.get_close_matches(given, list(known), n=1, cutoff=0.6)
    if not close:
        return ""
    return f" (did you mean '{close[0]}'?)" if quote else f" (did you mean {close[0]}?)"


def _command_path(args: Sequence[str]) -> str:
    """``rms db seed`` for ``db seed --demo=3``: the commands named before the first option.

    Click's parser raises some usage errors before it has a context to name the command.
    """
    command: object = typer.main.get_command(app)
    path = ["rms"]
    for arg in args:
        group = getattr(command, "commands", None)
        if arg.startswith("-") or not isinstance(group, Mapping) or arg not in group:
            break
        command = group[arg]
        path.append(arg)
    return " ".join(path)


def _option_names(ctx: click_core.Context) -> list[str]:
    return [name for param in ctx.command.params for name in getattr(param, "opts", [])]


def _command_names(ctx: click_core.Context) -> list[str]:
    list_commands = getattr(ctx.command, "list_commands", None)
    return list(list_commands(ctx)) if callable(list_commands) else []


def _os_message(exc: OSError) -> str:
    reason = exc.strerror or str(exc) or type(exc).__name__
    return f"{reason}: {exc.filename}" if exc.filename else reason


def _silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush does not fail again."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def exit_process(code: int) -> NoReturn:  # pragma: no cover - the process ends here
    """End the process with ``code``, without the interpreter's last collections walking
    every object it still holds (``gc.freeze``): the process is ending and the OS frees it
    all. Exit handlers, flushes and closes run as usual. About 0.1 s of CPU after a migrate
    of the owner's file (docs/benchmarks.md, issue 31, step 7)."""
    gc.freeze()
    sys.exit(code)


def run() -> None:  # pragma: no cover - console-script shim
    exit_process(main())


if __name__ == "__main__":  # pragma: no cover
    exit_process(main())
