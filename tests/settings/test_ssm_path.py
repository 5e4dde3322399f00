"""``SSM_PARAMETER_PATH``: settings read once from SSM Parameter Store, below env and .env."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws

from rms.errors import ConfigError
from rms.secrets import MASK, default_secret_registry
from rms.settings import Settings, load_settings
from tests.rms_cli import run_rms

REGION = "us-east-1"
PATH = "/rms/prod/"
ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:rds-AbCdEf"

#: What infra/modules/app-config writes (all String parameters).
APP_CONFIG = {
    "DB_HOST": "db.cluster-x.us-east-1.rds.amazonaws.com",
    "DB_PORT": "5433",
    "DB_NAME": "rms",
    "DB_USER": "rms_app",
    "DB_SECRET_ARN": ARN,
    "DB_SSLMODE": "verify-full",
    "DB_IDLE_RELEASE_SECONDS": "45",
    "DB_COLD_START_BUDGET_SECONDS": "60",
    "ENVIRONMENT": "prod",
    "METRICS_EMF_ENABLED": "true",
}


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for name in [*Settings.model_fields, "aws_default_region", "aws_profile"]:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "no-aws-config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "no-aws-credentials"))
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def _put(values: dict[str, str], *, path: str = PATH, kind: str = "String") -> None:
    client = boto3.client("ssm", region_name=REGION)
    for name, value in values.items():
        client.put_parameter(Name=f"{path.rstrip('/')}/{name}", Value=value, Type=kind)


def _show(*args: str) -> dict[str, dict[str, str]]:
    result = run_rms("config", "show", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, dict[str, str]] = json.loads(result.output)
    return data


def _no_aws() -> boto3.session.Session:
    raise AssertionError("no boto3 session may be made without SSM_PARAMETER_PATH")


def test_parameters_under_the_path_fill_the_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    # 12 parameters: more than one page (GetParametersByPath returns at most 10).
    _put({**APP_CONFIG, "LOG_LEVEL": "DEBUG", "DB_POOL_SIZE": "3"})
    _put({"NESTED_IS_NOT_READ": "x"}, path=f"{PATH}deeper/")
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    calls: list[int] = []

    def factory() -> boto3.session.Session:
        calls.append(1)
        return boto3.session.Session()

    settings = load_settings(session_factory=factory)
    assert calls == [1]  # read once
    assert settings.db_host == APP_CONFIG["DB_HOST"]
    assert settings.db_port == 5433
    assert settings.db_name == "rms"
    assert settings.db_user == "rms_app"
    assert settings.db_secret_arn == ARN
    assert settings.password_source == "DB_SECRET_ARN"
    assert settings.db_sslmode == "verify-full"
    assert settings.db_idle_release_seconds == 45
    assert settings.db_cold_start_budget_seconds == 60
    assert settings.environment == "prod"
    assert settings.metrics_emf_enabled is True
    assert settings.log_level == "DEBUG"
    assert settings.db_pool_size == 3
    assert settings.origin("db_host") == "ssm:/rms/prod/DB_HOST"
    assert settings.origin("ssm_parameter_path") == "env"
    assert settings.origin("db_max_overflow") == "default"


def test_env_and_dotenv_and_overrides_win_over_ssm(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    _put(APP_CONFIG)
    (tmp_path / ".env").write_text("SSM_PARAMETER_PATH=/rms/prod\nDB_NAME=from_dotenv\n")
    monkeypatch.setenv("DB_HOST", "proxy.example.com")
    settings = load_settings(db_port=6543)
    assert settings.db_host == "proxy.example.com"
    assert settings.origin("db_host") == "env"
    assert settings.db_name == "from_dotenv"
    assert settings.origin("db_name") == ".env"
    assert settings.db_port == 6543
    assert settings.origin("db_port") == "override"
    assert settings.db_user == "rms_app"
    assert settings.origin("db_user") == "ssm:/rms/prod/DB_USER"
    assert settings.origin("ssm_parameter_path") == ".env"


def test_config_show_names_the_parameter_and_masks_secure_strings(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _put({"DB_HOST": "db.example.com", "DB_NAME": "rms", "LOG_LEVEL": "WARNING"})
    _put({"DB_USER": "Secure-User-77", "DB_PASSWORD": "ssm-Path-Pw-901"}, kind="SecureString")
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    data = _show()
    assert data["DB_HOST"] == {"value": "db.example.com", "source": "ssm:/rms/prod/DB_HOST"}
    assert data["LOG_LEVEL"] == {"value": "WARNING", "source": "ssm:/rms/prod/LOG_LEVEL"}
    assert data["DB_PASSWORD"] == {"value": MASK, "source": "ssm:/rms/prod/DB_PASSWORD"}
    assert data["DB_USER"] == {"value": MASK, "source": "ssm:/rms/prod/DB_USER"}
    assert data["SSM_PARAMETER_PATH"] == {"value": PATH, "source": "env"}
    for args in (["show"], ["show", "--format", "json"]):
        result = run_rms("config", *args)
        assert result.exit_code == 0, result.output
        assert "ssm-Path-Pw-901" not in result.output
        assert "Secure-User-77" not in result.output
        assert "ssm:/rms/prod/DB_HOST" in result.output
    assert "ssm-Path-Pw-901" in default_secret_registry().values()
    assert "Secure-User-77" in default_secret_registry().values()


def test_unknown_and_bootstrap_names_are_ignored_with_a_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    _put({"DB_HOST": "h", "DB_NAME": "d", "DB_USER": "u", "DB_SECRET_ARN": ARN})
    _put({"FEATURE_X": "on", "AWS_REGION": "eu-west-1"})
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    with caplog.at_level(logging.WARNING, logger="rms.settings"):
        settings = load_settings()
    assert settings.db_host == "h"
    assert settings.aws_region == REGION
    warnings = [r.getMessage() for r in caplog.records if r.name == "rms.settings"]
    assert any("/rms/prod/FEATURE_X" in w and "no setting" in w for w in warnings)
    assert any("/rms/prod/AWS_REGION" in w for w in warnings)
    assert not any("eu-west-1" in w or "on," in w for w in warnings)  # names, not values


def test_no_aws_call_without_the_path() -> None:
    settings = load_settings(session_factory=_no_aws)
    assert settings.ssm_parameter_path is None
    assert Settings().db_host is None  # building Settings directly never reads SSM either


def test_missing_region(monkeypatch: pytest.MonkeyPatch) -> None:
    _put(APP_CONFIG)
    monkeypatch.delenv("AWS_DEFAULT_REGION")
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    with pytest.raises(ConfigError) as caught:
        load_settings(session_factory=boto3.session.Session)
    message = str(caught.value)
    assert "SSM_PARAMETER_PATH" in message and "AWS_REGION" in message
    assert caught.value.field == "SSM_PARAMETER_PATH"


@pytest.mark.parametrize("path", ["/rms/empty/", "/nothing/here"])
def test_empty_or_missing_path(monkeypatch: pytest.MonkeyPatch, path: str) -> None:
    _put(APP_CONFIG)
    monkeypatch.setenv("SSM_PARAMETER_PATH", path)
    with pytest.raises(ConfigError, match=r"SSM_PARAMETER_PATH.*no parameters"):
        load_settings()


def test_path_must_be_absolute(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SSM_PARAMETER_PATH", "rms/prod")
    with pytest.raises(ConfigError, match=r"SSM_PARAMETER_PATH.*must start with /"):
        load_settings(session_factory=_no_aws)


class _StubbedSession:
    """A session whose SSM client answers GetParametersByPath with an AWS error."""

    def __init__(self, code: str) -> None:
        self.ssm = boto3.client("ssm", region_name=REGION)
        stubber = Stubber(self.ssm)
        stubber.add_client_error(
            "get_parameters_by_path",
            service_error_code=code,
            service_message=f"{code} for arn:aws:iam::123456789012:role/rms",
            http_status_code=400,
        )
        stubber.activate()

    def client(self, service: str, region_name: str | None = None) -> Any:
        assert service == "ssm"
        return self.ssm


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        ("AccessDeniedException", "access denied"),
        ("ThrottlingException", "throttled"),
        ("ValidationException", "ValidationException"),
    ],
)
def test_aws_errors_are_config_errors(
    monkeypatch: pytest.MonkeyPatch, code: str, reason: str
) -> None:
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    session = _StubbedSession(code)
    with pytest.raises(ConfigError) as caught:
        load_settings(session_factory=lambda: cast(boto3.session.Session, session))
    assert f"SSM_PARAMETER_PATH={PATH}" in str(caught.value)
    assert reason in str(caught.value)
    assert caught.value.__cause__ is None


def test_invalid_value_names_the_parameter_not_the_value(monkeypatch: pytest.MonkeyPatch) -> None:
    _put({"DB_PORT": "not-a-port-Value-5"})
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    with pytest.raises(ConfigError) as caught:
        load_settings()
    assert "DB_PORT (from ssm:/rms/prod/DB_PORT)" in str(caught.value)
    assert "not-a-port-Value-5" not in str(caught.value)


def test_conflicts_name_the_parameter(monkeypatch: pytest.MonkeyPatch) -> None:
    _put({"DB_HOST": "db.example.com"})
    monkeypatch.setenv("SSM_PARAMETER_PATH", PATH)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/d")
    with pytest.raises(ConfigError) as caught:
        load_settings()
    message = str(caught.value)
    assert "DATABASE_URL cannot be combined with DB_HOST" in message
    assert "DB_HOST from ssm:/rms/prod/DB_HOST" in message
