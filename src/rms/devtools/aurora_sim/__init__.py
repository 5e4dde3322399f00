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

from typing import TYPE_CHECKING, Any

from rms.devtools.aurora_sim.state import (
    Address,
    Phase,
    SimMode,
    SimState,
    parse_host_port,
    parse_upstream_url,
)
from rms.lazy import attribute_from

if TYPE_CHECKING:
    from rms.devtools.aurora_sim.emulator import UPSTREAM_CONNECT_TIMEOUT_SECONDS, AuroraEmulator
    from rms.devtools.aurora_sim.sim import AuroraSim, aurora_sim

#: Loaded on first use (PEP 562): the CLI imports this package to register ``rms dev
#: aurora-sim``, and the other commands must not pay for asyncio and the proxy.
_LAZY = {
    "UPSTREAM_CONNECT_TIMEOUT_SECONDS": "emulator",
    "AuroraEmulator": "emulator",
    "AuroraSim": "sim",
    "aurora_sim": "sim",
}


def __getattr__(name: str) -> Any:
    return attribute_from(
        __name__, {k: f"rms.devtools.aurora_sim.{v}" for k, v in _LAZY.items()}, name
    )


__all__ = [
    "UPSTREAM_CONNECT_TIMEOUT_SECONDS",
    "Address",
    "AuroraEmulator",
    "AuroraSim",
    "Phase",
    "SimMode",
    "SimState",
    "aurora_sim",
    "parse_host_port",
    "parse_upstream_url",
]
