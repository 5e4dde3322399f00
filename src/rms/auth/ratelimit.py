"""A limit on failed sign-ins per client, so a token cannot be guessed at request speed.

``limits``' moving window over in-process memory: each refused credential (a wrong bearer
token, a wrong token on the sign-in URL, a failed OIDC callback) counts against the
client's address; past ``AUTH_FAILURE_LIMIT`` in ``AUTH_FAILURE_WINDOW_SECONDS`` the client's
credentials are not even checked and it gets 429 with ``Retry-After`` until the window
has moved on. Requests without a credential do not count (they are refused anyway), nor
do good ones. The client's address is the one the server reports (uvicorn honours
X-Forwarded-For only from the proxies it trusts; behind API Gateway, Mangum reports the
caller's source address). Memory is per process, which for one owner is the point: it
slows a guesser, it is not an account lockout.
"""

from __future__ import annotations

import math
import time

from limits import RateLimitItemPerSecond
from limits.storage import MemoryStorage
from limits.strategies import MovingWindowRateLimiter

__all__ = ["FailureLimiter"]


class FailureLimiter:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self._item = RateLimitItemPerSecond(limit, window_seconds)
        self._limiter = MovingWindowRateLimiter(MemoryStorage())

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it may try now."""
        if self._limiter.test(self._item, client):
            return None
        stats = self._limiter.get_window_stats(self._item, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def failed(self, client: str) -> None:
        self._limiter.hit(self._item, client)
