"""The asyncio core: a TCP proxy whose state machine pauses, resumes and injects faults."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from rms.devtools.aurora_sim.control import serve_control
from rms.devtools.aurora_sim.proxy import (
    CHUNK,
    UPSTREAM_CONNECT_TIMEOUT_SECONDS,
    Conn,
    reset,
    send_when_due,
)
from rms.devtools.aurora_sim.state import (
    Address,
    Phase,
    SimMode,
    SimState,
    _fmt,
    _seconds,
    _utcnow,
)
from rms.errors import InvalidInputError, RmsError

__all__ = ["UPSTREAM_CONNECT_TIMEOUT_SECONDS", "AuroraEmulator"]

# The package's name, as before the split, so log configuration keyed on it still applies.
logger = logging.getLogger("rms.devtools.aurora_sim")


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
        self._conns: set[Conn] = set()
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
                handler, address[0], address[1], reuse_address=True, limit=CHUNK
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
            reset(conn.client)
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

    @property
    def delay(self) -> float:
        """The delay in force, in seconds, each way."""
        return self._delay

    def heal(self) -> dict[str, Any]:
        self.set_blackhole(False)
        self.set_delay(0)
        return {"healed": True}

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
            reset(writer)
            return
        conn = Conn(writer, peer)
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
        conn = Conn(writer, peer)
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

    def _forget(self, conn: Conn) -> None:
        """Stop counting a connection (idempotent: a drop and the task's end both call it)."""
        if conn in self._conns:
            self._conns.remove(conn)
            if conn.upstream is not None:
                self._upstream_open -= 1

    async def _serve(self, conn: Conn, client_reader: asyncio.StreamReader) -> None:
        assert self._resumed is not None
        if not self._resumed.is_set():
            conn.held = True
            await self._resumed.wait()
            conn.held = False
        try:
            up_reader, up_writer = await asyncio.wait_for(
                asyncio.open_connection(*self.upstream, limit=CHUNK),
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

    async def _pump(
        self,
        conn: Conn,
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
            while data := await reader.read(CHUNK):
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
                        sender = asyncio.create_task(send_when_due(queue, writer))
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

    # HTTP control interface ---------------------------------------------------------------

    async def _on_control(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._http_tasks.add(task)
        try:
            await serve_control(self, reader, writer)
        finally:
            self._http_tasks.discard(task)
