"""The threaded front end: the emulator on its own event loop, for synchronous code and tests."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from collections.abc import Callable, Iterator
from typing import Self, TypeVar

from rms.devtools.aurora_sim.emulator import AuroraEmulator
from rms.devtools.aurora_sim.state import (
    Address,
    Phase,
    SimMode,
    SimState,
    parse_upstream_url,
)
from rms.errors import RmsError

__all__ = ["AuroraSim", "aurora_sim"]

_T = TypeVar("_T")


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
