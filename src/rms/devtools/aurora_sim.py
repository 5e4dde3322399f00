"""An emulator of a pausing Aurora Serverless v2 instance: a TCP proxy in front of PostgreSQL.

Aurora Serverless v2 with ``min_capacity = 0`` pauses after ``seconds_until_auto_pause`` with
no client connection open (an idle connection is enough to keep it awake) and takes seconds
to resume when a connection arrives. The service has to treat that as normal, so its tests
and its users need a database that behaves the same way on a laptop. This module puts a plain
TCP proxy in front of a real PostgreSQL and gives it that behaviour:

* ``running``: bytes flow both ways. When the last client connection closes, a timer of
  ``pause_after`` seconds starts; any new connection cancels it. When it fires, ``paused``.
* ``paused``: holds no connection at all, upstream or client.
* ``resuming``: entered when any TCP connection arrives while paused (authentication is not
  involved; Aurora wakes on the connection attempt). After ``resume_delay`` seconds the
  emulator is ``running`` again. In mode ``hold`` (what Aurora does) connections that arrive
  while paused or resuming are accepted and held, with no byte forwarded, until the resume
  completes, then connected upstream. In mode ``refuse`` they are reset at once, so clients
  must retry; the first of them still starts the resume.

It can also drop every open connection on command (what a failover or a scaling event does
to clients), or pause at once. And it can fail the way a network does, which is how a
database *vanishes* rather than restarts:

* **black hole** (``POST /blackhole``, undone by ``POST /heal``): every connection stays
  open and every byte, either way, vanishes; new connections are accepted and swallowed too.
  No RST, no FIN: what a client sees when a Multi-AZ primary dies, an availability zone is
  cut off or a middlebox forgets the connection. Connections black-holed stay so until
  their client gives up (the bytes are gone; the stream could not resume anyway); new ones
  after the heal are forwarded again.
* **failover** (``POST /failover``): drop every connection and point at the second upstream
  (``failover_upstream``, or ``?upstream=HOST:PORT``); the next failover points back.
* **delay** (``POST /delay?ms=N``): every chunk is forwarded N ms late, each way, so a round
  trip takes 2 N ms more; order is kept and throughput is not capped.
* **cut** (``POST /cut?after=N``): each open connection is closed (FIN) after N more bytes
  from the server, so a client sees its answer end mid-stream.
* **reset** (``POST /reset``): every connection is reset (RST) at once.

It reports its state through :meth:`AuroraSim.state` in process, through a tiny HTTP
control interface (``GET /state`` and the ``POST`` endpoints above, plus ``/drop`` and
``/pause``) and through one log line per state change. ``pause_after=None`` never pauses:
the proxy is then only a fault injector (what ``tests/faults`` uses).

Two front ends share one asyncio core (:class:`AuroraEmulator`): the ``rms dev aurora-sim``
command runs it on :func:`asyncio.run`; tests use :class:`AuroraSim`, which runs it on its
own event loop in a background thread so synchronous code (psycopg, SQLAlchemy, the service)
can be put behind it. Only the standard library is used.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import socket
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, Self, TypeVar
from urllib.parse import parse_qs, urlsplit

from rms.errors import InvalidInputError, RmsError

__all__ = [
    "AuroraEmulator",
    "AuroraSim",
    "Phase",
    "SimMode",
    "SimState",
    "aurora_sim",
    "parse_host_port",
    "parse_upstream_url",
]

logger = logging.getLogger(__name__)

Address = tuple[str, int]
_T = TypeVar("_T")

#: How long an upstream connect may take before the client is given up on.
UPSTREAM_CONNECT_TIMEOUT_SECONDS = 10.0
_CHUNK = 64 * 1024
_HTTP_HEADER_LIMIT = 16 * 1024


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


# The asyncio core -------------------------------------------------------------------------


class _Conn:
    """One client connection and, once forwarding, its upstream connection."""

    __slots__ = ("blackholed", "client", "cut_after", "held", "peer", "task", "upstream")

    def __init__(self, client: asyncio.StreamWriter, peer: str) -> None:
        self.client = client
        self.peer = peer
        self.upstream: asyncio.StreamWriter | None = None
        self.held = False
        self.blackholed = False
        self.cut_after: int | None = None  # bytes from the server still forwarded, if cut
        self.task: asyncio.Task[None] | None = None

    def abort(self) -> None:
        """Close both sides at once, as a failover would (no flushing, no goodbye)."""
        self.client.transport.abort()
        if self.upstream is not None:
            self.upstream.transport.abort()

    def close(self) -> None:
        """Close both sides after flushing what is buffered (the session ended normally)."""
        self.client.close()
        if self.upstream is not None:
            self.upstream.close()


class AuroraEmulator:
    """The emulator itself; every method must be called on the loop that runs it.

    Use :class:`AuroraSim` from synchronous code and tests; use this class directly inside an
    event loop (the CLI does). All state lives on one loop, so there are no locks: a timer
    callback, an accepted connection and a control request never interleave mid-update.
    """

    def __init__(
        self,
        *,
        upstream: Address,
        listen: Address = ("127.0.0.1", 0),
        pause_after: float | None = 2.0,
        resume_delay: float = 3.0,
        mode: SimMode | str = SimMode.HOLD,
        control: Address | None = ("127.0.0.1", 0),
        log: Callable[[str], None] | None = None,
        failover_upstream: Address | None = None,
    ) -> None:
        if pause_after is not None and pause_after <= 0:
            raise InvalidInputError(
                "pause_after must be > 0 seconds (None: never pause)", field="pause_after"
            )
        if resume_delay < 0:
            raise InvalidInputError("resume_delay must be >= 0 seconds", field="resume_delay")
        try:
            self.mode = SimMode(mode)
        except ValueError:
            raise InvalidInputError(
                f"mode must be 'hold' or 'refuse', got {mode!r}", field="mode"
            ) from None
        self.upstream = upstream
        self.failover_upstream = failover_upstream
        self.listen = listen
        self.control = control
        self.pause_after = None if pause_after is None else float(pause_after)
        self.resume_delay = float(resume_delay)
        self._log = log or logger.info

        self._phase = Phase.RUNNING
        self._phase_since_wall = _utcnow()
        self._paused_since: float | None = None
        self._paused_total = 0.0
        self._conns: set[_Conn] = set()
        self._upstream_open = 0
        self._accepted = 0
        self._refused = 0
        self._dropped = 0
        self._upstream_failures = 0
        self._pauses = 0
        self._resumes = 0
        self._last_pause_at: datetime | None = None
        self._last_resume_at: datetime | None = None
        self._pause_timer: asyncio.TimerHandle | None = None
        self._resume_timer: asyncio.TimerHandle | None = None
        self._resumed: asyncio.Event | None = None
        self._server: asyncio.Server | None = None
        self._control_server: asyncio.Server | None = None
        self._http_tasks: set[asyncio.Task[None]] = set()
        self._blackhole = False
        self._delay = 0.0
        self._failovers = 0
        self._reset_count = 0
        self._swallowed = 0

    # Lifecycle ----------------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on ``listen`` (and ``control``); :class:`RmsError` if an address is unusable.

        The instance starts ``running`` with no client, so the pause timer starts now: a
        fresh emulator nobody connects to pauses after ``pause_after`` seconds, as Aurora does.
        """
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._server = await self._listen(self.listen, self._on_client, "--listen")
        if self.control is not None:
            try:
                self._control_server = await self._listen(
                    self.control, self._on_control, "--control"
                )
            except RmsError:
                self._server.close()
                raise
        self._log(
            f"aurora-sim: running, listening on {_fmt(self.address)} -> {_fmt(self.upstream)}"
            f" (mode {self.mode}, pause after {_seconds(self.pause_after)},"
            f" resume delay {self.resume_delay:g} s)"
            + (
                f", control http://{_fmt(self.control_address)}"
                if self._control_server is not None
                else ""
            )
        )
        self._arm_pause_timer()

    @staticmethod
    async def _listen(
        address: Address,
        handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Any],
        what: str,
    ) -> asyncio.Server:
        try:
            return await asyncio.start_server(
                handler, address[0], address[1], reuse_address=True, limit=_CHUNK
            )
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise RmsError(f"cannot listen on {_fmt(address)} ({what}): {reason}") from exc

    async def close(self) -> None:
        """Stop listening, close every connection and cancel the timers."""
        for timer in (self._pause_timer, self._resume_timer):
            if timer is not None:
                timer.cancel()
        servers = [s for s in (self._server, self._control_server) if s is not None]
        for server in servers:
            server.close()
        tasks = [c.task for c in self._conns if c.task is not None]
        for conn in list(self._conns):
            conn.abort()
        tasks.extend(self._http_tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for server in servers:
            await server.wait_closed()

    @property
    def address(self) -> Address:
        """The proxy's bound address (the real port when ``listen`` asked for port 0)."""
        assert self._server is not None, "emulator not started"
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    @property
    def control_address(self) -> Address:
        """The HTTP control interface's bound address."""
        assert self._control_server is not None, "control interface not started"
        host, port = self._control_server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    # State --------------------------------------------------------------------------------

    def snapshot(self) -> SimState:
        """The current state, counters and configuration."""
        paused = self._paused_total
        if self._paused_since is not None:
            paused += time.monotonic() - self._paused_since
        held = sum(1 for c in self._conns if c.held)
        return SimState(
            state=self._phase,
            mode=self.mode,
            open_connections=len(self._conns),
            held_connections=held,
            upstream_connections=self._upstream_open,
            connections_accepted=self._accepted,
            connections_refused=self._refused,
            connections_dropped=self._dropped,
            upstream_failures=self._upstream_failures,
            pauses=self._pauses,
            resumes=self._resumes,
            last_pause_at=self._last_pause_at,
            last_resume_at=self._last_resume_at,
            state_since=self._phase_since_wall,
            paused_seconds=paused,
            pause_after=self.pause_after,
            resume_delay=self.resume_delay,
            upstream=_fmt(self.upstream),
            blackhole=self._blackhole,
            delay_ms=round(self._delay * 1000, 3),
            failovers=self._failovers,
            connections_reset=self._reset_count,
            bytes_swallowed=self._swallowed,
        )

    def _set_phase(self, phase: Phase, why: str) -> None:
        old = self._phase
        now = time.monotonic()
        if old is Phase.PAUSED and self._paused_since is not None:
            self._paused_total += now - self._paused_since
            self._paused_since = None
        if phase is Phase.PAUSED:
            self._paused_since = now
        self._phase = phase
        self._phase_since_wall = _utcnow()
        assert self._resumed is not None
        if phase is Phase.RUNNING:
            self._resumed.set()
        else:
            self._resumed.clear()
        self._log(f"aurora-sim: {old} -> {phase}: {why}")

    def _arm_pause_timer(self) -> None:
        """Start counting idle time if running with no client; Aurora's auto-pause clock."""
        if self.pause_after is None:
            return
        if self._phase is Phase.RUNNING and not self._conns and self._pause_timer is None:
            self._pause_timer = asyncio.get_running_loop().call_later(
                self.pause_after, self._on_pause_timer
            )

    def _cancel_pause_timer(self) -> None:
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None

    def _on_pause_timer(self) -> None:
        self._pause_timer = None
        if self._phase is Phase.RUNNING and not self._conns:
            self._pause(f"no client connection for {_seconds(self.pause_after)}")

    def _pause(self, why: str) -> None:
        self._cancel_pause_timer()
        if self._resume_timer is not None:
            self._resume_timer.cancel()
            self._resume_timer = None
        self._pauses += 1
        self._last_pause_at = _utcnow()
        self._set_phase(Phase.PAUSED, f"{why} (pause #{self._pauses})")

    def _start_resume(self, peer: str) -> None:
        self._resumes += 1
        self._set_phase(
            Phase.RESUMING,
            f"connection from {peer} (resume #{self._resumes}, ready in {self.resume_delay:g} s)",
        )
        self._resume_timer = asyncio.get_running_loop().call_later(
            self.resume_delay, self._on_resumed
        )

    def _on_resumed(self) -> None:
        self._resume_timer = None
        if self._phase is not Phase.RESUMING:
            return
        self._last_resume_at = _utcnow()
        self._set_phase(Phase.RUNNING, f"resumed after {self.resume_delay:g} s")
        self._arm_pause_timer()

    # Commands -----------------------------------------------------------------------------

    def drop_all(self, why: str = "drop requested") -> int:
        """Close both sides of every client connection, held ones included; returns how many.

        This is what clients see in a failover or scaling event. The state does not change:
        a running instance keeps running (and starts its idle clock once they are all gone).
        """
        conns = list(self._conns)
        for conn in conns:
            conn.abort()
            if conn.task is not None:
                conn.task.cancel()
            # Forget it now, not when its task finishes, so a snapshot taken right after the
            # drop already shows the connections gone.
            self._forget(conn)
        self._dropped += len(conns)
        self._log(f"aurora-sim: dropped {len(conns)} connection(s): {why}")
        self._arm_pause_timer()
        return len(conns)

    def pause_now(self) -> bool:
        """Pause at once, dropping every connection; ``False`` if it was already paused."""
        if self._phase is Phase.PAUSED:
            return False
        self.drop_all("pause requested")
        self._pause("pause requested")
        return True

    # Network faults -----------------------------------------------------------------------

    def set_blackhole(self, on: bool) -> int:
        """Swallow every byte (``on``) or forward new connections again; returns how many
        open connections are black-holed now."""
        if on != self._blackhole:
            self._blackhole = on
            if on:
                for conn in self._conns:
                    conn.blackholed = True
            self._log(
                "aurora-sim: black hole: every byte vanishes, connections stay open"
                if on
                else "aurora-sim: black hole healed: new connections are forwarded again"
            )
        return sum(1 for c in self._conns if c.blackholed)

    def set_delay(self, seconds: float) -> None:
        """Forward every chunk ``seconds`` late, each way (0: no delay)."""
        if not 0 <= seconds <= 60:
            raise InvalidInputError(
                f"delay must be 0-60000 ms, got {seconds * 1000:g}", field="delay"
            )
        self._delay = float(seconds)
        self._log(f"aurora-sim: delay {seconds * 1000:g} ms each way")

    def failover(self, to: Address | None = None) -> Address:
        """Drop every connection and point at ``to`` (default: the other upstream)."""
        target = to or self.failover_upstream
        if target is None:
            raise InvalidInputError(
                "no second upstream to fail over to: start with a failover upstream or "
                "give one (?upstream=HOST:PORT)",
                field="upstream",
            )
        old = self.upstream
        self.upstream, self.failover_upstream = target, old
        self._blackhole = False
        self._failovers += 1
        self.drop_all(f"failover #{self._failovers} from {_fmt(old)} to {_fmt(target)}")
        return target

    def reset_all(self) -> int:
        """Reset (RST) every client connection now; returns how many."""
        conns = list(self._conns)
        for conn in conns:
            _reset(conn.client)
            if conn.upstream is not None:
                conn.upstream.transport.abort()
            if conn.task is not None:
                conn.task.cancel()
            self._forget(conn)
        self._reset_count += len(conns)
        self._log(f"aurora-sim: reset {len(conns)} connection(s)")
        self._arm_pause_timer()
        return len(conns)

    def cut_all(self, after_bytes: int) -> int:
        """Close each open connection after ``after_bytes`` more bytes from the server."""
        if after_bytes < 0:
            raise InvalidInputError("after must be >= 0 bytes", field="after")
        conns = [c for c in self._conns if c.upstream is not None]
        for conn in conns:
            conn.cut_after = after_bytes
        self._log(f"aurora-sim: cutting {len(conns)} connection(s) after {after_bytes} bytes")
        return len(conns)

    # Proxying -----------------------------------------------------------------------------

    async def _on_client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        peer_addr = writer.get_extra_info("peername")
        peer = _fmt((str(peer_addr[0]), int(peer_addr[1]))) if peer_addr else "?"
        self._accepted += 1
        if self._blackhole:
            await self._swallow_new(writer, reader, peer)
            return
        if self._phase is Phase.PAUSED:
            self._start_resume(peer)
        if self._phase is not Phase.RUNNING and self.mode is SimMode.REFUSE:
            self._refused += 1
            _reset(writer)
            return
        conn = _Conn(writer, peer)
        conn.task = asyncio.current_task()
        self._conns.add(conn)
        self._cancel_pause_timer()
        try:
            await self._serve(conn, reader)
        except asyncio.CancelledError:
            conn.abort()  # dropped or shutting down
        finally:
            conn.close()
            self._forget(conn)
            self._arm_pause_timer()

    async def _swallow_new(
        self, writer: asyncio.StreamWriter, reader: asyncio.StreamReader, peer: str
    ) -> None:
        """A connection arriving into the black hole: accepted, then silence."""
        conn = _Conn(writer, peer)
        conn.blackholed = True
        conn.task = asyncio.current_task()
        self._conns.add(conn)
        self._cancel_pause_timer()
        try:
            await self._pump(conn, reader, writer, downstream=False)
        except asyncio.CancelledError:
            conn.abort()
        finally:
            conn.close()
            self._forget(conn)
            self._arm_pause_timer()

    def _forget(self, conn: _Conn) -> None:
        """Stop counting a connection (idempotent: a drop and the task's end both call it)."""
        if conn in self._conns:
            self._conns.remove(conn)
            if conn.upstream is not None:
                self._upstream_open -= 1

    async def _serve(self, conn: _Conn, client_reader: asyncio.StreamReader) -> None:
        assert self._resumed is not None
        if not self._resumed.is_set():
            conn.held = True
            await self._resumed.wait()
            conn.held = False
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream, limit=_CHUNK),
                UPSTREAM_CONNECT_TIMEOUT_SECONDS,
            )
        except (OSError, TimeoutError) as exc:
            self._upstream_failures += 1
            self._log(
                f"aurora-sim: cannot reach upstream {_fmt(self.upstream)} for {conn.peer}: "
                f"{getattr(exc, 'strerror', None) or exc or type(exc).__name__}"
            )
            return
        conn.upstream = up_writer
        self._upstream_open += 1
        pumps = [
            asyncio.create_task(self._pump(conn, client_reader, up_writer, downstream=False)),
            asyncio.create_task(self._pump(conn, up_reader, conn.client, downstream=True)),
        ]
        try:
            # Either side closing ends the session; PostgreSQL has no use for half-close.
            done, _ = await asyncio.wait(pumps, return_when=asyncio.FIRST_COMPLETED)
            if conn.blackholed and pumps[0] not in done:
                # The server went away behind the black hole: the client must not learn
                # of it (no FIN), so keep swallowing until the client gives up.
                await pumps[0]
        finally:
            for pump in pumps:
                pump.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)

    # HTTP control interface ---------------------------------------------------------------

    async def _on_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._http_tasks.add(task)
        try:
            status, body = await self._handle_http(reader)
            payload = json.dumps(body, indent=2).encode() + b"\n"
            reason = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed"}
            writer.write(
                f"HTTP/1.1 {status} {reason.get(status, 'Error')}\r\n"
                f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                "Connection: close\r\n\r\n".encode()
                + payload
            )
            await writer.drain()
        except (OSError, TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()
            self._http_tasks.discard(task)

    async def _handle_http(self, reader: asyncio.StreamReader) -> tuple[int, dict[str, Any]]:
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        if len(head) > _HTTP_HEADER_LIMIT:
            return 400, {"error": "request head too large"}
        lines = head.decode("latin-1").split("\r\n")
        parts = lines[0].split()
        if len(parts) != 3:
            return 400, {"error": "malformed request line"}
        method, target, _ = parts
        split = urlsplit(target)
        path = split.path.rstrip("/") or "/"
        query = {k: v[-1] for k, v in parse_qs(split.query).items()}
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length" and value.strip().isdigit():
                length = int(value.strip())
        if 0 < length <= _HTTP_HEADER_LIMIT:
            await reader.readexactly(length)  # ignored, but read so the client is not reset
        routes: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
            "/state": ("GET", lambda: self.snapshot().to_json_dict()),
            "/drop": ("POST", lambda: {"dropped": self.drop_all("POST /drop")}),
            "/pause": ("POST", lambda: {"paused": self.pause_now()}),
            "/blackhole": ("POST", lambda: {"blackholed": self.set_blackhole(True)}),
            "/heal": ("POST", self.heal),
            "/delay": ("POST", lambda: self._delay_from(query)),
            "/failover": ("POST", lambda: self._failover_from(query)),
            "/reset": ("POST", lambda: {"reset": self.reset_all()}),
            "/cut": ("POST", lambda: {"cut": self.cut_all(_int_param(query, "after", 0))}),
        }
        if path == "/":
            return 200, {"endpoints": {p: m for p, (m, _) in routes.items()}}
        if path not in routes:
            return 404, {"error": f"no such endpoint {path}", "endpoints": sorted(routes)}
        allowed, action = routes[path]
        if method != allowed:
            return 405, {"error": f"{path} takes {allowed}, not {method}"}
        try:
            result = action()
        except InvalidInputError as exc:
            return 400, {"error": exc.message}
        if path != "/state":
            result["state"] = self.snapshot().to_json_dict()
        return 200, result

    def heal(self) -> dict[str, Any]:
        self.set_blackhole(False)
        self.set_delay(0)
        return {"healed": True}

    def _delay_from(self, query: dict[str, str]) -> dict[str, Any]:
        self.set_delay(_int_param(query, "ms", 0) / 1000)
        return {"delay_ms": self._delay * 1000}

    def _failover_from(self, query: dict[str, str]) -> dict[str, Any]:
        given = query.get("upstream")
        to = parse_host_port(given, what="upstream") if given else None
        return {"upstream": _fmt(self.failover(to))}

    async def _pump(
        self,
        conn: _Conn,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        downstream: bool,
    ) -> None:
        """Copy bytes until EOF, a socket error or a cut, applying the faults in force.

        A black-holed connection's bytes are read and dropped (so the sender's kernel
        keeps acknowledging, as a live peer's would). With a delay, chunks go through a
        queue to a sender task that writes each one when it is due; without one, and with
        nothing queued, they are written at once.
        """
        queue: asyncio.Queue[tuple[float, bytes] | None] | None = None
        sender: asyncio.Task[None] | None = None
        loop = asyncio.get_running_loop()
        try:
            while data := await reader.read(_CHUNK):
                if conn.blackholed:
                    self._swallowed += len(data)
                    continue
                cut = downstream and conn.cut_after is not None
                if cut:
                    assert conn.cut_after is not None
                    data, conn.cut_after = data[: conn.cut_after], conn.cut_after - len(data)
                if self._delay > 0 or (queue is not None and not queue.empty()):
                    if queue is None:
                        queue = asyncio.Queue()
                        sender = asyncio.create_task(_send_when_due(queue, writer))
                    queue.put_nowait((loop.time() + self._delay, data))
                elif data:
                    writer.write(data)
                    await writer.drain()
                if cut and (conn.cut_after or 0) <= 0:
                    break  # mid-stream: the session ends here, with a FIN
            if queue is not None and sender is not None:
                queue.put_nowait(None)
                await sender  # what is queued still arrives, late
        except OSError:
            pass
        finally:
            if sender is not None:
                sender.cancel()
                await asyncio.gather(sender, return_exceptions=True)


async def _send_when_due(
    queue: asyncio.Queue[tuple[float, bytes] | None], writer: asyncio.StreamWriter
) -> None:
    """Write each queued chunk at its due time, in order, until ``None`` (the delay fault)."""
    loop = asyncio.get_running_loop()
    with contextlib.suppress(OSError):
        while (item := await queue.get()) is not None:
            due, data = item
            wait = due - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if data:
                writer.write(data)
                await writer.drain()


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise InvalidInputError(f"{name} must be a whole number >= 0, got {value!r}", field=name)
    return int(value)


def _seconds(value: float | None) -> str:
    return "never" if value is None else f"{value:g} s"


def _reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset so the client fails at once, like a refused connection."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


# The threaded front end for synchronous code and tests -------------------------------------


class AuroraSim:
    """The emulator on its own event loop in a background thread, for tests and scripts.

    ``with AuroraSim(upstream=("127.0.0.1", 5432), pause_after=2, resume_delay=3) as sim:``
    gives a proxy on ``sim.port`` (and HTTP control on ``sim.control_port``); methods may be
    called from any thread, each one runs on the emulator's loop and waits for the result.
    """

    def __init__(
        self,
        *,
        upstream: Address,
        listen: Address = ("127.0.0.1", 0),
        pause_after: float | None = 2.0,
        resume_delay: float = 3.0,
        mode: SimMode | str = SimMode.HOLD,
        control: Address | None = ("127.0.0.1", 0),
        log: Callable[[str], None] | None = None,
        failover_upstream: Address | None = None,
    ) -> None:
        self._emulator = AuroraEmulator(
            upstream=upstream,
            listen=listen,
            pause_after=pause_after,
            resume_delay=resume_delay,
            mode=mode,
            control=control,
            log=log,
            failover_upstream=failover_upstream,
        )
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._last: SimState | None = None

    def start(self) -> Self:
        """Bind the ports and start serving; raises :class:`RmsError` if it cannot listen."""
        if self._loop is not None:
            return self
        loop = asyncio.new_event_loop()
        thread = threading.Thread(target=loop.run_forever, name="aurora-sim", daemon=True)
        thread.start()
        try:
            asyncio.run_coroutine_threadsafe(self._emulator.start(), loop).result(timeout=30)
        except BaseException:
            loop.call_soon_threadsafe(loop.stop)
            thread.join()
            loop.close()
            raise
        self._loop, self._thread = loop, thread
        return self

    def stop(self) -> None:
        """Close every connection and the listening sockets, and end the thread."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        self._last = self._call(self._emulator.snapshot)
        asyncio.run_coroutine_threadsafe(self._emulator.close(), loop).result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join()
        loop.close()
        self._loop = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def _call(self, fn: Callable[[], _T]) -> _T:
        loop = self._loop
        if loop is None:
            raise RmsError("the Aurora emulator is not running")

        async def run() -> _T:
            return fn()

        return asyncio.run_coroutine_threadsafe(run(), loop).result(timeout=30)

    @property
    def host(self) -> str:
        """The host the proxy listens on."""
        return self._emulator.listen[0]

    @property
    def port(self) -> int:
        """The proxy's TCP port: point the database URL here instead of at PostgreSQL."""
        return self._call(lambda: self._emulator.address[1])

    @property
    def control_port(self) -> int:
        """The HTTP control interface's port (``GET /state``, ``POST /drop``, ...)."""
        return self._call(lambda: self._emulator.control_address[1])

    def proxied_url(self, url: str) -> str:
        """``url`` (SQLAlchemy or libpq form) with host and port replaced by the proxy's.

        So a test can turn the URL of its PostgreSQL into one that goes through the emulator
        and keep user, password, database and query options as they were.
        """
        from sqlalchemy.engine import make_url  # only needed by tests; keeps import cheap

        host = self.host if self.host not in ("0.0.0.0", "::", "") else "127.0.0.1"  # noqa: S104
        proxied = make_url(url).set(host=host, port=self.port)
        return proxied.render_as_string(hide_password=False)

    def state(self) -> SimState:
        """A snapshot of state and counters (after :meth:`stop`, the last one taken)."""
        if self._loop is None and self._last is not None:
            return self._last
        return self._call(self._emulator.snapshot)

    def drop_all(self) -> int:
        """Close every client connection and its upstream, as a failover would."""
        return self._call(lambda: self._emulator.drop_all("drop_all() called"))

    def pause_now(self) -> bool:
        """Pause at once (dropping every connection); ``False`` if already paused."""
        return self._call(self._emulator.pause_now)

    def blackhole(self) -> int:
        """Swallow every byte from now on; returns the open connections black-holed."""
        return self._call(lambda: self._emulator.set_blackhole(True))

    def heal(self) -> None:
        """End the black hole and any delay: new connections are forwarded again."""
        self._call(self._emulator.heal)

    def set_delay(self, seconds: float) -> None:
        """Forward every chunk ``seconds`` late, each way."""
        self._call(lambda: self._emulator.set_delay(seconds))

    def failover(self, to: Address | None = None) -> Address:
        """Drop every connection and point at ``to`` (default: the other upstream)."""
        return self._call(lambda: self._emulator.failover(to))

    def reset_all(self) -> int:
        """Reset (RST) every connection now."""
        return self._call(self._emulator.reset_all)

    def cut_all(self, after_bytes: int = 0) -> int:
        """Close each open connection (FIN) after ``after_bytes`` more bytes from the server."""
        return self._call(lambda: self._emulator.cut_all(after_bytes))

    def wait_for(
        self, predicate: Callable[[SimState], bool], timeout: float, interval: float = 0.02
    ) -> SimState:
        """Poll :meth:`state` until ``predicate`` holds; :class:`TimeoutError` after ``timeout``.

        Tests use it to wait for a pause or a resume without sleeping for a fixed time.
        """
        deadline = time.monotonic() + timeout
        while True:
            snap = self.state()
            if predicate(snap):
                return snap
            if time.monotonic() >= deadline:
                raise TimeoutError(f"aurora-sim: condition not met within {timeout} s: {snap}")
            time.sleep(interval)

    def wait_for_state(self, state: Phase | str, timeout: float) -> SimState:
        """Wait until the emulator is in ``state`` (``"paused"``, ``"running"``, ...)."""
        wanted = Phase(state)
        return self.wait_for(lambda s: s.state is wanted, timeout)


@contextlib.contextmanager
def aurora_sim(
    upstream: Address | str,
    *,
    pause_after: float | None = 2.0,
    resume_delay: float = 3.0,
    mode: SimMode | str = SimMode.HOLD,
    listen: Address = ("127.0.0.1", 0),
    control: Address | None = ("127.0.0.1", 0),
    log: Callable[[str], None] | None = None,
    failover_upstream: Address | str | None = None,
) -> Iterator[AuroraSim]:
    """A started :class:`AuroraSim` for a ``with`` block or a pytest ``yield`` fixture.

    ``upstream`` may be a ``(host, port)`` tuple or a PostgreSQL URL (SQLAlchemy or libpq
    form), so a test can pass the URL of its server unchanged.
    """
    address = parse_upstream_url(upstream) if isinstance(upstream, str) else upstream
    second = (
        parse_upstream_url(failover_upstream)
        if isinstance(failover_upstream, str)
        else failover_upstream
    )
    sim = AuroraSim(
        upstream=address,
        listen=listen,
        pause_after=pause_after,
        resume_delay=resume_delay,
        mode=mode,
        control=control,
        log=log,
        failover_upstream=second,
    )
    with sim:
        yield sim
