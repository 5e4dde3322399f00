"""Where each connection's user, password and TLS settings come from.

:func:`credentials_from_settings` turns the settings into a
:class:`~rms.db.connect.CredentialSource` that the connector asks on *every* connection
attempt. That is what makes rotation work without a restart:

- a Secrets Manager secret or an SSM parameter is read lazily (no AWS call at import or
  at settings load), cached for ``DB_SECRET_CACHE_SECONDS``, and dropped by
  :meth:`refresh`, which the connector calls once when the server refuses the password
  (28P01), before its single retry;
- an IAM auth token (valid 15 minutes) is generated for each connection and never stored
  in the pool's configuration, so a connection opened an hour later gets a fresh one.

Rules for merging a secret with ``DB_*`` variables (documented in docs/configuration.md):
the user name always comes with the password (from the secret when it has one, since the
password belongs to that user); host, port and database name set explicitly in ``DB_*``
win over the secret's (so a deployment can point at a proxy or a reader endpoint) and the
secret fills in whatever is not set.

Every secret value read is added to the :class:`~rms.secrets.SecretRegistry`; AWS clients
and errors come from :mod:`rms.aws` (which guards the botocore loggers that echo response
bodies at DEBUG level), so neither our error messages nor library logs can show a secret.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy.engine import make_url

from rms.aws import SessionFactory, aws_errors, client
from rms.errors import AwsError, ConfigError, DatabaseAuthError, DatabaseUnavailableError
from rms.secrets import SecretRegistry, default_secret_registry
from rms.settings import DEFAULT_PG_PORT, Settings, normalise_database_url

if TYPE_CHECKING:
    from mypy_boto3_rds import RDSClient
    from mypy_boto3_secretsmanager import SecretsManagerClient
    from mypy_boto3_ssm import SSMClient

    from rms.db.connect import CredentialSource

__all__ = [
    "IamTokenSource",
    "ResolvedSecret",
    "SecretsManagerSource",
    "SsmParameterSource",
    "StaticPasswordSource",
    "UrlTlsSource",
    "credentials_from_settings",
]

log = logging.getLogger("rms.db.credentials")

Clock = Callable[[], float]
T = TypeVar("T")

#: The IAM permission each credential source's AWS call needs (shown when access is denied).
_PERMISSIONS = {
    "secretsmanager": "secretsmanager:GetSecretValue on the secret (and kms:Decrypt on its key)",
    "ssm": "ssm:GetParameter on the parameter (and kms:Decrypt for a SecureString)",
    "rds": "rds-db:connect on the database user",
}


def credentials_from_settings(
    settings: Settings,
    *,
    session_factory: SessionFactory | None = None,
    clock: Clock = time.monotonic,
    registry: SecretRegistry | None = None,
) -> CredentialSource | None:
    """The credential source the settings describe, or None for SQLite.

    Creating the source makes no network call; boto3 clients are made on first use.
    """
    if not settings.is_postgres():
        return None
    registry = registry or default_secret_registry()
    source = settings.password_source
    if source is None:
        return UrlTlsSource(settings)
    if source == "DB_PASSWORD":
        return StaticPasswordSource(settings, registry=registry)
    factory = session_factory
    if source == "DB_SECRET_ARN":
        return SecretsManagerSource(settings, factory, clock=clock, registry=registry)
    if source == "DB_SSM_PARAMETER":
        return SsmParameterSource(settings, factory, clock=clock, registry=registry)
    return IamTokenSource(settings, factory, registry=registry)


# -- sources -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ResolvedSecret:
    """What a secret or parameter held (any field may be missing)."""

    password: str
    user: str | None = None
    host: str | None = None
    port: int | None = None
    dbname: str | None = None
    sslmode: str | None = None
    sslrootcert: str | None = None
    #: Which of user/host/port/dbname came from the secret (for ``rms config show``).
    provided: frozenset[str] = field(default_factory=frozenset)


class UrlTlsSource:
    """``DATABASE_URL`` mode: the URL has the credentials; this only adds the TLS defaults.

    The URL's own ``?sslmode=`` / ``?sslrootcert=`` win (settings refuse both at once).
    """

    label = "DATABASE_URL"

    def __init__(self, settings: Settings) -> None:
        url = make_url(settings.effective_database_url())
        self._params: dict[str, Any] = {}
        if "sslmode" not in url.query:
            self._params["sslmode"] = settings.sslmode_for(url.host)
        if settings.db_sslrootcert and "sslrootcert" not in url.query:
            self._params["sslrootcert"] = settings.db_sslrootcert

    def connect_params(self) -> dict[str, Any]:
        return dict(self._params)

    def refresh(self) -> None:
        """Nothing is cached: the URL is all there is."""


class _ComponentSource:
    """Shared by the ``DB_*`` sources: merge settings and secret, add TLS parameters."""

    label = "DB_*"

    def __init__(self, settings: Settings, registry: SecretRegistry) -> None:
        self.settings = settings
        self.registry = registry

    def refresh(self) -> None:
        """Nothing cached by default."""

    def _params(self, password: str, secret: ResolvedSecret | None = None) -> dict[str, Any]:
        s = self.settings
        user = s.db_user
        if secret is not None and secret.user:
            if user and user != secret.user:
                log.warning(
                    "DB_USER %r differs from the user name in %s; using the secret's %r, "
                    "since the password belongs to it",
                    user,
                    self.label,
                    secret.user,
                )
            user = secret.user
        host = s.db_host or (secret.host if secret else None)
        port = s.db_port or (secret.port if secret else None) or DEFAULT_PG_PORT
        dbname = s.db_name or (secret.dbname if secret else None)
        missing = [
            name
            for name, value in (("DB_HOST", host), ("DB_NAME", dbname), ("DB_USER", user))
            if not value
        ]
        if missing:
            raise ConfigError(
                f"{' and '.join(missing)} not set and not found in {self.label}: set "
                f"{', '.join(missing)}",
                field=missing[0],
                variables=missing,
            )
        sslmode = s.db_sslmode or (secret.sslmode if secret else None) or s.sslmode_for(host)
        params: dict[str, Any] = {
            "host": host,
            "port": port,
            "dbname": dbname,
            "user": user,
            "password": password,
            "sslmode": sslmode,
        }
        rootcert = s.db_sslrootcert or (secret.sslrootcert if secret else None)
        if rootcert:
            params["sslrootcert"] = rootcert
        return params


class StaticPasswordSource(_ComponentSource):
    """``DB_PASSWORD``: nothing to re-read, so :meth:`refresh` changes nothing."""

    label = "DB_PASSWORD"

    def __init__(self, settings: Settings, *, registry: SecretRegistry | None = None) -> None:
        super().__init__(settings, registry or default_secret_registry())
        assert settings.db_password is not None
        self._password = settings.db_password
        self.registry.add(self._password.get_secret_value())

    def connect_params(self) -> dict[str, Any]:
        return self._params(self._password.get_secret_value())


class _CachedSecretSource(_ComponentSource):
    """A secret read from AWS, reused for ``DB_SECRET_CACHE_SECONDS``."""

    service = ""

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory | None,
        *,
        clock: Clock = time.monotonic,
        registry: SecretRegistry | None = None,
    ) -> None:
        super().__init__(settings, registry or default_secret_registry())
        self._session_factory = session_factory
        self._clock = clock
        self._ttl = settings.db_secret_cache_seconds
        self._client: Any = None
        self._cached: tuple[float, ResolvedSecret] | None = None
        self._lock = threading.Lock()
        #: How many times the secret was read from AWS (tests and diagnostics).
        self.fetches = 0

    def connect_params(self) -> dict[str, Any]:
        secret = self.secret()
        return self._params(secret.password, secret)

    def secret(self) -> ResolvedSecret:
        """The cached secret, read again when older than the TTL or after :meth:`refresh`."""
        with self._lock:
            now = self._clock()
            if self._cached is not None and now - self._cached[0] < self._ttl:
                return self._cached[1]
            secret = self._fetch()
            self.fetches += 1
            self.registry.add(secret.password)
            self._cached = (now, secret)
            return secret

    def refresh(self) -> None:
        """Forget the cached secret: the next connection attempt reads it again."""
        with self._lock:
            self._cached = None

    def _region(self) -> str | None:
        return self.settings.aws_region

    def _aws_client(self) -> Any:
        if self._client is None:
            self._client = _make_client(self._session_factory, self.service, self._region())
        return self._client

    def _fetch(self) -> ResolvedSecret:
        raise NotImplementedError


class SecretsManagerSource(_CachedSecretSource):
    """``DB_SECRET_ARN``: the JSON secret RDS writes (username, password, host?, ...)."""

    service = "secretsmanager"

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory | None,
        *,
        clock: Clock = time.monotonic,
        registry: SecretRegistry | None = None,
    ) -> None:
        super().__init__(settings, session_factory, clock=clock, registry=registry)
        assert settings.db_secret_arn
        self.secret_id = settings.db_secret_arn
        self.label = f"secretsmanager:{self.secret_id}"

    def _region(self) -> str | None:
        return self.settings.aws_region or _arn_region(self.secret_id)

    def _fetch(self) -> ResolvedSecret:
        client: SecretsManagerClient = self._aws_client()
        response = _aws_call(
            self.label, "secretsmanager", lambda: client.get_secret_value(SecretId=self.secret_id)
        )
        text = response.get("SecretString")
        if text is None:
            raise ConfigError(
                f"{self.label} holds a binary secret; DB_SECRET_ARN needs the RDS JSON shape "
                '{"username": ..., "password": ...}',
                field="DB_SECRET_ARN",
            )
        try:
            data = json.loads(text)
        except ValueError:
            data = None
        if not isinstance(data, dict) or not isinstance(data.get("password"), str):
            # Never echo the value or the parser's message (it quotes the document).
            raise ConfigError(
                f"{self.label} is not in the RDS JSON shape: expected an object with at least "
                '"password" (and "username"; optionally "host", "port", "dbname")',
                field="DB_SECRET_ARN",
            ) from None
        return _resolved(
            data["password"],
            user=data.get("username"),
            host=data.get("host"),
            port=data.get("port"),
            dbname=data.get("dbname") or data.get("database"),
            label=self.label,
        )


class SsmParameterSource(_CachedSecretSource):
    """``DB_SSM_PARAMETER``: a SecureString holding a postgresql:// URL or a bare password."""

    service = "ssm"

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory | None,
        *,
        clock: Clock = time.monotonic,
        registry: SecretRegistry | None = None,
    ) -> None:
        super().__init__(settings, session_factory, clock=clock, registry=registry)
        name = settings.ssm_parameter_name()
        assert name
        self.name = name
        self.label = f"ssm:{name}"

    def _region(self) -> str | None:
        return self.settings.aws_region or _arn_region(self.name)

    def _fetch(self) -> ResolvedSecret:
        client: SSMClient = self._aws_client()
        response = _aws_call(
            self.label, "ssm", lambda: client.get_parameter(Name=self.name, WithDecryption=True)
        )
        value = response["Parameter"].get("Value", "").strip()
        if not value:
            raise ConfigError(f"{self.label} is empty", field="DB_SSM_PARAMETER")
        if not value.startswith(("postgres://", "postgresql://", "postgresql+psycopg://")):
            return ResolvedSecret(password=value)
        try:
            url = make_url(normalise_database_url(value))
        except Exception:  # never echo the value: it holds the password
            raise ConfigError(
                f"{self.label} holds something that starts like a URL but is not one",
                field="DB_SSM_PARAMETER",
            ) from None
        if not url.password:
            raise ConfigError(
                f"{self.label} holds a URL without a password", field="DB_SSM_PARAMETER"
            )
        query = {k: v if isinstance(v, str) else v[-1] for k, v in url.query.items()}
        return _resolved(
            url.password,
            user=url.username,
            host=url.host,
            port=url.port,
            dbname=url.database,
            label=self.label,
            sslmode=query.get("sslmode"),
            sslrootcert=query.get("sslrootcert"),
        )


class IamTokenSource(_ComponentSource):
    """``DB_IAM_AUTH``: a new RDS auth token for every connection attempt.

    Generating a token is a local SigV4 presign (no network call); it is valid 15 minutes,
    which is why it is made per attempt and never cached or written into the pool's URL.
    """

    label = "iam"

    def __init__(
        self,
        settings: Settings,
        session_factory: SessionFactory | None,
        *,
        registry: SecretRegistry | None = None,
    ) -> None:
        super().__init__(settings, registry or default_secret_registry())
        self._session_factory = session_factory
        self._client: RDSClient | None = None
        self._lock = threading.Lock()
        #: How many tokens were generated (tests and diagnostics).
        self.tokens_generated = 0

    def connect_params(self) -> dict[str, Any]:
        s = self.settings
        assert s.db_host and s.db_user
        port = s.db_port or DEFAULT_PG_PORT
        with self._lock:
            if self._client is None:
                self._client = _make_client(self._session_factory, "rds", s.aws_region)
            client = self._client
        region = s.aws_region or client.meta.region_name
        token = _aws_call(
            self.label,
            "rds",
            lambda: client.generate_db_auth_token(
                DBHostname=s.db_host or "", Port=port, DBUsername=s.db_user or "", Region=region
            ),
        )
        self.registry.add(token)
        self.tokens_generated += 1
        return self._params(token)


# -- helpers ----------------------------------------------------------------------------------


def _resolved(
    password: str,
    *,
    user: Any,
    host: Any,
    port: Any,
    dbname: Any,
    label: str,
    sslmode: str | None = None,
    sslrootcert: str | None = None,
) -> ResolvedSecret:
    port_number: int | None = None
    if port not in (None, ""):
        try:
            port_number = int(port)
        except (TypeError, ValueError):
            raise ConfigError(f"{label} has a port that is not a number", field="DB_PORT") from None
    values = {"user": user, "host": host, "port": port_number, "dbname": dbname}
    return ResolvedSecret(
        password=password,
        user=str(user) if user else None,
        host=str(host) if host else None,
        port=port_number,
        dbname=str(dbname) if dbname else None,
        sslmode=sslmode,
        sslrootcert=sslrootcert,
        provided=frozenset(k for k, v in values.items() if v),
    )


def _arn_region(name: str) -> str | None:
    """The region inside an ARN (arn:aws:secretsmanager:REGION:...), if ``name`` is one."""
    parts = name.split(":")
    if len(parts) > 4 and parts[0] == "arn" and parts[3]:
        return parts[3]
    return None


def _make_client(factory: SessionFactory | None, service: str, region: str | None) -> Any:
    """A client for one credential source; a missing region or a broken config is named."""
    try:
        return client(service, region=region, session_factory=factory)
    except AwsError as exc:
        field = "AWS_REGION" if exc.kind == "no_region" else None
        raise ConfigError(f"{exc.message} (for {service})", field=field) from None


def _aws_call(label: str, service: str, call: Callable[[], T]) -> T:
    """Run one AWS call, turning its failures into our errors (which never hold a secret).

    Transient failures (throttling, AWS unavailable or unreachable) are
    :class:`DatabaseUnavailableError` (retry later); the rest are
    :class:`DatabaseAuthError`: the credentials cannot be had until someone fixes access.
    """
    try:
        with aws_errors(
            f"could not read the database credentials from {label}",
            permission=_PERMISSIONS[service],
        ):
            return call()
    except AwsError as exc:
        if exc.transient:
            raise DatabaseUnavailableError(exc.message) from None
        raise DatabaseAuthError(exc.message, source=label, aws_code=exc.code) from None
