"""Secrets and their redaction: what must never reach a log, an error message or output.

Everything that reads a secret (the settings' passwords, Secrets Manager, SSM SecureStrings,
IAM tokens) adds the value to the process-wide :class:`SecretRegistry`; everything that
shows text to a person or a log passes it through :func:`redact` (directly, through
:meth:`SecretRegistry.redact`, or through :class:`RedactingFilter` on a log handler).
:func:`guard_library_logs` puts a filter on the botocore loggers, which echo whole response
bodies (secret values included) at DEBUG level before we ever see the value.

It imports only the standard library, so every other module (settings, AWS, database, CLI)
can depend on it without an import cycle.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable, Iterable

__all__ = [
    "MASK",
    "RedactingFilter",
    "SecretRegistry",
    "default_secret_registry",
    "guard_library_logs",
    "redact",
]

#: What every secret is replaced with wherever it could be shown.
MASK = "********"

_URL_PASSWORD = re.compile(r"(?P<head>\b[a-zA-Z][\w+.-]*://[^:/@\s]*:)(?P<pw>[^@\s]+)(?=@)")
_KV_PASSWORD = re.compile(
    r"(?P<head>\b(?:password|passwd|pwd)\s*[=:]\s*)(?P<pw>'[^']*'|\"[^\"]*\"|\S+)", re.IGNORECASE
)
_AWS_SIGNED = re.compile(
    r"(?P<head>X-Amz-(?:Signature|Security-Token|Credential)=)(?P<pw>[^&\s'\"]+)"
)

#: Credential shapes masked wherever they turn up, even when nobody registered the value: a
#: JWT (an OIDC or Cognito token), and what follows an HTTP authentication scheme.
_JWT = re.compile(r"(?P<head>)\beyJ[\w-]*\.[\w-]+\.[\w-]*")
_AUTH_SCHEME = re.compile(
    r"(?P<head>\b(?:Bearer|Basic|Digest|Token|Negotiate)\s+)(?P<pw>[^\s'\",]+)", re.IGNORECASE
)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """``text`` with every secret replaced by :data:`MASK`.

    The known ``secrets`` are masked wherever they appear (also in their JSON-escaped and
    repr forms, which is how botocore logs response bodies); passwords in URLs and
    ``password=`` pairs, the signature of an IAM token, a JWT and whatever follows an HTTP
    authentication scheme (``Bearer x``, ``Basic x``) are masked even when nobody told us
    the value, so a secret we never saw still does not get out.
    """
    values = {s for s in secrets if s and len(s) >= 4}
    variants: set[str] = set()
    for value in values:
        variants.update({value, json.dumps(value)[1:-1], repr(value)[1:-1]})
    for variant in sorted(variants, key=len, reverse=True):
        text = text.replace(variant, MASK)
    for pattern in (_URL_PASSWORD, _KV_PASSWORD, _AWS_SIGNED, _JWT, _AUTH_SCHEME):
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


# -- library logs -----------------------------------------------------------------------------

#: botocore loggers that write request/response bodies or signatures at DEBUG level.
_AWS_LOGGERS = (
    "botocore.parsers",
    "botocore.endpoint",
    "botocore.auth",
    "botocore.hooks",
    "botocore.httpsession",
    "botocore.retryhandler",
    "urllib3.connectionpool",
)


class _AwsPayloadFilter(RedactingFilter):
    """Masks whole AWS payloads that hold secrets, before we know the values in them.

    botocore logs a response body while parsing it, i.e. before the secret reaches us and
    the registry, so masking known values is not enough: any body that has a secret field
    is dropped from the record, and so is a SigV4 signature (part of an IAM token).
    """

    _MARKERS = ("SecretString", "SecretBinary", '"Value"', '"Parameter"', "Signature:")

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        found = [message.index(marker) for marker in self._MARKERS if marker in message]
        if found:
            # Keep only what comes before the payload (e.g. "Response body:"), on its line.
            head = message[: min(found)].split("\n", 1)[0][:80].rstrip()
            record.msg, record.args = f"{head} {MASK} (secret payload redacted by rms)", None
        return super().filter(record)


def guard_library_logs(registry: SecretRegistry | None = None) -> None:
    """Put the payload filter on the botocore loggers (once; idempotent).

    Logger filters see every record a logger makes, whichever handler (ours, pytest's,
    uvicorn's) writes it in the end. :mod:`rms.aws` calls this before it makes any client.
    """
    values = (registry or default_secret_registry()).values
    for name in _AWS_LOGGERS:
        logger = logging.getLogger(name)
        if not any(isinstance(f, _AwsPayloadFilter) for f in logger.filters):
            logger.addFilter(_AwsPayloadFilter(values))
