"""All configuration of the service and the tools, in one model.

Settings are read when :func:`load_settings` is called (never at import time) and passed
explicitly to whatever needs them: the app factory, the engine builder, the CLI commands.

The database is named either by ``DATABASE_URL`` or by the ``DB_*`` components plus exactly
one password source (``DB_PASSWORD``, ``DB_SECRET_ARN``, ``DB_SSM_PARAMETER`` or
``DB_IAM_AUTH``). The secret sources are only *named* here and read, lazily and with a
cache, by :mod:`rms.db.credentials` when a connection is opened.

The one AWS call made here is opt-in: with ``SSM_PARAMETER_PATH`` set (e.g. ``/rms/prod/``,
the path ``infra/modules/app-config`` writes), :func:`load_settings` reads every parameter
under it once, maps each name (``DB_HOST``) to the setting of that environment variable,
and uses those values below the environment and ``.env`` but above the defaults.
Mixed or incomplete combinations are refused by :func:`load_settings` with a
:class:`~rms.errors.ConfigError` naming the variables, so a bad deployment fails at
start-up rather than at the first request.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import os
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import ArgumentError

from rms.errors import ConfigError

if TYPE_CHECKING:
    import boto3

__all__ = [
    "DEFAULT_SQLITE_PATH",
    "MASK",
    "PASSWORD_SOURCES",
    "RedactingFilter",
    "SecretRegistry",
    "SessionFactory",
    "Settings",
    "SslMode",
    "default_secret_registry",
    "env_name",
    "is_local_host",
    "load_settings",
    "normalise_database_url",
    "redact",
]

#: Where the embedded database lives when nothing else is configured (relative to the cwd).
DEFAULT_SQLITE_PATH = Path("var") / "rms.db"

#: What every secret is replaced with wherever it could be shown.
MASK = "********"

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

#: The sslmodes that encrypt; IAM tokens must never travel in clear text.
_ENCRYPTED_SSLMODES = ("require", "verify-ca", "verify-full")

#: The variables of which exactly one must name the password in component mode.
PASSWORD_SOURCES = ("DB_PASSWORD", "DB_SECRET_ARN", "DB_SSM_PARAMETER", "DB_IAM_AUTH")

_COMPONENTS = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER")

DEFAULT_PG_PORT = 5432

log = logging.getLogger("rms.settings")

#: Builds the boto3 session the SSM client comes from; tests pass one bound to moto.
SessionFactory = Callable[[], "boto3.session.Session"]

#: Variables needed to *read* SSM_PARAMETER_PATH, so they cannot come from it.
_BOOTSTRAP_VARIABLES = ("SSM_PARAMETER_PATH", "AWS_REGION", "AWS_DEFAULT_REGION")

#: The values read from SSM_PARAMETER_PATH for the Settings being built right now (set by
#: load_settings around the constructor; empty everywhere else, so Settings() never reads).
_SSM_VALUES: ContextVar[Mapping[str, str] | None] = ContextVar("rms_ssm_values", default=None)


class _SsmPathSource(PydanticBaseSettingsSource):
    """The parameters read from ``SSM_PARAMETER_PATH``, as a pydantic-settings source."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        values = _SSM_VALUES.get() or {}
        return values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_SSM_VALUES.get() or {})


class Settings(BaseSettings):
    """Effective configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        case_sensitive=False,
        # ``DB_HOST=`` in a .env file means "not set", not "the empty host name".
        env_ignore_empty=True,
        populate_by_name=True,
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///path.db or postgresql://...). "
        "Empty means the embedded SQLite file var/rms.db under the working directory.",
    )
    environment: str = Field(default="dev", description="Deployment name, e.g. dev or prod.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    db_host: str | None = Field(default=None, description="PostgreSQL host name.")
    db_port: int | None = Field(
        default=None, ge=1, le=65535, description="PostgreSQL port (5432 when not set)."
    )
    db_name: str | None = Field(default=None, description="Database name.")
    db_user: str | None = Field(default=None, description="Database user (role).")
    db_password: SecretStr | None = Field(
        default=None, description="Password, for deployments without a secret store."
    )
    db_secret_arn: str | None = Field(
        default=None,
        description="Secrets Manager secret in the RDS JSON shape (username, password and "
        "optionally host, port, dbname).",
    )
    db_ssm_parameter: str | None = Field(
        default=None,
        description="SSM SecureString holding a postgresql:// URL or a bare password. A name "
        "without a leading / is taken under /rms/{environment}/.",
    )
    db_iam_auth: bool = Field(
        default=False, description="Log in with a fresh RDS IAM auth token per connection."
    )
    db_sslmode: SslMode | None = Field(
        default=None,
        description="libpq sslmode. Not set: verify-full for any non-local host, prefer for "
        "localhost (require for IAM authentication on localhost).",
    )
    db_sslrootcert: str | None = Field(
        default=None,
        description="CA bundle to verify the server with (the RDS global bundle in AWS), "
        "or 'system' for the operating system's trust store.",
    )
    db_secret_cache_seconds: float = Field(
        default=300,
        ge=0,
        description="How long a secret read from Secrets Manager or SSM is reused before it "
        "is read again (an authentication failure re-reads it at once).",
    )
    aws_region: str | None = Field(
        default=None,
        validation_alias=AliasChoices("aws_region", "aws_default_region"),
        description="AWS region for Secrets Manager, SSM and IAM tokens (AWS_REGION or "
        "AWS_DEFAULT_REGION; a secret ARN's own region is used when not set).",
    )

    db_pool_size: int = Field(default=5, ge=1, le=100, description="Pooled connections kept.")
    db_max_overflow: int = Field(
        default=5, ge=0, le=100, description="Extra connections allowed beyond the pool size."
    )
    db_pool_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a request waits for a free pooled connection."
    )
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="PostgreSQL statement_timeout per session (0 = none)."
    )
    db_pool_recycle_seconds: float = Field(
        default=600,
        gt=0,
        description="Replace pooled connections older than this; below the server's "
        "idle_session_timeout (15 min in infra/modules/aurora-serverless-v2).",
    )
    db_idle_release_seconds: float = Field(
        default=60,
        gt=0,
        lt=300,
        description="Close every pooled connection after this long with no requests, so an "
        "Aurora Serverless v2 cluster can pause (must stay below its 300 s minimum delay).",
    )
    db_cold_start_budget_seconds: float = Field(
        default=45, gt=0, description="Total time to keep retrying a connection (cold starts)."
    )
    db_connect_timeout_seconds: float = Field(
        default=20, gt=0, description="Timeout of one connection attempt."
    )
    db_retry_initial_backoff_seconds: float = Field(
        default=0.2, gt=0, description="First wait between connection attempts."
    )
    db_retry_max_backoff_seconds: float = Field(
        default=2.0, gt=0, description="Longest wait between connection attempts."
    )
    db_cold_start_threshold_seconds: float = Field(
        default=2.0, gt=0, description="A connect slower than this counts as a cold start."
    )
    api_worker_threads: int | None = Field(
        default=None,
        ge=1,
        le=200,
        description="Threads serving database requests; default: pool size + overflow, so a "
        "request waits in line for a thread instead of timing out waiting for a connection.",
    )
    metrics_emf_enabled: bool = Field(
        default=False,
        description="Also write cold-start and retry metrics as CloudWatch embedded-metric "
        "log lines on stdout.",
    )
    metrics_namespace: str = Field(
        default="RMS/Database", description="CloudWatch namespace of the EMF metrics."
    )
    reference_cache_ttl_seconds: float = Field(
        default=300,
        ge=0,
        description="How long reference data (risk groups, deposit types, holidays, "
        "settings) is served from memory (0 = no cache).",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5_000, ge=0, description="How long SQLite waits on a locked database."
    )
    ssm_parameter_path: str | None = Field(
        default=None,
        description="SSM path (e.g. /rms/prod/) whose parameters, named like these variables "
        "(DB_HOST, ...), are read once at start-up; the environment and .env win over them.",
    )

    _origins: dict[str, str] = PrivateAttr(default_factory=dict)
    _secure_fields: frozenset[str] = PrivateAttr(default_factory=frozenset)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Highest priority first: SSM_PARAMETER_PATH sits just above the defaults.
        return (
            init_settings,
            env_settings,
            dotenv_settings,
            file_secret_settings,
            _SsmPathSource(settings_cls),
        )

    # -- validation --------------------------------------------------------------------------

    @field_validator("db_sslrootcert")
    @classmethod
    def _rootcert_exists(cls, value: str | None) -> str | None:
        if value is None or value == "system":
            return value
        path = Path(value).expanduser()
        if not path.is_file():
            raise ValueError(
                f"certificate bundle {value!r} does not exist or is not a file (download the "
                "RDS bundle from https://truststore.pki.rds.amazonaws.com/global/"
                "global-bundle.pem)"
            )
        return str(path)

    @model_validator(mode="after")
    def _check_combination(self) -> Settings:
        """Refuse mixed or incomplete database configuration, naming the variables.

        Raising :class:`ConfigError` (not ``ValueError``) lets it pass through pydantic
        unchanged, so the message reads the same wherever the settings are built.
        """
        _check_database_variables(self)
        return self

    def __repr_args__(self) -> Any:
        # The URL may carry a password; SecretStr fields already mask themselves.
        for name, value in super().__repr_args__():
            if name == "database_url" and isinstance(value, str):
                yield name, redact(value)
            else:
                yield name, value

    # -- derived values ----------------------------------------------------------------------

    @property
    def password_source(self) -> str | None:
        """The one ``PASSWORD_SOURCES`` variable in use, or None (``DATABASE_URL`` mode)."""
        found = _password_sources(self)
        return found[0] if found else None

    @property
    def uses_components(self) -> bool:
        """True when the database is named by ``DB_*`` variables rather than a URL."""
        return not self.database_url and bool(_set_components(self) or _password_sources(self))

    def effective_database_url(self) -> str:
        """The URL to connect to, with the embedded SQLite default filled in.

        In component mode the URL never carries a password: the credential source adds it
        to each connection attempt, so nothing that prints the engine can show it. Values
        that only the secret knows (host, name) are left out and filled in at connect time.
        """
        if self.database_url:
            return normalise_database_url(self.database_url)
        if self.uses_components:
            return URL.create(
                "postgresql+psycopg",
                username=self.db_user,
                host=self.db_host,
                port=(self.db_port or DEFAULT_PG_PORT) if self.db_host else self.db_port,
                database=self.db_name,
            ).render_as_string(hide_password=False)
        return f"sqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"

    def is_postgres(self) -> bool:
        return self.effective_database_url().startswith("postgresql")

    def sslmode_for(self, host: str | None) -> str:
        """The sslmode to use against ``host``: the explicit one, else a safe default.

        Remote hosts are verified in full (name and CA) because a cloud database is reached
        over networks we do not control; a local one need not be. An IAM token is a
        password, so it always travels encrypted.
        """
        if self.db_sslmode is not None:
            return self.db_sslmode
        local = is_local_host(host)
        if self.db_iam_auth:
            return "require" if local else "verify-full"
        return "prefer" if local else "verify-full"

    def ssm_parameter_name(self) -> str | None:
        """``DB_SSM_PARAMETER`` as a full name; relative names live under /rms/{env}/."""
        name = self.db_ssm_parameter
        if not name:
            return None
        if name.startswith("/") or name.startswith("arn:"):
            return name
        return f"/rms/{self.environment}/{name}"

    def origin(self, field_name: str) -> str:
        """Where a field's value came from: override, env, .env, ``ssm:/name`` or default."""
        return self._origins.get(field_name, "default")

    def is_secret(self, field_name: str) -> bool:
        """True for values never to be shown: SecretStr fields and SecureString parameters."""
        return field_name in self._secure_fields or isinstance(
            getattr(self, field_name, None), SecretStr
        )


def env_name(field_name: str) -> str:
    """The environment variable that sets ``field_name`` (the first one when several do)."""
    return "AWS_REGION" if field_name == "aws_region" else field_name.upper()


def _env_names(field_name: str) -> tuple[str, ...]:
    if field_name == "aws_region":
        return ("AWS_REGION", "AWS_DEFAULT_REGION")
    return (field_name.upper(),)


def is_local_host(host: str | None) -> bool:
    """True for loopback names and addresses and Unix sockets (libpq's default: no host)."""
    if not host or host.startswith("/") or host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _password_sources(settings: Settings) -> list[str]:
    values = {
        "DB_PASSWORD": settings.db_password is not None,
        "DB_SECRET_ARN": bool(settings.db_secret_arn),
        "DB_SSM_PARAMETER": bool(settings.db_ssm_parameter),
        "DB_IAM_AUTH": settings.db_iam_auth,
    }
    return [name for name in PASSWORD_SOURCES if values[name]]


def _set_components(settings: Settings) -> list[str]:
    values = {
        "DB_HOST": settings.db_host,
        "DB_PORT": settings.db_port,
        "DB_NAME": settings.db_name,
        "DB_USER": settings.db_user,
    }
    return [name for name in _COMPONENTS if values[name] is not None]


def _conflict(message: str, variables: list[str]) -> ConfigError:
    return ConfigError(message, field=variables[0] if variables else None, variables=variables)


def _check_database_variables(settings: Settings) -> None:
    components = _set_components(settings)
    sources = _password_sources(settings)
    if settings.database_url:
        clash = components + sources
        if clash:
            names = ", ".join(clash)
            raise _conflict(
                f"DATABASE_URL cannot be combined with {names}: name the database either by "
                "DATABASE_URL or by the DB_* variables, not both",
                ["DATABASE_URL", *clash],
            )
        query = _url_query(settings.database_url)
        for key, variable in (("sslmode", "DB_SSLMODE"), ("sslrootcert", "DB_SSLROOTCERT")):
            if key in query and getattr(settings, variable.lower()) is not None:
                raise _conflict(
                    f"DATABASE_URL already sets {key}= and {variable} is set too: keep one",
                    ["DATABASE_URL", variable],
                )
        return
    if not components and not sources:
        return  # embedded SQLite
    if len(sources) > 1:
        raise _conflict(
            f"{' and '.join(sources)} are both set: use exactly one password source "
            f"({', '.join(PASSWORD_SOURCES)})",
            sources,
        )
    if not sources:
        raise _conflict(
            f"{', '.join(components)} set but no password source: set exactly one of "
            f"{', '.join(PASSWORD_SOURCES)} (or use DATABASE_URL)",
            list(PASSWORD_SOURCES),
        )
    source = sources[0]
    # A secret or parameter may carry the host, name and user itself (RDS rotation secrets
    # and URL parameters do); a plain password or an IAM token needs them all spelled out.
    if source in ("DB_PASSWORD", "DB_IAM_AUTH"):
        required = ["DB_HOST", "DB_NAME", "DB_USER"]
    elif settings.db_host is not None:
        # A host without a database name would silently connect to the user's database.
        required = ["DB_NAME"]
    else:
        required = []
    missing = [name for name in required if name not in components]
    if missing:
        raise _conflict(
            f"{source} needs {', '.join(missing)}: missing "
            f"{' and '.join(missing)} (set with {', '.join(components) or 'nothing else'})",
            missing,
        )
    if source == "DB_IAM_AUTH" and settings.db_sslmode not in (None, *_ENCRYPTED_SSLMODES):
        raise _conflict(
            f"DB_IAM_AUTH needs an encrypted connection, but DB_SSLMODE={settings.db_sslmode}: "
            "use require, verify-ca or verify-full",
            ["DB_IAM_AUTH", "DB_SSLMODE"],
        )


def _url_query(url: str) -> dict[str, Any]:
    try:
        return dict(make_url(normalise_database_url(url)).query)
    except ConfigError:
        raise
    except (ArgumentError, ValueError) as exc:  # not a URL at all
        raise ConfigError(
            "DATABASE_URL is not a valid URL (expected sqlite:///path or "
            "postgresql://user@host:5432/dbname)",
            field="DATABASE_URL",
        ) from exc


def normalise_database_url(url: str) -> str:
    """Map the URL spellings people use to the drivers this package ships.

    ``postgres://`` and ``postgresql://`` both mean psycopg 3 here.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url.split(':', 1)[0]!r}",
        field="DATABASE_URL",
    )


def load_settings(*, session_factory: SessionFactory | None = None, **overrides: Any) -> Settings:
    """Read settings from the environment, ``.env`` and ``SSM_PARAMETER_PATH``; overrides win.

    Priority, highest first: keyword ``overrides``, environment, ``.env``, the parameters
    under ``SSM_PARAMETER_PATH`` (read here, once, only when it is set; ``session_factory``
    makes the boto3 session, tests pass one bound to moto), defaults.

    Invalid values raise :class:`ConfigError` naming each variable and why; conflicting or
    incomplete database variables raise it naming the variables that clash or are missing;
    an unreadable ``SSM_PARAMETER_PATH`` raises it naming the path and the reason.
    """
    ssm = _read_ssm_path(overrides, session_factory)
    origins = _origins(overrides, ssm)
    token = _SSM_VALUES.set(ssm.values)
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{_loc_name(err['loc'], origins)}: {err['msg']}"
            for err in exc.errors(include_input=False)
        )
        # ``from None``: the ValidationError's own text would repeat the input values.
        raise ConfigError(f"invalid configuration: {problems}") from None
    except ConfigError as exc:
        raise _with_ssm_origins(exc, origins) from None
    finally:
        _SSM_VALUES.reset(token)
    settings.effective_database_url()  # validates the URL scheme early
    settings._origins = origins
    settings._secure_fields = frozenset(ssm.secure)
    if settings.db_password is not None:
        default_secret_registry().add(settings.db_password.get_secret_value())
    if settings.database_url:
        password = _url_password(settings.database_url)
        if password:
            default_secret_registry().add(password)
    return settings


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
    name = ".".join(env_name(str(p)) if isinstance(p, str) else str(p) for p in loc)
    origin = (origins or {}).get(str(loc[0]), "") if loc else ""
    return f"{name} (from {origin})" if origin.startswith("ssm:") else name


def _url_password(url: str) -> str | None:
    try:
        return make_url(normalise_database_url(url)).password
    except Exception:  # only a best effort to find a password to mask
        return None


def _origins(overrides: Mapping[str, Any], ssm: _SsmRead) -> dict[str, str]:
    """Where each explicitly set field came from, in pydantic-settings' own priority."""
    env = {k.upper(): v for k, v in os.environ.items() if v != ""}
    dotenv = _dotenv_values()
    found: dict[str, str] = {}
    for name in Settings.model_fields:
        if name in overrides and overrides[name] is not None:
            found[name] = "override"
        elif any(var in env for var in _env_names(name)):
            found[name] = "env"
        elif any(var in dotenv for var in _env_names(name)):
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


# -- SSM_PARAMETER_PATH -----------------------------------------------------------------------


@dataclass(frozen=True)
class _SsmRead:
    """What ``SSM_PARAMETER_PATH`` supplied: field name -> value and -> parameter name."""

    values: dict[str, str] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)
    #: Fields whose parameter is a SecureString (shown masked, like SecretStr fields).
    secure: set[str] = field(default_factory=set)


class _Bootstrap(BaseSettings):
    """The variables needed before SSM can be read, from the same env and ``.env``."""

    model_config = Settings.model_config.copy()

    ssm_parameter_path: str | None = None
    aws_region: str | None = Field(
        default=None, validation_alias=AliasChoices("aws_region", "aws_default_region")
    )


#: AWS error codes that mean "not allowed" (IAM or the KMS key of a SecureString).
_DENIED_CODES = {"AccessDeniedException", "AccessDenied", "UnauthorizedOperation"}
_THROTTLED_CODES = {"ThrottlingException", "Throttling", "TooManyRequestsException"}


def _read_ssm_path(
    overrides: Mapping[str, Any], session_factory: SessionFactory | None
) -> _SsmRead:
    """Read ``SSM_PARAMETER_PATH`` when it is set (no AWS call at all when it is not)."""
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
        return _SsmRead()
    if not path.startswith("/") or any(c.isspace() for c in path):
        raise ConfigError(
            f"SSM_PARAMETER_PATH={path!r} is not a parameter path: it must start with / "
            "(e.g. /rms/prod/)",
            field="SSM_PARAMETER_PATH",
        )
    parameters = _fetch_parameters(path, boot.aws_region, session_factory)
    return _map_parameters(path, parameters)


def _fetch_parameters(
    path: str, region: str | None, session_factory: SessionFactory | None
) -> list[tuple[str, str, str]]:
    """(name, type, value) of every parameter directly under ``path``; errors named."""
    from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError

    from rms.db.credentials import guard_library_logs

    guard_library_logs()  # botocore logs response bodies (SecureString values) at DEBUG
    registry = default_secret_registry()
    where = f"SSM_PARAMETER_PATH={path}"
    variables = ["SSM_PARAMETER_PATH"]

    def fail(reason: str, *more: str) -> ConfigError:
        return ConfigError(
            f"cannot read the settings under {where}: {reason}",
            field="SSM_PARAMETER_PATH",
            variables=[*variables, *more],
        )

    try:
        session = (session_factory or _default_session_factory)()
        client = session.client("ssm", region_name=region)
    except NoRegionError:
        raise fail("no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)", "AWS_REGION") from None
    except BotoCoreError as exc:
        raise fail(f"cannot create the AWS SSM client: {registry.redact(str(exc))}") from None

    found: list[tuple[str, str, str]] = []
    try:
        paginator = client.get_paginator("get_parameters_by_path")
        for page in paginator.paginate(Path=path, Recursive=False, WithDecryption=True):
            for parameter in page.get("Parameters", []):
                name = parameter.get("Name", "")
                kind = parameter.get("Type", "String")
                value = parameter.get("Value", "")
                if kind == "SecureString":
                    registry.add(value)  # before anything could print it
                found.append((name, kind, value))
    except ClientError as exc:
        error = exc.response.get("Error", {})
        code = error.get("Code", "Unknown")
        message = registry.redact(error.get("Message", ""))
        if code in _DENIED_CODES:
            reason = (
                f"access denied ({code}): the role needs ssm:GetParametersByPath on the path "
                "(and kms:Decrypt for SecureString parameters)"
            )
        elif code in _THROTTLED_CODES:
            reason = f"throttled by AWS ({code}) after retries: try again"
        else:
            reason = f"{code}: {message}"
        raise fail(reason) from None
    except NoCredentialsError:
        raise fail(
            "no AWS credentials found (instance/task role, AWS_PROFILE or AWS_ACCESS_KEY_ID)"
        ) from None
    except BotoCoreError as exc:
        raise fail(f"could not reach AWS: {registry.redact(str(exc))}") from None
    if not found:
        raise fail(
            f"no parameters under it in region {client.meta.region_name} (check the path, "
            "the region, and that the settings were deployed there)",
            "AWS_REGION",
        )
    return found


def _map_parameters(path: str, parameters: list[tuple[str, str, str]]) -> _SsmRead:
    """Map parameter base names to fields as environment variables map (case-insensitive)."""
    by_variable = {var: name for name in Settings.model_fields for var in _env_names(name)}
    values: dict[str, str] = {}
    names: dict[str, str] = {}
    secure: set[str] = set()
    unknown: list[str] = []
    bootstrap: list[str] = []
    for full_name, kind, value in sorted(parameters):
        variable = full_name.rsplit("/", 1)[-1].upper()
        field_name = by_variable.get(variable)
        if variable in _BOOTSTRAP_VARIABLES:
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
    return _SsmRead(values=values, names=names, secure=secure)


def _default_session_factory() -> boto3.session.Session:
    import boto3

    return boto3.session.Session()


# -- redaction ------------------------------------------------------------------------------

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)")
_KV_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*)(?P<pw>'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE
)
_AWS_SIGNED = re.compile(
    r"(?P<head>X-Amz-(?:Signature|Security-Token|Credential)=)(?P<pw>[^&\s'\"]+)"
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by :data:`MASK`.

    The known ``secrets`` are masked wherever they appear (also in their JSON-escaped and
    repr forms, which is how botocore logs response bodies); passwords in URLs and
    ``password=`` pairs and the signature of an IAM token are masked even when nobody told
    us the value, so a secret we never saw still does not get out.
    """
    values = {s for s in secrets if s and len(s) >= 4}
    variants: set[str] = set()
    for value in values:
        variants.update({value, json.dumps(value)[1:-1], repr(value)[1:-1]})
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, MASK)
    for pattern in (_URL_PASSWORD, _KV_PASSWORD, _AWS_SIGNED):
        text = pattern.sub(lambda m: m.group("head") + MASK, text)
    return text


class SecretRegistry:
    """The secret values this process has seen (passwords, fetched secrets, tokens).

    Credential sources add what they read; :class:`RedactingFilter` and error messages mask
    them. Thread-safe; IAM tokens are kept only for the last few (they expire anyway).
    """

    def __init__(self, max_values: int = 256) -> None:
        self._values: dict[str, None] = {}
        self._max = max_values
        self._lock = threading.Lock()

    def add(self, value: str | None) -> None:
        if not value:
            return
        with self._lock:
            self._values.pop(value, None)
            self._values[value] = None
            while len(self._values) > self._max:
                self._values.pop(next(iter(self._values)))

    def values(self) -> list[str]:
        with self._lock:
            return list(self._values)

    def redact(self, text: str) -> str:
        return redact(text, self.values())


_DEFAULT_REGISTRY: SecretRegistry | None = None
_REGISTRY_LOCK = threading.Lock()


def default_secret_registry() -> SecretRegistry:
    """The process-wide registry (created on first use, not at import)."""
    global _DEFAULT_REGISTRY  # one per process, made lazily
    with _REGISTRY_LOCK:
        if _DEFAULT_REGISTRY is None:
            _DEFAULT_REGISTRY = SecretRegistry()
        return _DEFAULT_REGISTRY


class RedactingFilter(logging.Filter):
    """A logging filter that masks secrets in the message and the formatted traceback.

    Attach it to handlers (it then sees every record they write) or to the loggers of
    libraries that echo secret payloads at DEBUG level (botocore logs response bodies).
    """

    def __init__(self, secrets: Callable[[], Iterable[str]] | None = None) -> None:
        super().__init__()
        self._secrets = secrets or default_secret_registry().values

    def filter(self, record: logging.LogRecord) -> bool:
        known = list(self._secrets())
        message = record.getMessage()
        cleaned = redact(message, known)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text, known)
        return True
