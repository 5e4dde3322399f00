"""How ``rms serve`` holds its connections: a cap, and a deadline for the request head.

uvicorn bounds what it can by configuration (:func:`uvicorn_limits`): the keep-alive idle
timeout, the largest request head (``h11_max_incomplete_event_size``) and
``limit_concurrency`` (a request arriving while that many connections or tasks are open
gets 503). Two things it has no setting for are added by :func:`bounded_protocol`, a
small subclass of uvicorn's h11 protocol:

- a deadline for the request head: a connection that has not sent a whole request line
  and headers ``header_timeout`` seconds after it connected (or after its previous
  response) is closed. uvicorn arms no timer on a new connection, and any byte that
  arrives cancels its keep-alive timer, so a client sending nothing, or one header line
  every few seconds, held a socket for as long as it liked;
- a cap on open connections: one over ``max_connections`` is closed as soon as it is
  accepted (``limit_concurrency`` only refuses *requests*, so idle sockets piled up).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

from rms.settings import Settings

__all__ = ["bounded_protocol", "uvicorn_limits"]


def uvicorn_limits(settings: Settings) -> dict[str, Any]:
    """The keyword arguments of ``uvicorn.run`` that bound connections and request heads."""
    return {
        "http": bounded_protocol(
            header_timeout=settings.serve_header_timeout_seconds,
            max_connections=settings.serve_max_connections,
        ),
        "timeout_keep_alive": settings.serve_keep_alive_seconds,
        "limit_concurrency": settings.serve_max_connections,
        "h11_max_incomplete_event_size": settings.serve_max_header_bytes,
    }


def bounded_protocol(*, header_timeout: float, max_connections: int) -> type[H11Protocol]:
    """uvicorn's h11 protocol with a request-head deadline and a connection cap."""

    class BoundedH11Protocol(H11Protocol):
        _head_deadline: asyncio.TimerHandle | None = None

        def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
            over = len(self.connections) >= max_connections
            super().connection_made(transport)
            if over:
                self.logger.warning("refused a connection: %d are open already", max_connections)
                transport.close()
                return
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self.conn.their_state is not h11.IDLE:
                self._disarm()  # the head is in (or the connection is ending)
            elif self._head_deadline is None:
                self._arm()  # the next request on a kept-alive connection

        def on_response_complete(self) -> None:
            super().on_response_complete()
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _arm(self) -> None:
            self._disarm()
            self._head_deadline = self.loop.call_later(header_timeout, self._head_too_slow)

        def _disarm(self) -> None:
            if self._head_deadline is not None:
                self._head_deadline.cancel()
                self._head_deadline = None

        def _head_too_slow(self) -> None:
            self._head_deadline = None
            if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
                self.transport.close()

    return BoundedH11Protocol
