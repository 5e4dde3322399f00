"""The one road to AWS: boto3 sessions and clients, and botocore errors as ``rms`` errors.

Every AWS call of the package (the ``SSM_PARAMETER_PATH`` settings, Secrets Manager, SSM and
IAM credentials, CloudWatch for ``rms cost measured``) gets its client from :func:`client`
and runs inside :func:`aws_errors`, so

- the botocore loggers are guarded (:func:`rms.secrets.guard_library_logs`) before any
  client exists;
- the session comes from a :data:`SessionFactory`: tests pass one bound to moto, everything
  else gets a plain :class:`boto3.session.Session`, which reads the usual AWS variables
  (``AWS_PROFILE``, ``AWS_REGION``, ``AWS_ENDPOINT_URL`` and ``AWS_ENDPOINT_URL_<SERVICE>``
  for moto's server or LocalStack);
- a failure becomes one :class:`~rms.errors.AwsError` whose message says what was being done
  and why it failed in words a person can act on (the permission that is missing, that AWS
  throttled us, that no credentials or no region were found, that the endpoint cannot be
  reached), with every known secret masked and no botocore traceback attached.

Callers turn an :class:`~rms.errors.AwsError` into their own error where the contract asks
for one (the settings raise :class:`~rms.errors.ConfigError`, the credential sources
:class:`~rms.errors.DatabaseAuthError` or, for transient kinds,
:class:`~rms.errors.DatabaseUnavailableError`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from rms.errors import AwsError
from rms.secrets import default_secret_registry, guard_library_logs

if TYPE_CHECKING:
    import boto3

__all__ = [
    "NO_CREDENTIALS",
    "NO_REGION",
    "SessionFactory",
    "aws_errors",
    "client",
    "default_session_factory",
    "translate_aws_error",
]

#: Builds the boto3 session clients come from; tests pass one bound to moto.
SessionFactory = Callable[[], "boto3.session.Session"]

#: What to do when no credentials are found (the same advice wherever it happens).
NO_CREDENTIALS = (
    "no AWS credentials found (use an instance or task role, AWS_PROFILE, or "
    "AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)"
)
#: What to do when no region is configured.
NO_REGION = "no AWS region: set AWS_REGION (or AWS_DEFAULT_REGION)"

#: AWS error codes that mean "not allowed" (IAM, or the KMS key of a SecureString).
_DENIED = {
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "UnrecognizedClientException",
    "InvalidClientTokenId",
    "ExpiredTokenException",
    "KMSAccessDeniedException",
}
_THROTTLED = {
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
}
_UNAVAILABLE = {
    "InternalFailure",
    "InternalServerError",
    "InternalServiceError",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "RequestTimeout",
    "RequestTimeoutException",
}
_NOT_FOUND = {
    "ResourceNotFoundException",
    "ParameterNotFound",
    "DBClusterNotFoundFault",
    "DBInstanceNotFound",
    "NoSuchEntity",
    "NotFound",
}


def default_session_factory() -> boto3.session.Session:
    """A plain boto3 session: credentials, region and endpoints from the environment."""
    import boto3

    return boto3.session.Session()


def client(
    service: str,
    *,
    region: str | None = None,
    session_factory: SessionFactory | None = None,
) -> Any:
    """A boto3 client for ``service`` (``region`` None: the session's own region).

    Making a client makes no network call. A missing region or an unknown service is an
    :class:`~rms.errors.AwsError` (kind ``no_region`` or ``failed``).
    """
    guard_library_logs()
    with aws_errors(f"cannot create the AWS {service} client"):
        session = (session_factory or default_session_factory)()
        return session.client(service, region_name=region)  # type: ignore[call-overload]


@contextmanager
def aws_errors(what: str, *, permission: str | None = None) -> Iterator[None]:
    """Run AWS calls, turning their failures into :class:`~rms.errors.AwsError`.

    ``what`` says what was being done ("cannot read the settings under ..."); ``permission``
    names the IAM action(s) the call needs, shown when access is denied.
    """
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        yield
    except (BotoCoreError, ClientError) as exc:
        # ``from None``: a botocore chain would only repeat the message, and could carry
        # a response body.
        raise translate_aws_error(exc, what, permission=permission) from None


def translate_aws_error(exc: Exception, what: str, *, permission: str | None = None) -> AwsError:
    """The :class:`~rms.errors.AwsError` for one botocore exception (see :func:`aws_errors`)."""
    from botocore.exceptions import (
        ClientError,
        ConnectionError,
        HTTPClientError,
        NoCredentialsError,
        NoRegionError,
        PartialCredentialsError,
    )

    redact = default_secret_registry().redact

    def error(kind: str, reason: str, code: str | None = None, transient: bool = False) -> AwsError:
        field = "AWS_REGION" if kind == "no_region" else None
        return AwsError(
            f"{what}: {redact(reason)}", kind=kind, code=code, transient=transient, field=field
        )

    if isinstance(exc, ClientError):
        body = exc.response.get("Error", {})
        code = str(body.get("Code") or "Unknown")
        message = str(body.get("Message") or "").strip()
        said = f" (AWS said: {message})" if message else ""
        if code in _DENIED:
            needs = f"the role needs {permission}" if permission else "the role lacks a permission"
            return error("denied", f"access denied ({code}): {needs}{said}", code)
        if code in _THROTTLED:
            return error(
                "throttled",
                f"throttled by AWS ({code}) after retries: try again shortly",
                code,
                True,
            )
        if code in _UNAVAILABLE:
            return error(
                "unavailable", f"AWS is unavailable ({code}): try again shortly{said}", code, True
            )
        if code in _NOT_FOUND:
            return error("not_found", f"not found ({code}){said}", code)
        return error("failed", f"{code}: {message}" if message else code, code)
    if isinstance(exc, NoCredentialsError | PartialCredentialsError):
        return error("no_credentials", NO_CREDENTIALS)
    if isinstance(exc, NoRegionError):
        return error("no_region", NO_REGION)
    if isinstance(exc, ConnectionError | HTTPClientError):
        return error(
            "unreachable",
            f"cannot reach AWS ({exc}): check the network, the region and AWS_ENDPOINT_URL",
            transient=True,
        )
    return error("failed", str(exc) or type(exc).__name__)
