""":func:`load_settings`: the one way settings are built, with errors that name the variable.

Settings are read when :func:`load_settings` is called (never at import time) and passed
explicitly to whatever needs them: the app factory, the database builder, the CLI commands.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource

from rms.aws import SessionFactory
from rms.errors import ConfigError
from rms.secrets import default_secret_registry
from rms.settings.model import Settings, env_name, env_names
from rms.settings.sources import ssm_values
from rms.settings.ssm_path import SsmRead, read_ssm_path
from rms.settings.urls import url_password

__all__ = ["load_settings", "settings_from"]


def load_settings(*, session_factory: SessionFactory | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment, ``.env`` and ``SSM_PARAMETER_PATH``; overrides win.

    Priority, highest first: keyword ``overrides``, environment, ``.env``, the parameters
    under ``SSM_PARAMETER_PATH`` (read here, once, only when it is set; ``session_factory``
    makes the boto3 session, tests pass one bound to moto), defaults.

    Invalid values raise :class:`ConfigError` naming each variable and why; conflicting or
    incomplete database variables raise it naming the variables that clash or are missing;
    an unreadable ``SSM_PARAMETER_PATH`` raises it naming the path and the reason.
    """
    by_variable = {var: name for name in Settings.model_fields for var in env_names(name)}
    ssm = read_ssm_path(overrides, by_variable, session_factory)
    origins = _origins(overrides, ssm)
    try:
        with ssm_values(ssm.values):
            settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_loc_name(err['loc'], origins)}: {_reason(err['msg'])}"
            for err in exc.errors(include_input=False)
        )
        # ``from None``: the ValidationError's own text would repeat the input values.
        raise ConfigError(f"invalid configuration: {problems}") from None
    except ConfigError as exc:
        raise _with_ssm_origins(exc, origins) from None
    settings.effective_database_url()  # validates the URL scheme early
    settings._origins = origins
    settings._secure_fields = frozenset(ssm.secure)
    if settings.db_password is not None:
        default_secret_registry().add(settings.db_password.get_secret_value())
    if settings.database_url:
        default_secret_registry().add(url_password(settings.database_url))
    for secret in (settings.rms_api_token, settings.rms_session_key):
        if secret is not None:
            default_secret_registry().add(secret.get_secret_value())
    return settings


def settings_from(**values: Any) -> Settings:
    """Settings of these values and the defaults alone: nothing is read from the environment,
    ``.env`` or SSM. For a library caller that names what it wants (a database URL) and has
    no settings of its own; :func:`load_settings` is what an entry point reads."""
    try:
        settings = _ExplicitSettings(**values)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in err['loc'])}: {_reason(err['msg'])}"
            for err in exc.errors(include_input=False)
        )
        raise ConfigError(f"invalid configuration: {problems}") from None
    settings.effective_database_url()
    if settings.database_url:
        default_secret_registry().add(url_password(settings.database_url))
    return settings


class _ExplicitSettings(Settings):
    """:class:`Settings` read from the values given only (see :func:`settings_from`)."""

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        return (init_settings,)


def _reason(message: str) -> str:
    """pydantic's message without its ``Value error, `` prefix (our validators' own words)."""
    return message.removeprefix("Value error, ")


def _with_ssm_origins(exc: ConfigError, origins: Mapping[str, str]) -> ConfigError:
    """``exc`` with the SSM parameter named for each of its variables that came from one."""
    variables = exc.details.get("variables") or ([exc.field] if exc.field else [])
    from_ssm = [
        f"{variable} from {origins[variable.lower()]}"
        for variable in variables
        if origins.get(str(variable).lower(), "").startswith("ssm:")
    ]
    if not from_ssm:
        return exc
    return ConfigError(f"{exc.message} ({'; '.join(from_ssm)})", field=exc.field, **exc.details)


def _loc_name(loc: tuple[int | str, ...], origins: Mapping[str, str] | None = None) -> str:
    """The variable a validation error is about (pydantic names the field or its alias)."""
    fields = {alias: name for name in Settings.model_fields for alias in env_names(name)}

    def variable(part: str) -> str:
        name = fields.get(part.upper(), part)
        return env_name(name) if name in Settings.model_fields else part.upper()

    name = ".".join(variable(p) if isinstance(p, str) else str(p) for p in loc)
    field = fields.get(str(loc[0]).upper(), str(loc[0])) if loc else ""
    origin = (origins or {}).get(field, "")
    return f"{name} (from {origin})" if origin.startswith("ssm:") else name


def _origins(overrides: Mapping[str, Any], ssm: SsmRead) -> dict[str, str]:
    """Where each explicitly set field came from, in pydantic-settings' own priority."""
    env = {k.upper(): v for k, v in os.environ.items() if v != ""}
    dotenv = _dotenv_values()
    found: dict[str, str] = {}
    for name in Settings.model_fields:
        if name in overrides and overrides[name] is not None:
            found[name] = "override"
        elif any(var in env for var in env_names(name)):
            found[name] = "env"
        elif any(var in dotenv for var in env_names(name)):
            found[name] = ".env"
        elif name in ssm.names:
            found[name] = f"ssm:{ssm.names[name]}"
    return found


def _dotenv_values() -> dict[str, str]:
    env_file = Settings.model_config.get("env_file")
    if not (isinstance(env_file, str | Path) and Path(env_file).is_file()):
        return {}
    from dotenv import dotenv_values

    return {k.upper(): v for k, v in dotenv_values(env_file).items() if v}
