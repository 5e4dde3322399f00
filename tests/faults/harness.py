"""The fault harness: real faults between the service and a real PostgreSQL.

* :func:`fault_proxy`: the Aurora emulator with pausing off, used as a loopback TCP proxy
  that can black-hole (swallow bytes, no RST), delay, cut mid-stream, reset and fail over;
* :func:`service_settings`: settings with a budget of a few seconds, so a test that fails
  does so quickly (tests assert statuses and counts; their own client timeouts are only a
  safety net);
* network namespaces and ``tc netem`` / nftables live in :mod:`tests.faults.netns`; the
  streaming replica and the name the service connects by in :mod:`tests.faults.failover`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from rms.devtools.aurora_sim import AuroraSim, aurora_sim
from rms.settings import Settings, load_settings

__all__ = ["BUDGET", "CLIENT_TIMEOUT", "fault_proxy", "service_settings"]

#: The request (and command) budget of the fault tests, in seconds.
BUDGET = 4.0
#: The tests' own HTTP client timeout: far past the budget, only there so a regression
#: fails the test instead of hanging it. Never the assertion.
CLIENT_TIMEOUT = BUDGET + 20


def service_settings(url: str, **overrides: Any) -> Settings:
    """Settings for a service (or command) under test behind a fault."""
    values: dict[str, Any] = {
        "database_url": url,
        "db_request_budget_seconds": BUDGET,
        "db_command_budget_seconds": BUDGET,
        "db_ping_timeout_seconds": 1.0,
        "db_cold_start_budget_seconds": 15,
        "db_connect_timeout_seconds": 2,
        "db_retry_initial_backoff_seconds": 0.05,
        "db_retry_max_backoff_seconds": 0.5,
        "reference_cache_ttl_seconds": 0,
        **overrides,
    }
    return load_settings(**values)


@contextlib.contextmanager
def fault_proxy(upstream: str | tuple[str, int], **options: Any) -> Iterator[AuroraSim]:
    """A started fault proxy in front of ``upstream`` (it never pauses)."""
    with aurora_sim(upstream, pause_after=None, **options) as proxy:
        yield proxy
