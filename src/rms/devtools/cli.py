"""``rms dev``: developer tools, starting with ``aurora-sim``, the pausing-Aurora emulator.

Errors the user can fix (a bad address, a port in use) are :class:`~rms.errors.RmsError`
subclasses, printed by :func:`rms.cli.main` (one line, exit status 2). Ctrl-C and SIGTERM
stop the emulator cleanly: connections are closed, a last line is logged, no traceback.
"""

from __future__ import annotations

import contextlib
import signal
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated

import typer

from rms.clikit import command_group
from rms.devtools.aurora_sim import Address, SimMode, parse_host_port, parse_upstream_url

if TYPE_CHECKING:  # asyncio and the proxy are imported by the command, not to register it
    from rms.devtools.aurora_sim import AuroraEmulator

__all__ = ["app"]

app = command_group("Developer tools: an emulator of a pausing Aurora Serverless v2 database.")


@app.callback()
def dev() -> None:
    """Developer tools: an emulator of a pausing Aurora Serverless v2 database."""
    # A callback keeps this a command group: a Typer app with a single command and no
    # callback would collapse into that command, and `aurora-sim` would stop being a name.


#: How long the start-up reachability check of the upstream may take.
_PROBE_TIMEOUT_SECONDS = 2.0


def _log_line(message: str) -> None:
    """One timestamped line on stdout, flushed so it shows up at once when piped."""
    stamp = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    print(f"{stamp} {message}", flush=True)


def _control_address(control: str, listen: Address) -> Address | None:
    """``--control``: ``off``, ``HOST:PORT``, or empty for the listen host on port + 1."""
    if control.strip().lower() in ("off", "none", "no"):
        return None
    if not control.strip():
        host, port = listen
        return host, (port + 1 if port else 0)
    return parse_host_port(control, what="--control")


@app.command("aurora-sim")
def aurora_sim(
    upstream: Annotated[
        str,
        typer.Option(
            help="The real PostgreSQL, as postgresql://HOST[:PORT] (user and database ignored).",
        ),
    ],
    listen: Annotated[
        str, typer.Option(help="HOST:PORT where clients connect instead of PostgreSQL.")
    ] = "127.0.0.1:6432",
    pause_after: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="Pause after this many seconds with no client connection (Aurora: 300+); "
            "0 never pauses (a fault injector only).",
        ),
    ] = 300.0,
    resume_delay: Annotated[
        float,
        typer.Option(min=0.0, help="Seconds a resume takes (Aurora: about 15, 30+ after a day)."),
    ] = 15.0,
    mode: Annotated[
        SimMode,
        typer.Option(
            case_sensitive=False,
            help="While resuming: hold new connections until resumed (like Aurora) or refuse.",
        ),
    ] = SimMode.HOLD,
    control: Annotated[
        str,
        typer.Option(
            help="HOST:PORT of the HTTP control interface (GET /state; POST /drop, /pause, "
            "/blackhole, /heal, /failover, /delay?ms=N, /cut?after=N, /reset); default: the "
            "listen host on the listen port + 1; 'off' to disable.",
            show_default=False,
        ),
    ] = "",
    failover_upstream: Annotated[
        str | None,
        typer.Option(
            help="A second PostgreSQL (postgresql://HOST[:PORT]) that POST /failover points "
            "at, dropping every connection (a promoted standby).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Proxy to PostgreSQL that pauses when unused and resumes slowly, like Aurora Serverless v2.

    With no client connection for --pause-after seconds it pauses; the next connection wakes
    it, and is held (or refused) until --resume-delay seconds have passed. Any open
    connection, even idle, keeps it awake. Logs one line per state change on stdout.

    Faults on demand, through the control interface: POST /blackhole (connections stay
    open, every byte vanishes), /heal, /failover (drop all, point at --failover-upstream),
    /delay?ms=N, /cut?after=N (FIN mid-answer), /reset (RST).
    """
    import asyncio

    from rms.devtools.aurora_sim import AuroraEmulator

    upstream_address = parse_upstream_url(upstream)
    second = parse_upstream_url(failover_upstream) if failover_upstream else None
    listen_address = parse_host_port(listen, what="--listen")
    emulator = AuroraEmulator(
        upstream=upstream_address,
        listen=listen_address,
        pause_after=pause_after or None,
        resume_delay=resume_delay,
        mode=mode,
        control=_control_address(control, listen_address),
        log=_log_line,
        failover_upstream=second,
    )
    # Ctrl-C cancels _serve, whose finally closes everything; then asyncio.run re-raises.
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(emulator))
    _log_line("aurora-sim: stopped")


async def _serve(emulator: AuroraEmulator) -> None:
    """Run until SIGTERM or Ctrl-C (which asyncio turns into cancelling this coroutine)."""
    import asyncio

    await emulator.start()
    try:
        await _probe_upstream(emulator.upstream)
        stop = asyncio.Event()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
        await stop.wait()
    finally:
        await emulator.close()


async def _probe_upstream(upstream: Address) -> None:
    """Warn (not fail) when PostgreSQL is not reachable: it may well be started later."""
    import asyncio

    try:
        _, writer = await asyncio.wait_for(
            asyncio.open_connection(*upstream), _PROBE_TIMEOUT_SECONDS
        )
    except (OSError, TimeoutError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
        _log_line(
            f"aurora-sim: warning: upstream {upstream[0]}:{upstream[1]} is not reachable now"
            f" ({reason}); client connections will be closed until it is"
        )
        return
    writer.close()
    with contextlib.suppress(OSError):
        await writer.wait_closed()
