"""``rms config``: show the effective settings and where each value came from.

Operators debugging a deployment need to see *which* of env, ``.env``, the
``SSM_PARAMETER_PATH`` parameters (``ssm:/rms/prod/DB_HOST``), Secrets Manager, SSM or IAM
won, without ever seeing a secret: every secret (and every SecureString parameter) is
printed as ``********`` and the whole output passes through :func:`rms.secrets.redact`
once more before it is written. Nothing is fetched from AWS unless ``SSM_PARAMETER_PATH``
is set (then its parameters are read once, as at start-up); ``--resolve`` also reads the
password's secret or parameter to show the host, user and database it supplies.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

import typer

from rms.clikit import command_group, command_settings, hooks_of, stdout_console
from rms.secrets import MASK, default_secret_registry, redact

if TYPE_CHECKING:  # imported where used: `rms --help` needs neither pydantic nor SQLAlchemy
    from rms.aws import SessionFactory
    from rms.settings import Settings

__all__ = ["SettingRow", "app", "settings_rows", "show"]

app = command_group("Inspect the effective configuration.")


@app.callback()
def _group() -> None:
    """Inspect the effective configuration."""


class OutputFormat(StrEnum):
    table = "table"
    json = "json"


@dataclass(frozen=True)
class SettingRow:
    """One effective setting: its variable name, shown value and where it came from."""

    name: str
    value: str
    source: str


def _source_label(settings: Settings) -> str | None:
    """The label of the secret store in use (``secretsmanager:ARN``, ``ssm:/name``, iam)."""
    source = settings.password_source
    if source == "DB_SECRET_ARN":
        return f"secretsmanager:{settings.db_secret_arn}"
    if source == "DB_SSM_PARAMETER":
        return f"ssm:{settings.ssm_parameter_name()}"
    if source == "DB_IAM_AUTH":
        return "iam"
    return None


def settings_rows(
    settings: Settings, *, resolve: bool = False, session_factory: SessionFactory | None = None
) -> list[SettingRow]:
    """Every setting with its display value and origin; secrets masked.

    With ``resolve`` the secret store is read (through the same credential source the
    engine uses) so values it supplies are shown and attributed to it.
    """
    from pydantic import SecretStr

    from rms.settings import env_name, is_local_host

    label = _source_label(settings)
    resolved: dict[str, Any] = {}
    provided: frozenset[str] = frozenset()
    if resolve and label and not settings.db_iam_auth:
        from rms.db.credentials import credentials_from_settings

        credentials = credentials_from_settings(settings, session_factory=session_factory)
        if credentials is not None:
            resolved = credentials.connect_params()
            secret = getattr(credentials, "secret", None)
            if callable(secret):
                provided = secret().provided

    rows: list[SettingRow] = []
    for name, info in type(settings).model_fields.items():
        value = getattr(settings, name)
        origin = settings.origin(name)
        var = env_name(name)
        if isinstance(value, SecretStr) or settings.is_secret(name):
            shown = MASK
        elif value is None:
            shown = ""
        elif isinstance(value, bool):
            shown = str(value).lower()
        else:
            shown = str(value)
        if name == "database_url" and value:
            shown = redact(str(value))
        rows.append(SettingRow(var, shown, origin))
        del info

    if settings.uses_components and label:
        rows = [_component_row(r, settings, label, resolved, provided) for r in rows]
    by_name = {r.name: i for i, r in enumerate(rows)}
    # Derived values: the effective sslmode and the URL the engine is built with.
    if settings.is_postgres():
        host = resolved.get("host") or settings.db_host or _url_host(settings)
        i = by_name["DB_SSLMODE"]
        if settings.db_sslmode is None:
            where = "local host" if host is None or is_local_host(host) else "non-local host"
            rows[i] = SettingRow("DB_SSLMODE", settings.sslmode_for(host), f"default ({where})")
    rows.append(SettingRow("(database)", redact(settings.effective_database_url()), "derived"))
    return rows


def _component_row(
    row: SettingRow,
    settings: Settings,
    label: str,
    resolved: dict[str, Any],
    provided: frozenset[str],
) -> SettingRow:
    """Attribute DB_* values to the secret store when it supplies them."""
    from rms.settings import DEFAULT_PG_PORT

    keys = {"DB_HOST": "host", "DB_PORT": "port", "DB_NAME": "dbname", "DB_USER": "user"}
    if row.name == "DB_PASSWORD":
        return SettingRow(row.name, MASK, label)
    key = keys.get(row.name)
    if key is None or settings.db_iam_auth:
        return row
    from_secret = key in provided and (key == "user" or row.source == "default")
    if from_secret:
        return SettingRow(row.name, str(resolved.get(key, "")), label)
    if row.source == "default" and not resolved:
        # Not read (no --resolve): the secret may supply it.
        return SettingRow(row.name, "(from the secret, if it has one)", label)
    if row.source == "default" and key == "port":
        return SettingRow(row.name, str(DEFAULT_PG_PORT), "default")
    return row


def _url_host(settings: Settings) -> str | None:
    from sqlalchemy.engine import make_url

    return make_url(settings.effective_database_url()).host


def render_json(rows: list[SettingRow]) -> str:
    return json.dumps(
        {r.name: {k: v for k, v in asdict(r).items() if k != "name"} for r in rows}, indent=2
    )


@app.command()
def show(
    ctx: typer.Context,
    output: Annotated[
        OutputFormat, typer.Option("--format", help="table (for people) or json (for tools).")
    ] = OutputFormat.table,
    resolve: Annotated[
        bool,
        typer.Option(
            "--resolve/--no-resolve",
            help="Read the secret or parameter from AWS to show what it supplies.",
        ),
    ] = False,
) -> None:
    """Print every effective setting, its value (secrets as ********) and its source."""
    from rich.table import Table
    from rich.text import Text

    settings = command_settings(ctx)
    rows = settings_rows(settings, resolve=resolve, session_factory=hooks_of(ctx).session_factory)
    registry = default_secret_registry()
    console = stdout_console()
    if output is OutputFormat.json:
        typer.echo(registry.redact(render_json(rows)))
        return
    table = Table(title="RMS configuration", show_lines=False)
    for column in ("variable", "value", "source"):
        table.add_column(column, overflow="fold")
    for row in rows:
        cells = (registry.redact(row.name), registry.redact(row.value), row.source)
        table.add_row(*(Text(cell) for cell in cells))
    console.print(table, markup=False)
