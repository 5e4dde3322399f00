"""The emulator's HTTP control interface: ``GET /state`` and the ``POST`` commands."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from rms.devtools.aurora_sim.state import _fmt, parse_host_port
from rms.errors import InvalidInputError

if TYPE_CHECKING:
    from rms.devtools.aurora_sim.emulator import AuroraEmulator

_HTTP_HEADER_LIMIT = 16 * 1024


async def serve_control(
    emulator: AuroraEmulator, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
) -> None:
    """Answer one HTTP request on the control port with JSON, then close the connection."""
    try:
        status, body = await _handle_http(emulator, reader)
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


async def _handle_http(
    emulator: AuroraEmulator, reader: asyncio.StreamReader
) -> tuple[int, dict[str, Any]]:
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
        "/state": ("GET", lambda: emulator.snapshot().to_json_dict()),
        "/drop": ("POST", lambda: {"dropped": emulator.drop_all("POST /drop")}),
        "/pause": ("POST", lambda: {"paused": emulator.pause_now()}),
        "/blackhole": ("POST", lambda: {"blackholed": emulator.set_blackhole(True)}),
        "/heal": ("POST", emulator.heal),
        "/delay": ("POST", lambda: _delay_from(emulator, query)),
        "/failover": ("POST", lambda: _failover_from(emulator, query)),
        "/reset": ("POST", lambda: {"reset": emulator.reset_all()}),
        "/cut": ("POST", lambda: {"cut": emulator.cut_all(_int_param(query, "after", 0))}),
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
        result["state"] = emulator.snapshot().to_json_dict()
    return 200, result


def _delay_from(emulator: AuroraEmulator, query: dict[str, str]) -> dict[str, Any]:
    emulator.set_delay(_int_param(query, "ms", 0) / 1000)
    return {"delay_ms": emulator.delay * 1000}


def _failover_from(emulator: AuroraEmulator, query: dict[str, str]) -> dict[str, Any]:
    given = query.get("upstream")
    to = parse_host_port(given, what="upstream") if given else None
    return {"upstream": _fmt(emulator.failover(to))}


def _int_param(query: dict[str, str], name: str, default: int) -> int:
    value = query.get(name)
    if value is None:
        return default
    if not value.isdigit():
        raise InvalidInputError(f"{name} must be a whole number >= 0, got {value!r}", field=name)
    return int(value)
