"""The ``rms`` command line: thin commands over plain functions.

Errors of the package (:class:`rms.errors.RmsError`) are printed once, as one line naming
what was wrong, and exit with status 2; no traceback reaches the user.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Annotated

import click
import typer
from rich.console import Console

from rms.config_cli import app as config_app
from rms.cost.cli import app as cost_app
from rms.db.errors import DRIVER_ERRORS, translate_db_error
from rms.devtools.cli import app as dev_app
from rms.errors import RmsError
from rms.migrate.cli import register as register_migrate
from rms.settings import Settings, load_settings

__all__ = ["app", "main", "run"]

app = typer.Typer(
    name="rms",
    help="RMS portfolio service and its database tools.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
db_app = typer.Typer(help="Schema, seeding and data migration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cost_app, name="cost")
app.add_typer(dev_app, name="dev", help="Developer tools: the Aurora pause emulator.")
app.add_typer(config_app, name="config", help="Show the effective configuration.")
register_migrate(db_app)

out = Console()
err = Console(stderr=True, soft_wrap=True)  # one error, one line, whatever the width

UrlOption = Annotated[
    str | None,
    typer.Option("--url", help="Database URL (default: DATABASE_URL or the embedded SQLite)."),
]


def _settings(url: str | None = None) -> Settings:
    return load_settings(database_url=url) if url else load_settings()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
) -> None:
    """Serve the HTTP API (docs at /docs)."""
    import uvicorn

    from rms.api import create_app

    settings = _settings()
    out.print(
        f"RMS on http://{host}:{port} (docs at /docs), database: "
        f"{_describe(settings.effective_database_url())}"
    )
    uvicorn.run(create_app(settings), host=host, port=port, log_level=settings.log_level.lower())


def _describe(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


@db_app.command("upgrade")
def db_upgrade(url: UrlOption = None) -> None:
    """Bring the database schema to the newest revision."""
    from rms.db.engine import create_db_engine
    from rms.schema.migrations import upgrade

    settings = _settings(url)
    engine = create_db_engine(settings)
    try:
        revision = upgrade(engine)
    finally:
        engine.dispose()
    out.print(f"schema at revision {revision} ({_describe(settings.effective_database_url())})")


@db_app.command("seed")
def db_seed(
    url: UrlOption = None,
    demo: Annotated[bool, typer.Option("--demo", help="Also add the demo portfolio.")] = False,
    first_year: Annotated[int, typer.Option(min=1900, max=2200)] = 2015,
    last_year: Annotated[int, typer.Option(min=1900, max=2200)] = datetime.now(UTC).year + 2,
) -> None:
    """Insert reference data (risk groups, deposit types, holidays); idempotent."""
    from rms.db.database import Database
    from rms.db.engine import create_db_engine
    from rms.seed import seed_demo, seed_reference

    if first_year > last_year:
        raise RmsError(
            f"--first-year {first_year} is after --last-year {last_year}", field="--first-year"
        )
    db = Database(create_db_engine(_settings(url)))
    try:
        result = db.run(lambda s: seed_reference(s, range(first_year, last_year + 1)))
        if demo:
            result.inserted.update(db.run(seed_demo).inserted)
    finally:
        db.dispose()
    summary = ", ".join(f"{table} {count}" for table, count in result.inserted.items())
    out.print(f"seeded: {summary} rows inserted" if result.total else "seed: nothing to insert")


@db_app.command("health")
def db_health(url: UrlOption = None) -> None:
    """Deep health check: connect (waking a paused database), SELECT 1, report timings."""
    import json

    from rms.api.app import build_database
    from rms.db.health import deep_check

    db = build_database(_settings(url))
    try:
        report = deep_check(db)
    finally:
        db.dispose()
    out.print_json(json.dumps(report))
    if report["status"] != "ok":
        raise RmsError(
            f"schema is at {report['database']['schema_revision']}, "
            f"head is {report['database']['schema_head']}: run `rms db upgrade`"
        )


@app.command()
def version() -> None:
    """Print the version."""
    from rms import __version__

    out.print(__version__)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``rms`` script; returns the exit status."""
    try:
        result = app(args=list(argv) if argv is not None else None, standalone_mode=False)
    except RmsError as exc:
        err.print(f"error: {exc}", markup=False, highlight=False)
        return 2
    except DRIVER_ERRORS as exc:
        err.print(f"error: {translate_db_error(exc)}", markup=False, highlight=False)
        return 2
    except click.exceptions.ClickException as exc:
        exc.show()
        return exc.exit_code
    except (click.exceptions.Abort, KeyboardInterrupt):
        err.print("interrupted", markup=False)
        return 130
    return result if isinstance(result, int) else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def run() -> None:  # pragma: no cover - console-script shim
    sys.exit(main())
