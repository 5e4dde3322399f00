"""``SSM_PARAMETER_PATH``: settings read once, at start-up, from SSM Parameter Store.

With ``SSM_PARAMETER_PATH`` set (e.g. ``/rms/prod/``, the path ``infra/modules/app-config``
writes), :func:`read_ssm_path` reads every parameter directly under it and maps each base
name (``DB_HOST``) to the setting of that environment variable. The values rank below the
environment and ``.env`` and above the defaults (:class:`rms.settings.sources.SsmPathSource`).
SecureString values are registered as secrets before anything could print them. The AWS
call goes through :mod:`rms.aws`; its failures are :class:`~rms.errors.ConfigError` naming
the path and the reason, so a bad deployment fails at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import AliasChoices, Field, ValidationError
from pydantic_settings import BaseSettings

from rms.aws import SessionFactory, aws_errors, client
from rms.errors import AwsError, ConfigError
from rms.secrets import default_secret_registry
from rms.settings.sources import ENV_CONFIG

__all__ = ["BOOTSTRAP_VARIABLES", "SsmRead", "read_ssm_path"]

log = logging.getLogger("rms.settings")

#: Variables needed to *read* SSM_PARAMETER_PATH, so they cannot come from it.
BOOTSTRAP_VARIABLES = ("SSM_PARAMETER_PATH", "AWS_REGION", "AWS_DEFAULT_REGION")

_PERMISSION = "ssm:GetParametersByPath on the path (and kms:Decrypt for SecureString parameters)"


@dataclass(frozen=True)
class SsmRead:
    """What ``SSM_PARAMETER_PATH`` supplied: field name -> value and -> parameter name."""

    values: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    #: Fields whose parameter is a SecureString (shown masked, like SecretStr fields).
    secure: set[str] = field(default_factory=set)


class _Bootstrap(BaseSettings):
    """The variables needed before SSM can be read, from the same env and ``.env``."""

    model_config = ENV_CONFIG.copy()

    ssm_parameter_path: str | None = None
    aws_region: str | None = Field(
        default=None, validation_alias=AliasChoices("aws_region", "aws_default_region")
    )


def read_ssm_path(
    overrides: Mapping[str, Any],
    fields_by_variable: Mapping[str, str],
    session_factory: SessionFactory | None,
) -> SsmRead:
    """Read ``SSM_PARAMETER_PATH`` when it is set (no AWS call at all when it is not).

    ``fields_by_variable`` maps each environment variable name (upper case) to its field.
    """
    given = {
        key: overrides[key]
        for key in ("ssm_parameter_path", "aws_region", "aws_default_region")
        if overrides.get(key) is not None
    }
    try:
        boot = _Bootstrap(**given)
    except ValidationError:
        raise ConfigError(
            "invalid configuration: SSM_PARAMETER_PATH and AWS_REGION must be text",
            field="SSM_PARAMETER_PATH",
        ) from None
    path = (boot.ssm_parameter_path or "").strip()
    if not path:
        return SsmRead()
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise ConfigError(
            f"SSM_PARAMETER_PATH={path!r} is not a parameter path: it must start with / "
            "(e.g. /rms/prod/)",
            field="SSM_PARAMETER_PATH",
        )
    parameters = _fetch_parameters(path, boot.aws_region, session_factory)
    return _map_parameters(path, parameters, fields_by_variable)


def _fetch_parameters(
    path: str, region: str | None, session_factory: SessionFactory | None
) -> list[tuple[str, str, str]]:
    """(name, type, value) of every parameter directly under ``path``; errors named."""
    registry = default_secret_registry()
    what = f"cannot read the settings under SSM_PARAMETER_PATH={path}"
    found: list[tuple[str, str, str]] = []
    try:
        ssm = client("ssm", region=region, session_factory=session_factory)
        with aws_errors(what, permission=_PERMISSION):
            paginator = ssm.get_paginator("get_parameters_by_path")
            for page in paginator.paginate(Path=path, Recursive=False, WithDecryption=True):
                for parameter in page.get("Parameters", []):
                    name = parameter.get("Name", "")
                    kind = parameter.get("Type", "String")
                    value = parameter.get("Value", "")
                    if kind == "SecureString":
                        registry.add(value)  # before anything could print it
                    found.append((name, kind, value))
    except AwsError as exc:
        more = ["AWS_REGION"] if exc.kind == "no_region" else []
        message = exc.message if exc.message.startswith(what) else f"{what}: {exc.message}"
        raise ConfigError(
            message, field="SSM_PARAMETER_PATH", variables=["SSM_PARAMETER_PATH", *more]
        ) from None
    if not found:
        raise ConfigError(
            f"{what}: no parameters under it in region {ssm.meta.region_name} (check the path, "
            "the region, and that the settings were deployed there)",
            field="SSM_PARAMETER_PATH",
            variables=["SSM_PARAMETER_PATH", "AWS_REGION"],
        )
    return found


def _map_parameters(
    path: str, parameters: list[tuple[str, str, str]], by_variable: Mapping[str, str]
) -> SsmRead:
    """Map parameter base names to fields as environment variables map (case-insensitive)."""
    values: dict[str, str] = {}
    names: dict[str, str] = {}
    secure: set[str] = set()
    unknown: list[str] = []
    bootstrap: list[str] = []
    for full_name, kind, value in sorted(parameters):
        variable = full_name.rsplit("/", 1)[-1].upper()
        field_name = by_variable.get(variable)
        if variable in BOOTSTRAP_VARIABLES:
            bootstrap.append(full_name)
        elif field_name is None:
            unknown.append(full_name)
        elif field_name in names:
            raise ConfigError(
                f"SSM_PARAMETER_PATH={path} has both {names[field_name]} and {full_name} for "
                f"{variable}: keep one",
                field="SSM_PARAMETER_PATH",
                variables=["SSM_PARAMETER_PATH", variable],
            )
        elif value != "":
            values[field_name] = value
            names[field_name] = full_name
            if kind == "SecureString":
                secure.add(field_name)
            elif field_name == "db_password":
                log.warning(
                    "%s is a %s parameter; store passwords as SecureString", full_name, kind
                )
    if unknown:
        log.warning(
            "SSM_PARAMETER_PATH=%s: ignoring %d parameter(s) that name no setting: %s",
            path,
            len(unknown),
            ", ".join(unknown),
        )
    if bootstrap:
        log.warning(
            "SSM_PARAMETER_PATH=%s: ignoring %s: set in the environment, since it is needed to "
            "read the path",
            path,
            ", ".join(bootstrap),
        )
    return SsmRead(values=values, names=names, secure=secure)
