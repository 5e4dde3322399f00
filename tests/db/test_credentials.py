"""Credential sources against moto: Secrets Manager, SSM Parameter Store, RDS IAM tokens."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import boto3
import pytest

from rms.db.credentials import (
    IamTokenSource,
    SecretsManagerSource,
    SsmParameterSource,
    StaticPasswordSource,
    UrlTlsSource,
    credentials_from_settings,
)
from rms.errors import ConfigError, DatabaseAuthError
from rms.settings import load_settings
from tests.db.pg_tls import REGION, fixture_aws  # noqa: F401

Factory = Callable[[], boto3.session.Session]


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _rds_secret(aws: Factory, value: dict[str, Any], name: str = "rds-master") -> str:
    client = aws().client("secretsmanager")
    return client.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]


def _put_secret(aws: Factory, arn: str, value: dict[str, Any]) -> None:
    aws().client("secretsmanager").put_secret_value(SecretId=arn, SecretString=json.dumps(value))


def test_nothing_is_created_before_the_first_connection(aws: Factory) -> None:
    calls: list[int] = []

    def factory() -> boto3.session.Session:
        calls.append(1)
        return aws()

    settings = load_settings(db_secret_arn="arn:aws:secretsmanager:us-east-1:1:secret:x")
    source = credentials_from_settings(settings, session_factory=factory)
    assert isinstance(source, SecretsManagerSource)
    assert calls == []


def test_secrets_manager_rds_shape_fills_what_is_not_set(aws: Factory) -> None:
    arn = _rds_secret(
        aws,
        {
            "engine": "postgres",
            "username": "master",
            "password": "s3cret-One",
            "host": "db.cluster-x.us-east-1.rds.amazonaws.com",
            "port": 5433,
            "dbname": "rms",
        },
    )
    settings = load_settings(db_secret_arn=arn)
    source = credentials_from_settings(settings, session_factory=aws)
    assert source is not None
    params = source.connect_params()
    assert params == {
        "host": "db.cluster-x.us-east-1.rds.amazonaws.com",
        "port": 5433,
        "dbname": "rms",
        "user": "master",
        "password": "s3cret-One",
        "sslmode": "verify-full",
    }
    # Explicit DB_* values win over the secret's; the user always comes with the password.
    explicit = load_settings(
        db_secret_arn=arn, db_host="proxy.local.example", db_name="other", db_user="someone"
    )
    params = credentials_from_settings(explicit, session_factory=aws).connect_params()  # type: ignore[union-attr]
    assert (params["host"], params["dbname"], params["user"]) == (
        "proxy.local.example",
        "other",
        "master",
    )


def test_managed_master_secret_needs_host_and_name_from_settings(aws: Factory) -> None:
    arn = _rds_secret(aws, {"username": "postgres", "password": "managed-Pw"})
    with_host = load_settings(db_secret_arn=arn, db_host="db.example.com", db_name="rms")
    params = credentials_from_settings(with_host, session_factory=aws).connect_params()  # type: ignore[union-attr]
    assert params["user"] == "postgres"
    assert params["port"] == 5432
    bare = load_settings(db_secret_arn=arn)
    source = credentials_from_settings(bare, session_factory=aws)
    assert source is not None
    with pytest.raises(ConfigError, match="DB_HOST and DB_NAME"):
        source.connect_params()


def test_secret_is_cached_for_the_ttl_and_refresh_rereads_it(aws: Factory) -> None:
    arn = _rds_secret(
        aws, {"username": "u", "password": "first-Pw", "host": "h.example", "dbname": "d"}
    )
    clock = FakeClock()
    settings = load_settings(db_secret_arn=arn, db_secret_cache_seconds=60)
    source = SecretsManagerSource(settings, aws, clock=clock)
    assert source.connect_params()["password"] == "first-Pw"
    _put_secret(
        aws, arn, {"username": "u", "password": "second-Pw", "host": "h.example", "dbname": "d"}
    )
    clock.now += 59
    assert source.connect_params()["password"] == "first-Pw"  # still cached
    assert source.fetches == 1
    source.refresh()  # what the connector does after a refused password
    assert source.connect_params()["password"] == "second-Pw"
    _put_secret(
        aws, arn, {"username": "u", "password": "third-Pw", "host": "h.example", "dbname": "d"}
    )
    clock.now += 61  # the TTL ran out
    assert source.connect_params()["password"] == "third-Pw"
    assert source.fetches == 3


def test_malformed_secret_is_refused_without_echoing_it(aws: Factory) -> None:
    arn = _rds_secret(aws, {"user": "u", "pass": "do-not-print-Me"})
    source = credentials_from_settings(
        load_settings(db_secret_arn=arn, db_host="h.example", db_name="d"), session_factory=aws
    )
    with pytest.raises(ConfigError) as caught:
        source.connect_params()  # type: ignore[union-attr]
    assert "RDS JSON shape" in str(caught.value)
    assert "do-not-print-Me" not in str(caught.value)
    client = aws().client("secretsmanager")
    arn2 = client.create_secret(Name="not-json", SecretString="do-not-print-Me-2")["ARN"]
    source = credentials_from_settings(
        load_settings(db_secret_arn=arn2, db_host="h.example", db_name="d"), session_factory=aws
    )
    with pytest.raises(ConfigError) as caught:
        source.connect_params()  # type: ignore[union-attr]
    assert "do-not-print-Me-2" not in str(caught.value)
    assert caught.value.__cause__ is None


def test_missing_secret_is_an_auth_error_naming_it(aws: Factory) -> None:
    arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:gone-AbCdEf"
    source = credentials_from_settings(
        load_settings(db_secret_arn=arn, db_host="h.example", db_name="d"), session_factory=aws
    )
    with pytest.raises(DatabaseAuthError, match="ResourceNotFoundException") as caught:
        source.connect_params()  # type: ignore[union-attr]
    assert f"secretsmanager:{arn}" in str(caught.value)


def test_ssm_secure_string_with_a_url(aws: Factory) -> None:
    aws().client("ssm").put_parameter(
        Name="/rms/prod/database-url",
        Type="SecureString",
        Value="postgresql://app:url-Pa55@db.example.com:6432/rms?sslmode=verify-ca",
    )
    settings = load_settings(environment="prod", db_ssm_parameter="database-url")
    source = credentials_from_settings(settings, session_factory=aws)
    assert isinstance(source, SsmParameterSource)
    assert source.label == "ssm:/rms/prod/database-url"
    assert source.connect_params() == {
        "host": "db.example.com",
        "port": 6432,
        "dbname": "rms",
        "user": "app",
        "password": "url-Pa55",
        "sslmode": "verify-ca",
    }


def test_ssm_secure_string_with_a_bare_password(aws: Factory) -> None:
    aws().client("ssm").put_parameter(
        Name="/rms/dev/db-password", Type="SecureString", Value="bare-Pa55\n"
    )
    settings = load_settings(
        db_ssm_parameter="/rms/dev/db-password", db_host="localhost", db_name="rms", db_user="rms"
    )
    params = credentials_from_settings(settings, session_factory=aws).connect_params()  # type: ignore[union-attr]
    assert params["password"] == "bare-Pa55"
    assert params["user"] == "rms"
    assert params["sslmode"] == "prefer"  # localhost
    without_user = load_settings(
        db_ssm_parameter="/rms/dev/db-password", db_host="localhost", db_name="rms"
    )
    source = credentials_from_settings(without_user, session_factory=aws)
    with pytest.raises(ConfigError, match="DB_USER"):
        source.connect_params()  # type: ignore[union-attr]


def test_missing_ssm_parameter_names_it(aws: Factory) -> None:
    settings = load_settings(db_ssm_parameter="nope", db_host="h.example", db_name="d")
    source = credentials_from_settings(settings, session_factory=aws)
    with pytest.raises(DatabaseAuthError, match=r"ssm:/rms/dev/nope.*ParameterNotFound"):
        source.connect_params()  # type: ignore[union-attr]


class _SpyRds:
    """Wraps a real (moto-backed) RDS client, counting token generations."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.meta = client.meta
        self.calls: list[dict[str, Any]] = []
        self.tokens: list[str] = []

    def generate_db_auth_token(self, **kwargs: Any) -> str:
        self.calls.append(kwargs)
        token: str = self._client.generate_db_auth_token(**kwargs)
        self.tokens.append(token)
        return token


class _SpySession:
    def __init__(self, session: boto3.session.Session) -> None:
        self.session = session
        self.rds: _SpyRds | None = None

    def client(self, service: str, **kwargs: Any) -> Any:
        assert service == "rds"
        self.rds = _SpyRds(self.session.client("rds", **kwargs))
        return self.rds


def test_iam_token_is_generated_for_every_connection(aws: Factory) -> None:
    spy = _SpySession(aws())
    settings = load_settings(
        db_iam_auth=True,
        db_host="db.example.com",
        db_port=5432,
        db_name="rms",
        db_user="rms_iam",
        aws_region=REGION,
    )
    source = credentials_from_settings(settings, session_factory=lambda: spy)  # type: ignore[arg-type,return-value]
    assert isinstance(source, IamTokenSource)
    first = source.connect_params()
    second = source.connect_params()
    assert spy.rds is not None
    assert len(spy.rds.calls) == 2
    assert spy.rds.calls[0] == {
        "DBHostname": "db.example.com",
        "Port": 5432,
        "DBUsername": "rms_iam",
        "Region": REGION,
    }
    assert first["password"] == spy.rds.tokens[0]
    assert second["password"] == spy.rds.tokens[1]
    assert first["password"].startswith("db.example.com:5432/?Action=connect&DBUser=rms_iam")
    assert "X-Amz-Signature=" in first["password"]
    assert first["sslmode"] == "verify-full"
    source.refresh()  # nothing cached: still fine
    assert source.tokens_generated == 2


def test_iam_without_a_region_is_a_config_error(monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    settings = load_settings(db_iam_auth=True, db_host="h.example", db_name="d", db_user="u")
    source = credentials_from_settings(settings)
    with pytest.raises(ConfigError, match="AWS_REGION"):
        source.connect_params()  # type: ignore[union-attr]


def test_static_password_and_url_sources() -> None:
    static = credentials_from_settings(
        load_settings(db_host="10.0.0.5", db_name="rms", db_user="rms", db_password="pw-Static")
    )
    assert isinstance(static, StaticPasswordSource)
    assert static.connect_params()["sslmode"] == "verify-full"
    url = credentials_from_settings(load_settings(database_url="postgresql://u:p@localhost/x"))
    assert isinstance(url, UrlTlsSource)
    assert url.connect_params() == {"sslmode": "prefer"}
    own = credentials_from_settings(
        load_settings(database_url="postgresql://u:p@db.example.com/x?sslmode=require")
    )
    assert own is not None and own.connect_params() == {}
    assert credentials_from_settings(load_settings(database_url="sqlite:///x.db")) is None
