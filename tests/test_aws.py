"""``rms.aws``: clients from one place, and every botocore failure in words a person can use."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.exceptions import (
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
)

from rms.aws import aws_errors, client, translate_aws_error
from rms.errors import AwsError
from rms.secrets import default_secret_registry


def _client_error(code: str, message: str = "") -> ClientError:
    return ClientError({"Error": {"Code": code, "Message": message}}, "GetParameter")


@pytest.mark.parametrize(
    ("exc", "kind", "transient", "says"),
    [
        (
            _client_error("AccessDeniedException", "User: arn:aws:iam::1:role/r is not authorized"),
            "denied",
            False,
            "access denied (AccessDeniedException): the role needs ssm:GetParameter "
            "(AWS said: User: arn:aws:iam::1:role/r is not authorized)",
        ),
        (_client_error("ThrottlingException"), "throttled", True, "throttled by AWS"),
        (_client_error("ServiceUnavailable"), "unavailable", True, "AWS is unavailable"),
        (_client_error("ParameterNotFound", "no such"), "not_found", False, "not found"),
        (_client_error("ValidationException", "bad name"), "failed", False, "ValidationException"),
        (NoCredentialsError(), "no_credentials", False, "no AWS credentials found"),
        (NoRegionError(), "no_region", False, "set AWS_REGION"),
        (
            EndpointConnectionError(endpoint_url="http://127.0.0.1:1"),
            "unreachable",
            True,
            "cannot reach AWS",
        ),
    ],
)
def test_each_failure_gets_a_kind_and_a_reason(
    exc: Exception, kind: str, transient: bool, says: str
) -> None:
    error = translate_aws_error(exc, "cannot read X", permission="ssm:GetParameter")
    assert (error.kind, error.transient) == (kind, transient)
    assert error.message.startswith("cannot read X: ")
    assert says in error.message
    if kind == "no_region":
        assert error.field == "AWS_REGION"


def test_known_secrets_are_masked_in_aws_messages() -> None:
    default_secret_registry().add("Leaked-In-Message-3")
    error = translate_aws_error(_client_error("Weird", "value Leaked-In-Message-3"), "x")
    assert "Leaked-In-Message-3" not in error.message


def test_aws_errors_raises_without_the_botocore_chain() -> None:
    with pytest.raises(AwsError) as caught, aws_errors("cannot do it", permission="p:Q"):
        raise _client_error("AccessDenied")
    assert caught.value.__cause__ is None and caught.value.__suppress_context__
    assert "the role needs p:Q" in caught.value.message


def test_client_honours_the_session_factory_and_aws_endpoint_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    made: list[str] = []

    def factory() -> Any:
        made.append("session")
        return boto3.session.Session(aws_access_key_id="testing", aws_secret_access_key="testing")

    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5999")
    ssm = client("ssm", region="eu-west-1", session_factory=factory)
    assert made == ["session"]
    assert ssm.meta.region_name == "eu-west-1"
    assert ssm.meta.endpoint_url == "http://127.0.0.1:5999"


def test_no_region_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_REGION", "AWS_DEFAULT_REGION", "AWS_PROFILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_CONFIG_FILE", "/nonexistent")
    with pytest.raises(AwsError) as caught:
        client("ssm")
    assert caught.value.kind == "no_region"
    assert "cannot create the AWS ssm client: no AWS region: set AWS_REGION" in str(caught.value)
