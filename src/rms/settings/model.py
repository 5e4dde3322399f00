"""The settings model: every setting of the service and the tools, and their rules.

Field names map to upper-case environment variables (``db_host`` is ``DB_HOST``; the few
exceptions carry a ``validation_alias``: ``AWS_REGION``/``AWS_DEFAULT_REGION``,
``RMS_STATE_DIR``). The database is named either by ``DATABASE_URL`` or by the ``DB_*``
components plus exactly one password source (``DB_PASSWORD``, ``DB_SECRET_ARN``,
``DB_SSM_PARAMETER`` or ``DB_IAM_AUTH``); mixed or incomplete combinations are refused with
a :class:`~rms.errors.ConfigError` naming the variables. The secret sources are only
*named* here and read, lazily and with a cache, by :mod:`rms.db.credentials`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import (
    AliasChoices,
    Field,
    PrivateAttr,
    SecretStr,
    field_validator,
    model_validator,
)
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource
from sqlalchemy.engine import URL

from rms.errors import ConfigError
from rms.secrets import redact
from rms.settings.sources import ENV_CONFIG, SsmPathSource
from rms.settings.state import EMBEDDED_DATABASE, default_state_dir, make_private_dir
from rms.settings.urls import (
    DEFAULT_PG_PORT,
    check_web_url,
    is_local_host,
    normalise_database_url,
    url_query,
)

__all__ = ["PASSWORD_SOURCES", "Settings", "SslMode", "env_name", "env_names"]

SslMode = Literal["disable", "allow", "prefer", "require", "verify-ca", "verify-full"]

#: The sslmodes that encrypt; IAM tokens must never travel in clear text.
_ENCRYPTED_SSLMODES = ("require", "verify-ca", "verify-full")

#: The variables of which exactly one must name the password in component mode.
PASSWORD_SOURCES = ("DB_PASSWORD", "DB_SECRET_ARN", "DB_SSM_PARAMETER", "DB_IAM_AUTH")

_COMPONENTS = ("DB_HOST", "DB_PORT", "DB_NAME", "DB_USER")


class Settings(BaseSettings):
    """Effective configuration. Field names map to upper-case environment variables."""

    model_config = ENV_CONFIG

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///path.db or postgresql://...). "
        "Empty means the embedded SQLite database rms.db in the state directory.",
    )
    state_dir: Path = Field(
        default_factory=default_state_dir,
        validation_alias="rms_state_dir",
        description="Where the tool keeps its files: the embedded database, migration "
        "reports, backups and quarantine files (RMS_STATE_DIR; default: the per-user state "
        "directory, ~/.local/state/rms on Linux).",
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
    db_auto_pause_seconds: float = Field(
        default=300,
        gt=0,
        le=86400,
        description="The database's pause delay (Aurora's SecondsUntilAutoPause, "
        "seconds_until_auto_pause in the Terraform, 300 by default): a database not seen for "
        "longer than this may be paused, so a page view starts waking it (DB_WAKE_AHEAD).",
    )
    db_wake_ahead: bool = Field(
        default=True,
        description="Serving a page while the database may be paused (not seen for longer "
        "than DB_AUTO_PAUSE_SECONDS) starts a resume in the background: one connection, "
        "closed at once, at most one per pause delay; never from the health probes.",
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
    db_request_budget_seconds: float = Field(
        default=25,
        gt=0,
        le=3600,
        description="Deadline of one HTTP request, from its arrival: waiting for a thread "
        "and a pooled connection, connect retries, every statement, COMMIT and retries. "
        "When it is spent the connection is abandoned and the answer is 503 with "
        "Retry-After. Keep it below any limit in front of the service (API Gateway: 30 s).",
    )
    db_command_budget_seconds: float = Field(
        default=120,
        gt=0,
        description="Deadline of the database work of one command (rms db health, seed, "
        "upgrade), connect retries included.",
    )
    db_ping_timeout_seconds: float = Field(
        default=3,
        gt=0,
        description="How long the check of a pooled connection before use may take; a "
        "connection that does not answer in time is replaced by a new one.",
    )
    db_keepalives: bool = Field(
        default=True,
        description="TCP keepalives on every PostgreSQL connection (libpq keepalives).",
    )
    db_keepalives_idle_seconds: int = Field(
        default=5,
        ge=1,
        le=7200,
        description="Idle seconds before the first keepalive probe (libpq keepalives_idle).",
    )
    db_keepalives_interval_seconds: int = Field(
        default=2,
        ge=1,
        le=600,
        description="Seconds between keepalive probes (libpq keepalives_interval).",
    )
    db_keepalives_count: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Unanswered probes before the connection is dead (libpq keepalives_count).",
    )
    db_tcp_user_timeout_ms: int = Field(
        default=10_000,
        ge=0,
        le=3_600_000,
        description="How long sent data may stay unacknowledged before the connection is "
        "dead, in ms (libpq tcp_user_timeout; 0 = the system's default, about 15 minutes).",
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
        default=30,
        ge=0,
        description="How long reference data (risk groups, deposit types, holidays, "
        "settings) is served from memory (0 = no cache): the longest a change made by another "
        "process (a migration with --replace, SQL by hand) takes to show; writes through the "
        "service show at once.",
    )
    reference_cache_max_entries: int = Field(
        default=512, ge=1, description="Most reference-data entries kept in memory (evicting)."
    )
    reference_cache_max_bytes: int = Field(
        default=8 * 1024 * 1024,
        ge=1024,
        description="Most bytes (serialized size) of reference data kept in memory; an entry "
        "larger than this is served but not kept.",
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5_000, ge=0, description="How long SQLite waits on a locked database."
    )
    ssm_parameter_path: str | None = Field(
        default=None,
        description="SSM path (e.g. /rms/prod/) whose parameters, named like these variables "
        "(DB_HOST, ...), are read once at start-up; the environment and .env win over them.",
    )

    # -- sign-in and limits of the HTTP service (rms.auth, rms.http.middleware) ---------------
    rms_auth: Literal["on", "off"] = Field(
        default="on",
        description="Sign-in: on (default), or off, which only a loopback bind accepts (the "
        "service refuses to start otherwise).",
    )
    rms_api_token: SecretStr | None = Field(
        default=None,
        description="The local sign-in token (Bearer token and sign-in URL). Not set and no "
        "OIDC issuer: a random token kept in <state dir>/auth/token (0600).",
    )
    rms_session_key: SecretStr | None = Field(
        default=None,
        description="Key that signs session cookies (at least 32 characters). Not set: a random "
        "key kept in <state dir>/auth/session.key (0600). Set it when several instances serve "
        "the same users (Lambda).",
    )
    rms_session_max_age_seconds: int = Field(
        default=8 * 3600, ge=60, le=30 * 86400, description="How long a sign-in session lasts."
    )
    rms_public_url: str | None = Field(
        default=None,
        description="The service's public base URL (https://...): sign-in callback "
        "(<url>/auth/callback), redirects, Secure cookies and HSTS, an allowed Host and Origin.",
    )
    rms_allowed_hosts: str = Field(
        default="",
        description="Comma-separated Host names the service answers besides the loopback "
        "names (localhost, 127.0.0.1, ::1) and RMS_PUBLIC_URL's host; anything else is a 400.",
    )
    auth_oidc_issuer: str | None = Field(
        default=None,
        description="OIDC issuer URL (Cognito: https://cognito-idp.<region>.amazonaws.com/"
        "<pool id>); discovery and JWKS are read from it.",
    )
    auth_oidc_audience: str | None = Field(
        default=None,
        description="Accepted audience: an ID token's aud, or a Cognito access token's "
        "client_id (the app client id).",
    )
    auth_oidc_client_id: str | None = Field(
        default=None,
        description="Client id of the browser sign-in (authorization code with PKCE); "
        "default: AUTH_OIDC_AUDIENCE.",
    )
    auth_oidc_scopes: str = Field(
        default="openid email", description="Scopes asked for in the browser sign-in."
    )
    auth_oidc_leeway_seconds: float = Field(
        default=30, ge=0, le=300, description="Clock skew allowed on exp, nbf and iat."
    )
    auth_oidc_timeout_seconds: float = Field(
        default=3,
        gt=0,
        le=30,
        description="Timeout of each call to the issuer (discovery, JWKS, token exchange).",
    )
    auth_oidc_jwks_refresh_seconds: float = Field(
        default=60,
        ge=0,
        description="At most one JWKS refresh per this many seconds for an unknown key id.",
    )
    auth_failure_limit: int = Field(
        default=10, ge=1, description="Failed sign-ins allowed per client within the window."
    )
    rms_forwarded_allow_ips: str = Field(
        default="",
        description="Comma-separated addresses (or networks) of the proxies whose "
        "X-Forwarded-For and X-Forwarded-Proto `rms serve` trusts. Empty (default): none, so "
        "a client cannot choose the address its failed sign-ins count against. On Lambda the "
        "caller's address comes from the API Gateway event instead.",
    )
    auth_failure_window_seconds: int = Field(
        default=300,
        ge=1,
        description="Window of AUTH_FAILURE_LIMIT; past it a client gets 429 with Retry-After.",
    )
    api_max_body_bytes: int = Field(
        default=1024 * 1024,
        ge=1024,
        description="Largest request body accepted (413 beyond it, enforced while reading).",
    )
    api_max_setting_value_bytes: int = Field(
        default=64 * 1024,
        ge=16,
        description="Largest setting value (its JSON text, in bytes) accepted (422 beyond).",
    )

    serve_header_timeout_seconds: float = Field(
        default=10,
        gt=0,
        le=300,
        description="`rms serve`: a connection that has not sent a whole request head "
        "(request line and headers) this long after connecting, or after its previous "
        "response, is closed (slow-header clients).",
    )
    serve_keep_alive_seconds: float = Field(
        default=5,
        gt=0,
        le=300,
        description="`rms serve`: an idle kept-alive connection is closed after this long.",
    )
    serve_max_connections: int = Field(
        default=100,
        ge=1,
        le=100_000,
        description="`rms serve`: open connections at most; one more is closed at once, and "
        "a request arriving while the limit is reached gets 503.",
    )
    serve_max_header_bytes: int = Field(
        default=16 * 1024,
        ge=1024,
        le=1024 * 1024,
        description="`rms serve`: largest request head (request line and headers), in bytes; "
        "a larger one gets 400 and the connection is closed.",
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
            SsmPathSource(settings_cls),
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

    @field_validator("log_level")
    @classmethod
    def _known_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"):
            raise ValueError(f"{value!r} is not one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
        return level

    @field_validator("state_dir")
    @classmethod
    def _state_dir_absolute(cls, value: Path) -> Path:
        # Resolved once, so a later chdir cannot move where the files go.
        return value.expanduser().absolute()

    @field_validator("rms_public_url", "auth_oidc_issuer")
    @classmethod
    def _web_url(cls, value: str | None) -> str | None:
        if value is None or value.strip() == "":
            return None
        return check_web_url(value.strip())

    @field_validator("rms_session_key")
    @classmethod
    def _long_key(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 32:
            raise ValueError("must be at least 32 characters (e.g. `openssl rand -hex 32`)")
        return value

    @field_validator("rms_api_token")
    @classmethod
    def _long_token(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("must be at least 16 characters (e.g. `openssl rand -hex 32`)")
        return value

    @model_validator(mode="after")
    def _check_oidc(self) -> Settings:
        if bool(self.auth_oidc_issuer) != bool(self.auth_oidc_audience):
            given, missing = (
                ("AUTH_OIDC_ISSUER", "AUTH_OIDC_AUDIENCE")
                if self.auth_oidc_issuer
                else ("AUTH_OIDC_AUDIENCE", "AUTH_OIDC_ISSUER")
            )
            raise _conflict(f"{given} is set but {missing} is not: set both", [missing, given])
        return self

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
        return f"sqlite:///{self.embedded_database_path().as_posix()}"

    def embedded_database_path(self) -> Path:
        """The embedded SQLite file: ``rms.db`` in the state directory."""
        return self.state_dir / EMBEDDED_DATABASE

    @property
    def is_embedded(self) -> bool:
        """True when no database is configured: the embedded SQLite file is used."""
        return not self.database_url and not self.uses_components

    def state_path(self, *parts: str) -> Path:
        """A directory under the state directory, created private (0700) if missing.

        Every file the tool writes goes under one of these (``state_path("migrate",
        run_id)`` for a migration's report, backup and quarantine file).
        """
        make_private_dir(self.state_dir, private_existing=True)
        return make_private_dir(self.state_dir.joinpath(*parts), private_existing=True)

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

    def allowed_hosts(self) -> frozenset[str]:
        """Host names the service answers: loopback names, RMS_ALLOWED_HOSTS, the public URL's."""
        names = {"localhost", "127.0.0.1", "::1"}
        names.update(h.strip().lower() for h in self.rms_allowed_hosts.split(",") if h.strip())
        if self.rms_public_url:
            names.add((urlsplit(self.rms_public_url).hostname or "").lower())
        return frozenset(names)

    def origin(self, field_name: str) -> str:
        """Where a field's value came from: override, env, .env, ``ssm:/name`` or default."""
        return self._origins.get(field_name, "default")

    def is_secret(self, field_name: str) -> bool:
        """True for values never to be shown: SecretStr fields and SecureString parameters."""
        return field_name in self._secure_fields or isinstance(
            getattr(self, field_name, None), SecretStr
        )


def env_names(field_name: str) -> tuple[str, ...]:
    """Every environment variable that sets ``field_name``, the preferred one first."""
    alias = Settings.model_fields[field_name].validation_alias
    if isinstance(alias, str):
        return (alias.upper(),)
    if isinstance(alias, AliasChoices):
        return tuple(c.upper() for c in alias.choices if isinstance(c, str))
    return (field_name.upper(),)


def env_name(field_name: str) -> str:
    """The environment variable that sets ``field_name`` (the first one when several do)."""
    return env_names(field_name)[0]


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
        query = url_query(settings.database_url)
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
