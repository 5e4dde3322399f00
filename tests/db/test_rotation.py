"""Password rotation against a real PostgreSQL while the service runs, and no leaks.

The role's password is changed with ALTER ROLE, as Secrets Manager rotation does. When the
secret is updated too, the next request succeeds with no restart (the connector re-reads
the secret once after the refusal). When it is not, the request fails with a clear
:class:`DatabaseAuthError` after exactly two attempts: no retry loop.
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Callable
from typing import Any

import boto3
import pytest
from sqlalchemy import Engine, text

from rms.app import create_app
from rms.config_cli import settings_rows
from rms.db.connect import RetryPolicy
from rms.db.credentials import SecretsManagerSource, credentials_from_settings
from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.db.observe import DbObserver
from rms.errors import ConfigError, DatabaseAuthError
from rms.schema.migrations import upgrade
from rms.settings import Settings, load_settings
from tests.api.conftest import signed_in_client
from tests.db.pg_tls import (  # noqa: F401
    REGION,
    TlsCluster,
    fixture_aws,
    fixture_make_role,
    fixture_tls_cluster,
)

Factory = Callable[[], boto3.session.Session]
FAST = RetryPolicy(
    budget_seconds=5, initial_backoff_seconds=0.01, max_backoff_seconds=0.02, sleep=lambda _s: None
)


def _secret(aws: Factory, role: str, password: str, port: int) -> str:
    value = {
        "username": role,
        "password": password,
        "host": "localhost",
        "port": port,
        "dbname": role,
        "engine": "postgres",
    }
    return (
        aws()
        .client("secretsmanager")
        .create_secret(Name=f"{role}-secret", SecretString=json.dumps(value))["ARN"]
    )


def _update_secret(aws: Factory, arn: str, password: str) -> None:
    client = aws().client("secretsmanager")
    value = json.loads(client.get_secret_value(SecretId=arn)["SecretString"])
    value["password"] = password
    client.put_secret_value(SecretId=arn, SecretString=json.dumps(value))


def _settings(cluster: TlsCluster, arn: str) -> Settings:
    return load_settings(
        db_secret_arn=arn,
        db_sslmode="verify-full",
        db_sslrootcert=str(cluster.pki.ca),
        aws_region=REGION,
    )


def _terminate(cluster: TlsCluster, role: str) -> None:
    with cluster.admin() as conn:
        conn.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,)
        )


def _engine(settings: Settings, aws: Factory, observer: DbObserver) -> tuple[Engine, Any]:
    source = credentials_from_settings(settings, session_factory=aws)
    engine = create_db_engine(settings, observer=observer, credentials=source, policy=FAST)
    return engine, source


def test_rotation_without_restart(
    tls_cluster: TlsCluster, make_role: Callable[[str], str], aws: Factory
) -> None:
    role = make_role("rot-old-Pw1")
    arn = _secret(aws, role, "rot-old-Pw1", tls_cluster.port)
    settings = _settings(tls_cluster, arn)
    observer = DbObserver()
    engine, source = _engine(settings, aws, observer)
    assert isinstance(source, SecretsManagerSource)
    upgrade(engine)
    db = Database(engine, observer=observer, policy=FAST)
    with signed_in_client(create_app(settings, db=db)) as client:
        assert client.get("/api/accounts").status_code == 200

        # Rotation: the password changes in the database and in the secret; the pool's
        # connections are dropped by the server (as after an idle release or a failover).
        with tls_cluster.admin() as conn:
            conn.execute(f"ALTER ROLE {role} PASSWORD 'rot-new-Pw2'")
        _update_secret(aws, arn, "rot-new-Pw2")
        _terminate(tls_cluster, role)

        attempts_before = observer.connect_attempts._value.get()
        response = client.get("/api/accounts")
        assert response.status_code == 200, response.text
        # One refused attempt with the cached old password, one with the re-read secret.
        assert observer.connect_attempts._value.get() - attempts_before == 2
        assert observer.retries.labels(reason="connect_auth_refresh")._value.get() == 1
        assert source.fetches == 2
    engine.dispose()


def test_second_refusal_fails_clearly_without_a_loop(
    tls_cluster: TlsCluster, make_role: Callable[[str], str], aws: Factory
) -> None:
    role = make_role("stale-Pw1")
    arn = _secret(aws, role, "stale-Pw1", tls_cluster.port)
    settings = _settings(tls_cluster, arn)
    observer = DbObserver()
    engine, source = _engine(settings, aws, observer)
    db = Database(engine, observer=observer, policy=FAST)
    assert db.run(lambda s: s.execute(text("select 1")).scalar_one()) == 1

    with tls_cluster.admin() as conn:
        conn.execute(f"ALTER ROLE {role} PASSWORD 'stale-Pw2'")  # the secret is NOT updated
    _terminate(tls_cluster, role)
    before = observer.connect_attempts._value.get()
    with pytest.raises(DatabaseAuthError) as caught:
        db.run(lambda s: s.execute(text("select 1")).scalar_one())
    assert observer.connect_attempts._value.get() - before == 2
    assert source.fetches == 2  # read once more after the refusal, then gave up
    assert "refused the credentials after 2 attempt(s)" in str(caught.value)
    assert "password authentication failed" in str(caught.value)
    engine.dispose()


def _everything_said(
    exc: BaseException, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> str:
    captured = capsys.readouterr()
    formatted = "".join(traceback.format_exception(exc))
    records = "\n".join(f"{r.getMessage()}\n{r.exc_text or ''}" for r in caplog.records)
    return "\n".join(
        [str(exc), repr(exc), formatted, captured.out, captured.err, records, caplog.text]
    )


def test_failing_connection_leaks_no_secret(
    tls_cluster: TlsCluster,
    make_role: Callable[[str], str],
    aws: Factory,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)  # botocore, SQLAlchemy and our own loggers, all of it
    role = make_role("right-Pw-xyz")
    wrong = "Wr0ng-S3cret-Value-9f2c"
    arn = _secret(aws, role, wrong, tls_cluster.port)
    settings = _settings(tls_cluster, arn)
    engine, _ = _engine(settings, aws, DbObserver())
    db = Database(engine, policy=FAST)
    with signed_in_client(create_app(settings, db=db)) as client:
        response = client.get("/api/accounts")
    assert response.status_code == 503
    with pytest.raises(DatabaseAuthError) as caught:
        db.run(lambda s: s.execute(text("select 1")))
    engine.dispose()
    rows = settings_rows(settings, resolve=True)
    said = (
        _everything_said(caught.value, capsys, caplog) + response.text + repr(rows) + repr(settings)
    )
    assert "password authentication failed" in said  # the failure itself is reported
    assert wrong not in said
    assert "right-Pw-xyz" not in said
    assert arn in said  # where the secret lives is fine to show


def test_failing_iam_login_leaks_no_token(
    tls_cluster: TlsCluster,
    make_role: Callable[[str], str],
    aws: Factory,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The server refuses the token (no rds_iam here): nothing shows the token."""
    caplog.set_level(logging.DEBUG)
    role = make_role("iam-role-Pw")
    settings = load_settings(
        db_iam_auth=True,
        db_host="localhost",
        db_port=tls_cluster.port,
        db_name=role,
        db_user=role,
        db_sslmode="verify-full",
        db_sslrootcert=str(tls_cluster.pki.ca),
        aws_region=REGION,
    )
    source = credentials_from_settings(settings, session_factory=aws)
    tokens: list[str] = []

    class Spy:
        def connect_params(self) -> dict[str, Any]:
            params = source.connect_params()  # type: ignore[union-attr]
            tokens.append(params["password"])
            return params

        def refresh(self) -> None:
            source.refresh()  # type: ignore[union-attr]

    engine = create_db_engine(settings, credentials=Spy(), policy=FAST)
    with pytest.raises(DatabaseAuthError) as caught, engine.connect():
        pass
    engine.dispose()
    said = _everything_said(caught.value, capsys, caplog)
    assert len(tokens) == 2  # one per attempt, never reused
    for token in tokens:
        assert token not in said
        assert token.split("X-Amz-Signature=")[1] not in said


def test_failing_secret_fetch_leaks_nothing(
    aws: Factory, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    client = aws().client("secretsmanager")
    arn = client.create_secret(Name="broken", SecretString="not json: Leaky-Pw-771")["ARN"]
    settings = load_settings(db_secret_arn=arn, db_host="localhost", db_name="x", aws_region=REGION)
    engine = create_db_engine(
        settings, policy=FAST, credentials=credentials_from_settings(settings, session_factory=aws)
    )
    with pytest.raises(ConfigError) as caught, engine.connect():
        pass
    engine.dispose()
    said = _everything_said(caught.value, capsys, caplog)
    assert "RDS JSON shape" in said
    assert "Leaky-Pw-771" not in said
