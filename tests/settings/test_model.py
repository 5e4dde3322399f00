"""The settings model: which combinations are refused, TLS defaults, origins, levels."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from rms.errors import ConfigError
from rms.settings import Settings, load_settings

ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:rms-AbCdEf"
DB = {"db_host": "db.example.com", "db_name": "rms", "db_user": "rms"}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No DATABASE_URL/DB_* from the machine or a .env file may leak into these tests."""
    monkeypatch.chdir(tmp_path)
    for name in [*Settings.model_fields, "aws_default_region"]:
        monkeypatch.delenv(name.upper(), raising=False)


@pytest.mark.parametrize(
    ("given", "named"),
    [
        ({"database_url": "postgresql://u@h/d", "db_host": "h"}, ["DATABASE_URL", "DB_HOST"]),
        ({"database_url": "sqlite:///x.db", "db_password": "p"}, ["DATABASE_URL", "DB_PASSWORD"]),
        (
            {"database_url": "postgresql://u@h/d?sslmode=require", "db_sslmode": "disable"},
            ["DATABASE_URL", "DB_SSLMODE"],
        ),
        ({**DB, "db_password": "p", "db_secret_arn": ARN}, ["DB_PASSWORD", "DB_SECRET_ARN"]),
        ({**DB, "db_password": "p", "db_iam_auth": True}, ["DB_PASSWORD", "DB_IAM_AUTH"]),
        (
            {**DB, "db_ssm_parameter": "x", "db_iam_auth": True},
            ["DB_SSM_PARAMETER", "DB_IAM_AUTH"],
        ),
        (DB, ["DB_PASSWORD", "DB_SECRET_ARN", "DB_SSM_PARAMETER", "DB_IAM_AUTH"]),
        ({"db_host": "h", "db_password": "p"}, ["DB_NAME", "DB_USER"]),
        ({"db_host": "h", "db_name": "d", "db_password": "p"}, ["DB_USER"]),
        ({"db_host": "h", "db_user": "u", "db_iam_auth": True}, ["DB_NAME"]),
        ({"db_host": "h", "db_secret_arn": ARN}, ["DB_NAME"]),
        ({**DB, "db_iam_auth": True, "db_sslmode": "prefer"}, ["DB_IAM_AUTH", "DB_SSLMODE"]),
    ],
)
def test_conflicting_or_missing_variables_are_named(
    given: dict[str, Any], named: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(**given)
    for name in named:
        assert name in str(caught.value)
    assert set(caught.value.details["variables"]) >= set(named) - {"DATABASE_URL"}


def test_conflicts_are_found_in_the_environment_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/d")
    monkeypatch.setenv("DB_SECRET_ARN", ARN)
    with pytest.raises(ConfigError, match="DATABASE_URL cannot be combined with DB_SECRET_ARN"):
        load_settings()


@pytest.mark.parametrize(
    "given",
    [
        {},
        {"database_url": "postgresql://u:p@h/d"},
        {**DB, "db_password": "p"},
        {**DB, "db_iam_auth": True},
        {"db_secret_arn": ARN},  # host, name and user may come from the secret
        {"db_ssm_parameter": "database-url"},  # a URL parameter
    ],
)
def test_valid_combinations(given: dict[str, Any]) -> None:
    load_settings(**given)


@pytest.mark.parametrize(
    ("host", "iam", "expected"),
    [
        ("localhost", False, "prefer"),
        ("127.0.0.1", False, "prefer"),
        ("::1", False, "prefer"),
        ("db.cluster-x.eu-west-1.rds.amazonaws.com", False, "verify-full"),
        ("10.0.0.7", False, "verify-full"),
        ("localhost", True, "require"),
        ("db.example.com", True, "verify-full"),
    ],
)
def test_sslmode_defaults(host: str, iam: bool, expected: str) -> None:
    source = {"db_iam_auth": True} if iam else {"db_password": "p"}
    settings = load_settings(db_host=host, db_name="d", db_user="u", **source)
    assert settings.sslmode_for(host) == expected


def test_sslmode_default_applies_to_database_url_hosts() -> None:
    from rms.db.credentials import credentials_from_settings

    remote = credentials_from_settings(load_settings(database_url="postgresql://u:p@db.aws/x"))
    local = credentials_from_settings(load_settings(database_url="postgres://u:p@127.0.0.1/x"))
    assert remote is not None and remote.connect_params() == {"sslmode": "verify-full"}
    assert local is not None and local.connect_params() == {"sslmode": "prefer"}


def test_component_url_never_holds_the_password() -> None:
    settings = load_settings(db_password="pw-in-url?", db_port=6432, **DB)
    assert settings.effective_database_url() == "postgresql+psycopg://rms@db.example.com:6432/rms"
    assert "pw-in-url" not in repr(settings)
    url_settings = load_settings(database_url="postgresql://u:url-Secret@h/d")
    assert "url-Secret" not in repr(url_settings)


def test_rootcert_must_exist(tmp_path: Path) -> None:
    bundle = tmp_path / "global-bundle.pem"
    with pytest.raises(ConfigError, match="DB_SSLROOTCERT"):
        load_settings(db_sslrootcert=str(bundle), db_password="p", **DB)
    bundle.write_text("-----BEGIN CERTIFICATE-----\n")
    assert load_settings(db_sslrootcert=str(bundle), db_password="p", **DB).db_sslrootcert
    assert load_settings(db_sslrootcert="system", db_password="p", **DB).db_sslrootcert == "system"


def test_invalid_values_name_the_variable_without_echoing_them() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(db_port="not-a-port-Secret", db_password="p", **DB)
    assert "DB_PORT" in str(caught.value)
    assert "not-a-port-Secret" not in str(caught.value)


def test_region_from_either_variable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-west-1")
    assert load_settings().aws_region == "eu-west-1"
    monkeypatch.setenv("AWS_REGION", "eu-central-1")
    assert load_settings().aws_region == "eu-central-1"


def test_origins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("DB_HOST=db.example.com\nDB_NAME=rms\nDB_USER=\n")
    monkeypatch.setenv("DB_USER", "rms")
    settings = load_settings(db_password="p")
    assert settings.origin("db_host") == ".env"
    assert settings.origin("db_user") == "env"
    assert settings.origin("db_password") == "override"
    assert settings.origin("db_pool_size") == "default"


def test_env_example_documents_every_setting() -> None:
    import re

    from rms.settings import env_name

    example = (Path(__file__).parents[2] / ".env.example").read_text()
    missing = [
        env_name(name)
        for name in Settings.model_fields
        if not re.search(rf"^# {env_name(name)}=", example, re.MULTILINE)
    ]
    assert missing == []


def test_log_level_is_checked_and_normalised() -> None:
    assert load_settings(log_level="debug").log_level == "DEBUG"
    with pytest.raises(ConfigError, match="LOG_LEVEL: 'LOUD' is not one of DEBUG"):
        load_settings(log_level="LOUD")
