"""API Gateway HTTP API events (payload format 2.0), built as AWS documents them.

The shape follows "Working with AWS Lambda proxy integrations for HTTP APIs" in the API
Gateway developer guide: ``version`` "2.0", ``routeKey`` "$default", ``rawPath`` and
``rawQueryString``, ``cookies`` as a list, lower-case ``headers`` (API Gateway joins repeated
headers with commas), ``queryStringParameters``, ``requestContext`` with ``http`` (method,
path, protocol, sourceIp, userAgent), a base64-encoded ``body`` when it is binary. What the
tests hand the function is what API Gateway would hand it; what they read back is the
response dict API Gateway turns into an HTTP response.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from http.cookies import SimpleCookie
from typing import Any
from urllib.parse import parse_qsl, urlencode

API_ID = "a1b2c3d4e5"
REGION = "us-east-1"
HOST = f"{API_ID}.execute-api.{REGION}.amazonaws.com"
PUBLIC_URL = f"https://{HOST}"


@dataclass
class LambdaContext:
    """The context object the Python runtime passes (the attributes the adapter reads)."""

    function_name: str = "rms-dev-service"
    function_version: str = "$LATEST"
    memory_limit_in_mb: int = 512
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    deadline_ms: int = field(default_factory=lambda: int(time.time() * 1000) + 30_000)

    @property
    def invoked_function_arn(self) -> str:
        return f"arn:aws:lambda:{REGION}:123456789012:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, self.deadline_ms - int(time.time() * 1000))


def http_event(
    method: str,
    path: str,
    *,
    query: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
    cookies: list[str] | None = None,
    json_body: Any = None,
    body: bytes | None = None,
    host: str = HOST,
    source_ip: str = "203.0.113.7",
) -> dict[str, Any]:
    """One HTTP API request as the Lambda proxy integration (payload 2.0) delivers it."""
    raw_query = urlencode(query or {})
    all_headers = {
        "accept": "application/json",
        "content-length": "0",
        "host": host,
        "user-agent": "Mozilla/5.0 (rms tests)",
        "x-amzn-trace-id": f"Root=1-{uuid.uuid4().hex[:8]}-{uuid.uuid4().hex[:24]}",
        "x-forwarded-for": source_ip,
        "x-forwarded-port": "443",
        "x-forwarded-proto": "https",
    }
    payload: bytes | None = body
    if json_body is not None:
        payload = json.dumps(json_body).encode()
        all_headers["content-type"] = "application/json"
    if payload is not None:
        all_headers["content-length"] = str(len(payload))
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    now = time.time()
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": raw_query,
        "headers": all_headers,
        "requestContext": {
            "accountId": "123456789012",
            "apiId": API_ID,
            "domainName": host,
            "domainPrefix": host.split(".")[0],
            "http": {
                "method": method.upper(),
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": all_headers["user-agent"],
            },
            "requestId": base64.b32encode(uuid.uuid4().bytes[:10]).decode()[:16],
            "routeKey": "$default",
            "stage": "$default",
            "time": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
            "timeEpoch": int(now * 1000),
        },
        "isBase64Encoded": False,
    }
    if cookies:
        event["cookies"] = list(cookies)
    if query:
        event["queryStringParameters"] = dict(query)
    if payload is not None:
        try:
            event["body"] = payload.decode()
        except UnicodeDecodeError:
            event["body"] = base64.b64encode(payload).decode()
            event["isBase64Encoded"] = True
    return event


@dataclass
class Reply:
    """The function's answer, read the way API Gateway reads it."""

    raw: dict[str, Any]

    @property
    def status(self) -> int:
        return int(self.raw["statusCode"])

    @property
    def headers(self) -> dict[str, str]:
        return {k.lower(): v for k, v in self.raw.get("headers", {}).items()}

    @property
    def body(self) -> bytes:
        text = self.raw.get("body") or ""
        return base64.b64decode(text) if self.raw.get("isBase64Encoded") else text.encode()

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def set_cookies(self) -> list[str]:
        """Set-Cookie values: payload 2.0 answers carry them in ``cookies``."""
        return list(self.raw.get("cookies", []))

    def cookie_pairs(self) -> list[str]:
        """``name=value`` of each cookie set (and not deleted), as a browser sends them back."""
        pairs = []
        for line in self.set_cookies:
            jar: SimpleCookie = SimpleCookie()
            jar.load(line)
            for name, morsel in jar.items():
                if morsel.value and morsel["max-age"] != "0":
                    pairs.append(f"{name}={morsel.value}")
        return pairs

    def location_query(self) -> dict[str, str]:
        return dict(parse_qsl(self.headers["location"].partition("?")[2]))
