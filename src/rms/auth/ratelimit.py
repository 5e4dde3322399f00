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
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from limits import RateLimitItem
    from limits.strategies import MovingWindowRateLimiter

__all__ = ["FailureLimiter"]


class FailureLimiter:
    def __init__(self, limit: int, window_seconds: int) -> None:
        self._limit, self._window_seconds = limit, window_seconds
        # Built on the first failure: until then no client has a hit to count, and
        # ``limits`` (with ``deprecated`` and ``wrapt``) stays out of the cold start.
        self._built: tuple[RateLimitItem, MovingWindowRateLimiter] | None = None
        self._building = threading.Lock()

    def _window(self) -> tuple[RateLimitItem, MovingWindowRateLimiter]:
        if self._built is not None:
            return self._built
        with self._building:
            if self._built is not None:
                return self._built
            from limits import RateLimitItemPerSecond
            from limits.storage import MemoryStorage
            from limits.strategies import MovingWindowRateLimiter

            item = RateLimitItemPerSecond(self._limit, self._window_seconds)
            self._built = item, MovingWindowRateLimiter(MemoryStorage())
            return self._built

    def retry_after(self, client: str) -> int | None:
        """Seconds until ``client`` may try again, or None when it may try now."""
        if self._built is None:  # nothing has failed yet
            return None
        item, limiter = self._built
        if limiter.test(item, client):
            return None
        stats = limiter.get_window_stats(item, client)
        return max(1, math.ceil(stats.reset_time - time.time()))

    def failed(self, client: str) -> None:
        item, limiter = self._window()
        limiter.hit(item, client)
