"""``rms config show``: every setting, where it came from, and no secret in the output."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto import mock_aws

from rms.secrets import MASK
from rms.settings import Settings, env_name
from tests.rms_cli import run_rms

REGION = "us-east-1"


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.chdir(tmp_path)
    for name in [*Settings.model_fields, "aws_default_region", "aws_profile"]:
        monkeypatch.delenv(name.upper(), raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        yield


def _show(*args: str) -> dict[str, dict[str, str]]:
    result = run_rms("config", "show", "--format", "json", *args)
    assert result.exit_code == 0, result.output
    data: dict[str, dict[str, str]] = json.loads(result.output)
    return data


def test_every_setting_is_listed_with_its_origin(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    (tmp_path / ".env").write_text("DB_POOL_SIZE=7\n")
    monkeypatch.setenv("DATABASE_URL", "postgresql://rms:url-Pw-123@db.example.com/rms")
    data = _show()
    assert {env_name(n) for n in Settings.model_fields} <= set(data)
    assert data["DB_POOL_SIZE"] == {"value": "7", "source": ".env"}
    assert data["DATABASE_URL"] == {
        "value": f"postgresql://rms:{MASK}@db.example.com/rms",
        "source": "env",
    }
    assert data["DB_SSLMODE"] == {"value": "verify-full", "source": "default (non-local host)"}
    assert data["DB_IDLE_RELEASE_SECONDS"]["source"] == "default"


def test_password_source(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "DB_HOST": "localhost",
        "DB_NAME": "rms",
        "DB_USER": "rms",
        "DB_PASSWORD": "plain-Pw-456",
    }.items():
        monkeypatch.setenv(key, value)
    result = run_rms("config", "show")
    assert result.exit_code == 0, result.output
    assert "plain-Pw-456" not in result.output
    assert MASK in result.output
    data = _show()
    assert data["DB_PASSWORD"] == {"value": MASK, "source": "env"}
    assert data["DB_SSLMODE"] == {"value": "prefer", "source": "default (local host)"}
    assert data["(database)"]["value"] == "postgresql+psycopg://rms@localhost:5432/rms"


def test_secrets_manager_source(monkeypatch: pytest.MonkeyPatch) -> None:
    arn = boto3.client("secretsmanager", region_name=REGION).create_secret(
        Name="rds-master",
        SecretString=json.dumps(
            {
                "username": "master",
                "password": "sm-Pw-789",
                "host": "db.rds.example.com",
                "port": 5432,
                "dbname": "rms",
            }
        ),
    )["ARN"]
    monkeypatch.setenv("DB_SECRET_ARN", arn)
    label = f"secretsmanager:{arn}"
    offline = _show()
    assert offline["DB_PASSWORD"] == {"value": MASK, "source": label}
    assert offline["DB_USER"]["source"] == label
    resolved = _show("--resolve")
    assert resolved["DB_HOST"] == {"value": "db.rds.example.com", "source": label}
    assert resolved["DB_USER"] == {"value": "master", "source": label}
    assert resolved["DB_NAME"] == {"value": "rms", "source": label}
    assert resolved["DB_SSLMODE"]["value"] == "verify-full"
    result = run_rms("config", "show", "--resolve")
    assert "sm-Pw-789" not in result.output
    assert "db.rds.example.com" in result.output


def test_ssm_source(monkeypatch: pytest.MonkeyPatch) -> None:
    boto3.client("ssm", region_name=REGION).put_parameter(
        Name="/rms/prod/database-url",
        Type="SecureString",
        Value="postgresql://app:ssm-Pw-321@db.example.com:6432/rms",
    )
    monkeypatch.setenv("ENVIRONMENT", "prod")
    monkeypatch.setenv("DB_SSM_PARAMETER", "database-url")
    data = _show("--resolve")
    label = "ssm:/rms/prod/database-url"
    assert data["DB_PASSWORD"] == {"value": MASK, "source": label}
    assert data["DB_HOST"] == {"value": "db.example.com", "source": label}
    assert data["DB_PORT"] == {"value": "6432", "source": label}
    assert data["DB_USER"] == {"value": "app", "source": label}
    result = run_rms("config", "show", "--resolve", "--format", "json")
    assert "ssm-Pw-321" not in result.output


def test_iam_source(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in {
        "DB_HOST": "db.example.com",
        "DB_NAME": "rms",
        "DB_USER": "rms_iam",
        "DB_IAM_AUTH": "true",
    }.items():
        monkeypatch.setenv(key, value)
    data = _show("--resolve")
    assert data["DB_PASSWORD"] == {"value": MASK, "source": "iam"}
    assert data["DB_IAM_AUTH"] == {"value": "true", "source": "env"}
    assert data["DB_USER"] == {"value": "rms_iam", "source": "env"}
    assert data["AWS_REGION"] == {"value": REGION, "source": "env"}


def test_conflicts_are_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@h/d")
    monkeypatch.setenv("DB_HOST", "h")
    result = run_rms("config", "show")
    assert result.exit_code == 2
    assert result.error_lines == [result.stderr.strip()]
    assert "error: DATABASE_URL cannot be combined with DB_HOST" in result.stderr
