"""One proxied connection and the socket-level helpers the emulator's faults use."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct

#: How long an upstream connect may take before the client is given up on.
UPSTREAM_CONNECT_TIMEOUT_SECONDS = 10.0
CHUNK = 64 * 1024


class Conn:
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


async def send_when_due(
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


def reset(writer: asyncio.StreamWriter) -> None:
    """Close with a TCP reset so the client fails at once, like a refused connection."""
    sock = writer.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()
