"""The local sign-in token and the session key: made once, kept private in the state directory.

Both are random values (:func:`secrets.token_urlsafe`) written the first time the service
starts to ``<state dir>/auth/token`` and ``<state dir>/auth/session.key`` with mode 0600,
unless ``RMS_API_TOKEN`` / ``RMS_SESSION_KEY`` set them. A file is created atomically
(written under a temporary name, then hard-linked into place, which fails if another process
got there first), so two services starting together agree on one value. A file that others
can read is refused rather than used: a token anyone on the machine can read is no secret.
Every value is registered with the secret registry before anything could log it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from dataclasses import dataclass
from pathlib import Path

from rms.errors import ConfigError
from rms.secrets import default_secret_registry
from rms.settings import Settings

__all__ = ["LocalToken", "load_local_token", "load_session_key", "tokens_equal"]

TOKEN_FILE = "token"  # noqa: S105 - a file name, not a secret
SESSION_KEY_FILE = "session.key"


@dataclass(frozen=True)
class LocalToken:
    """The local sign-in token and where it came from (``RMS_API_TOKEN`` or a file)."""

    value: str
    #: The file it is kept in; None when ``RMS_API_TOKEN`` set it.
    path: Path | None
    #: True when this start made it (a new token: the sign-in URL is worth printing).
    created: bool

    def fingerprint(self, key: bytes) -> str:
        """A keyed digest of the token, put in sessions so that a new token ends them."""
        return hmac.new(key, self.value.encode(), hashlib.sha256).hexdigest()[:32]

    def matches(self, presented: str) -> bool:
        return tokens_equal(self.value, presented)


def tokens_equal(expected: str, presented: str) -> bool:
    """Constant-time comparison (no early exit that would leak a matching prefix)."""
    return hmac.compare_digest(expected.encode(), presented.encode())


def load_local_token(settings: Settings) -> LocalToken:
    """``RMS_API_TOKEN``, else the token file of the state directory (made if missing)."""
    if settings.rms_api_token is not None:
        value = settings.rms_api_token.get_secret_value()
        default_secret_registry().add(value)
        return LocalToken(value, None, created=False)
    path = settings.state_path("auth") / TOKEN_FILE
    value, created = _private_value(path, "RMS_API_TOKEN")
    return LocalToken(value, path, created)


def load_session_key(settings: Settings) -> bytes:
    """``RMS_SESSION_KEY``, else the key file of the state directory (made if missing)."""
    if settings.rms_session_key is not None:
        return settings.rms_session_key.get_secret_value().encode()
    value, _ = _private_value(settings.state_path("auth") / SESSION_KEY_FILE, "RMS_SESSION_KEY")
    return value.encode()


def _private_value(path: Path, variable: str) -> tuple[str, bool]:
    """The secret kept in ``path``, made now if there is none; (value, made now)."""
    if not path.exists():
        value = secrets.token_urlsafe(32)
        default_secret_registry().add(value)
        if _create_exclusive(path, value):
            return value, True
    value = _read_private(path, variable)
    default_secret_registry().add(value)
    return value, False


def _create_exclusive(path: Path, value: str) -> bool:
    """Write ``value`` to ``path`` (0600) unless it exists; False when another process won."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(value + "\n")
        os.link(temporary, path)
    except FileExistsError:
        return False
    finally:
        temporary.unlink(missing_ok=True)
    return True


def _read_private(path: Path, variable: str) -> str:
    try:
        mode = path.stat().st_mode
        if mode & (stat.S_IRWXG | stat.S_IRWXO):
            raise ConfigError(
                f"{path} can be read by other users (mode {stat.S_IMODE(mode):04o}): run "
                f"`chmod 600 {path}`, or delete it to make a new one, or set {variable}",
                field=variable,
            )
        value = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}", field=variable) from None
    if len(value) < 16:
        raise ConfigError(
            f"{path} holds no usable secret (fewer than 16 characters): delete it to make a "
            f"new one, or set {variable}",
            field=variable,
        )
    return value
