"""The emulator's state types and the parsing and formatting of addresses."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from rms.errors import InvalidInputError

__all__ = [
    "Address",
    "Phase",
    "SimMode",
    "SimState",
    "parse_host_port",
    "parse_upstream_url",
]

Address = tuple[str, int]


class Phase(StrEnum):
    """The emulated instance's state, as Aurora would report it (minus ``pausing``).

    Aurora has a short ``pausing`` phase; here pausing is instantaneous because there is
    nothing to flush, so only the three states a client can observe exist.
    """

    RUNNING = "running"
    PAUSED = "paused"
    RESUMING = "resuming"


class SimMode(StrEnum):
    """What happens to a connection that arrives while paused or resuming."""

    HOLD = "hold"
    """Accept it and hold it until the resume completes (what Aurora does)."""
    REFUSE = "refuse"
    """Reset it at once; the client has to retry (a stricter test of retry logic)."""


@dataclass(frozen=True)
class SimState:
    """A consistent snapshot of the emulator, taken on its event loop.

    ``open_connections`` counts client connections the emulator holds right now, whether held
    during a resume or forwarding; it is always 0 while ``paused``. ``resumes`` counts wake-ups
    (incremented when a connection starts a resume); ``last_resume_at`` is when the last resume
    *completed*. ``paused_seconds`` is the total time spent paused, finished periods plus the
    current one: the time a real instance would not have been billed for compute.
    """

    state: Phase
    mode: SimMode
    open_connections: int
    held_connections: int
    upstream_connections: int
    connections_accepted: int
    connections_refused: int
    connections_dropped: int
    upstream_failures: int
    pauses: int
    resumes: int
    last_pause_at: datetime | None
    last_resume_at: datetime | None
    state_since: datetime
    paused_seconds: float
    pause_after: float | None
    resume_delay: float
    upstream: str = ""
    blackhole: bool = False
    delay_ms: float = 0.0
    failovers: int = 0
    connections_reset: int = 0
    bytes_swallowed: int = 0

    def to_json_dict(self) -> dict[str, Any]:
        """The snapshot with times as ISO 8601 UTC strings, ready for :func:`json.dumps`."""
        data = asdict(self)
        for key, value in data.items():
            if isinstance(value, datetime):
                data[key] = value.isoformat().replace("+00:00", "Z")
            elif isinstance(value, StrEnum):
                data[key] = str(value)
        data["paused_seconds"] = round(self.paused_seconds, 3)
        return data


# Parsing the command line's addresses ------------------------------------------------------


def parse_host_port(text: str, *, what: str, default_port: int | None = None) -> Address:
    """``HOST:PORT`` (``[v6]:PORT`` for IPv6) as a tuple; raises :class:`InvalidInputError`.

    Kept strict so that a typo gives one clear line instead of a socket error later.
    """
    value = text.strip()
    host, sep, port_text = value.rpartition(":")
    if not sep:
        host, port_text = value, ""
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not port_text:
        if default_port is None:
            raise InvalidInputError(f"{what} must be HOST:PORT, got {text!r}", field=what)
        port_text = str(default_port)
    if not host or (":" in host and not value.startswith("[")):
        raise InvalidInputError(f"{what} must be HOST:PORT, got {text!r}", field=what)
    if not port_text.isdigit() or not 0 <= int(port_text) <= 65535:
        raise InvalidInputError(
            f"{what} has an invalid port {port_text!r} (expected 0-65535) in {text!r}",
            field=what,
        )
    return host, int(port_text)


def parse_upstream_url(url: str) -> Address:
    """Host and port of a ``postgresql://[user[:pw]@]host[:port][/db]`` URL (port 5432).

    Only host and port matter: the emulator forwards bytes and never speaks the protocol, so
    user, password and database in the URL are accepted and ignored. SQLAlchemy-style
    schemes (``postgresql+psycopg://``) are accepted so a ``DATABASE_URL`` can be pasted.
    """
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as exc:
        raise InvalidInputError(
            f"--upstream is not a valid URL ({exc}): {url!r}", field="upstream"
        ) from None
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in ("postgresql", "postgres"):
        raise InvalidInputError(
            f"--upstream must be a postgresql://HOST:PORT URL, got {url!r}", field="upstream"
        )
    if not parts.hostname:
        raise InvalidInputError(f"--upstream names no host: {url!r}", field="upstream")
    return parts.hostname, port if port is not None else 5432


def _fmt(address: Address) -> str:
    host, port = address
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _utcnow() -> datetime:
    return datetime.now(UTC)


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:g} s"
