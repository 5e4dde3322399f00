"""What the database layer has seen: state for readiness, Prometheus metrics, EMF lines.

One :class:`DbObserver` per app. It owns its own Prometheus registry (so two apps in one
process, as in tests, never clash), made with its metrics when first asked for (the
service asks at once; a command, which never exposes them, never imports
``prometheus_client``: what it records until then is kept and replayed, in order, into
the metrics when they are made), and, when enabled, writes the cold-start and retry
figures as CloudWatch embedded-metric-format (EMF) JSON lines, which CloudWatch Logs turns
into metrics with no agent. Namespace, dimensions and metric names are the contract the
Terraform alarms use (``infra/modules/monitoring``).

Waits are logged at INFO on the ``rms.db.connect`` logger: each failed connection attempt
that will be retried (:class:`ConnectWait`: target, attempt, elapsed, reason; the record
also carries the short status a terminal shows on one updating line, see :mod:`rms.logs`)
and a connect that needed retries or was a cold start. The CLI and ``rms serve`` write that
logger to stderr (:func:`rms.logs.configure_logging`), so a waking or unreachable database
is never a silent wait.
"""

from __future__ import annotations

import json
import logging
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

from rms.logs import STATUS

if TYPE_CHECKING:  # imported when the metrics are first asked for: see _Metrics
    from prometheus_client import CollectorRegistry, Counter, Histogram
    from prometheus_client.registry import Collector

__all__ = ["EMF_METRICS", "ConnectWait", "DbObserver", "DbState", "PoolFigures"]

log = logging.getLogger("rms.db.connect")

#: Metric name -> CloudWatch unit, as agreed with the monitoring module.
EMF_METRICS = {
    "ColdStartCount": "Count",
    "ColdStartDurationMs": "Milliseconds",
    "ConnectRetryCount": "Count",
    "TransactionRetryCount": "Count",
    "ConnectFailureCount": "Count",
}


@dataclass(frozen=True)
class ConnectWait:
    """One failed connection attempt that will be retried: what is waited for, and why."""

    #: ``host:port/dbname``, never the user or the password.
    target: str
    attempt: int
    elapsed_seconds: float
    budget_seconds: float
    next_attempt_in_seconds: float
    #: The server's or the network's own words (``connection refused``, ...).
    reason: str

    def describe(self) -> str:
        """The line a log or a pipe gets, one per failed attempt."""
        return (
            f"waiting for the database at {self.target}: attempt {self.attempt} failed after "
            f"{self.elapsed_seconds:.1f} s of {self.budget_seconds:g} s ({self.reason}); "
            f"retrying in {self.next_attempt_in_seconds:.1f} s"
        )

    def status(self) -> str:
        """The one line a terminal shows, rewritten in place at each attempt."""
        return (
            f"waiting for the database at {self.target}: attempt {self.attempt}, "
            f"{self.elapsed_seconds:.1f} s of {self.budget_seconds:g} s ({self.reason})"
        )


@dataclass(frozen=True)
class PoolFigures:
    size: int
    in_use: int
    idle: int
    overflow: int
    waiting: int


@dataclass
class DbState:
    """The last known state of the database, as seen by real traffic (never probed)."""

    last_success_at: float | None = None
    last_failure_at: float | None = None
    last_failure: str | None = None
    last_failure_kind: str | None = None
    last_connect_seconds: float | None = None
    last_connect_cold: bool = False
    open_connections: int = 0
    #: The schema revision last read (a deep check, ``rms serve``'s start), and whether it
    #: was behind the head then; None while never read.
    schema_revision: str | None = None
    schema_behind: bool | None = None


def _pool_collector(figures: Callable[[], PoolFigures | None]) -> Collector:
    """The pool's gauges, read from ``figures`` at each scrape."""
    from prometheus_client.core import GaugeMetricFamily
    from prometheus_client.registry import Collector

    class PoolCollector(Collector):
        def collect(self) -> Iterator[GaugeMetricFamily]:
            now = figures()
            if now is None:
                return
            for name, value, doc in (
                ("rms_db_pool_in_use", now.in_use, "Connections checked out of the pool."),
                ("rms_db_pool_idle", now.idle, "Open connections waiting in the pool."),
                ("rms_db_pool_waiting", now.waiting, "Requests waiting for a connection."),
                ("rms_db_pool_size", now.size, "Configured pool size."),
            ):
                yield GaugeMetricFamily(name, doc, value=value)

    return PoolCollector()


class _Metrics:
    """An observer's Prometheus registry and the metrics in it."""

    def __init__(self, pool_figures: Callable[[], PoolFigures | None]) -> None:
        from prometheus_client import CollectorRegistry, Counter, Histogram

        self.registry = CollectorRegistry()
        self.connect_attempts = Counter(
            "rms_db_connect_attempts", "Connection attempts.", registry=self.registry
        )
        self.cold_starts = Counter(
            "rms_db_cold_starts",
            "Connects that took longer than the cold-start threshold.",
            registry=self.registry,
        )
        self.connect_seconds = Histogram(
            "rms_db_connect_seconds",
            "Time to establish a connection, retries included.",
            buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 15, 20, 30, 45, 60),
            registry=self.registry,
        )
        self.cold_start_seconds = Histogram(
            "rms_db_cold_start_seconds",
            "Duration of cold starts.",
            buckets=(2, 5, 10, 15, 20, 30, 45, 60, 90),
            registry=self.registry,
        )
        self.retries = Counter(
            "rms_db_retries", "Retries by reason.", ["reason"], registry=self.registry
        )
        self.connect_failures = Counter(
            "rms_db_connect_failures",
            "Connects that failed for good (budget spent or refused).",
            ["kind"],
            registry=self.registry,
        )
        self.abandoned_connections = Counter(
            "rms_db_abandoned_connections",
            "Connections given up on because they did not answer in time (reason: ping, "
            "the check before use; deadline, a request's or command's budget ran out).",
            ["reason"],
            registry=self.registry,
        )
        self.registry.register(_pool_collector(pool_figures))


class DbObserver:
    """Records connects, cold starts, retries and failures; thread-safe."""

    def __init__(
        self,
        *,
        cold_start_threshold_seconds: float = 2.0,
        emf: bool = False,
        namespace: str = "RMS/Database",
        environment: str = "dev",
        emf_stream: IO[str] | None = None,
    ) -> None:
        self.cold_start_threshold = cold_start_threshold_seconds
        self.state = DbState()
        self.started_at = time.time()
        self._lock = threading.Lock()
        self._emf = emf
        self._namespace = namespace
        self._environment = environment
        self._emf_stream = emf_stream
        self.pool_figures: Callable[[], PoolFigures | None] = lambda: None
        self._metrics: _Metrics | None = None
        #: What was recorded before the metrics were made, replayed into them in order.
        self._pending: list[Callable[[_Metrics], None]] = []
        self._metrics_lock = threading.Lock()

    # -- the Prometheus metrics, made on first use -------------------------------------------

    def metrics(self) -> _Metrics:
        """The registry and its metrics: made now if not yet, with what was recorded."""
        with self._metrics_lock:
            if self._metrics is None:
                made = _Metrics(lambda: self.pool_figures())
                for record in self._pending:
                    record(made)
                self._pending.clear()
                self._metrics = made
            return self._metrics

    def _record(self, record: Callable[[_Metrics], None]) -> None:
        with self._metrics_lock:
            if self._metrics is None:
                self._pending.append(record)
                return
            metrics = self._metrics
        record(metrics)

    @property
    def registry(self) -> CollectorRegistry:
        return self.metrics().registry

    @property
    def connect_attempts(self) -> Counter:
        return self.metrics().connect_attempts

    @property
    def cold_starts(self) -> Counter:
        return self.metrics().cold_starts

    @property
    def connect_seconds(self) -> Histogram:
        return self.metrics().connect_seconds

    @property
    def cold_start_seconds(self) -> Histogram:
        return self.metrics().cold_start_seconds

    @property
    def retries(self) -> Counter:
        return self.metrics().retries

    @property
    def connect_failures(self) -> Counter:
        return self.metrics().connect_failures

    @property
    def abandoned_connections(self) -> Counter:
        return self.metrics().abandoned_connections

    # -- events ------------------------------------------------------------------------------

    def attempt(self) -> None:
        self._record(lambda m: m.connect_attempts.inc())

    def connected(self, seconds: float, *, target: str | None = None, attempts: int = 1) -> None:
        cold = seconds > self.cold_start_threshold
        if target is not None and (cold or attempts > 1):
            log.info(
                "connected to the database at %s after %.1f s (%d attempt(s)%s)",
                target,
                seconds,
                attempts,
                ", a cold start" if cold else "",
            )
        self._record(lambda m: m.connect_seconds.observe(seconds))
        with self._lock:
            self.state.last_success_at = time.time()
            self.state.last_connect_seconds = seconds
            self.state.last_connect_cold = cold
            self.state.last_failure_kind = None
        if cold:
            self._record(lambda m: m.cold_starts.inc())
            self._record(lambda m: m.cold_start_seconds.observe(seconds))
            self._write_emf(ColdStartCount=1, ColdStartDurationMs=round(seconds * 1000, 1))

    def waiting(self, wait: ConnectWait) -> None:
        """A connection attempt failed and will be retried: say so, at INFO."""
        log.info("%s", wait.describe(), extra={STATUS: wait.status()})

    def retry(self, reason: str) -> None:
        self._record(lambda m: m.retries.labels(reason=reason).inc())
        name = "TransactionRetryCount" if reason.startswith("transaction") else "ConnectRetryCount"
        self._write_emf(**{name: 1})

    def failed(self, kind: str, message: str) -> None:
        self._record(lambda m: m.connect_failures.labels(kind=kind).inc())
        with self._lock:
            self.state.last_failure_at = time.time()
            self.state.last_failure = message
            self.state.last_failure_kind = kind
        self._write_emf(ConnectFailureCount=1)

    def abandoned(self, reason: str) -> None:
        """A connection did not answer in time and was shut down (see rms.db.watchdog)."""
        self._record(lambda m: m.abandoned_connections.labels(reason=reason).inc())
        log.info("abandoned a database connection that did not answer in time (%s)", reason)

    def succeeded(self) -> None:
        """A unit of work completed: the database is known to be up."""
        with self._lock:
            self.state.last_success_at = time.time()
            self.state.last_failure_kind = None

    def schema_seen(self, revision: str | None, head: str) -> None:
        """The database's schema revision was read: ``revision`` (None: unversioned)."""
        with self._lock:
            self.state.schema_revision = revision
            self.state.schema_behind = revision != head

    def snapshot(self) -> DbState:
        with self._lock:
            return DbState(**self.state.__dict__)

    # -- EMF ---------------------------------------------------------------------------------

    def _write_emf(self, **values: float) -> None:
        if not self._emf:
            return
        record: dict[str, Any] = {
            "_aws": {
                "Timestamp": int(time.time() * 1000),
                "CloudWatchMetrics": [
                    {
                        "Namespace": self._namespace,
                        "Dimensions": [["Service", "Environment"]],
                        "Metrics": [{"Name": n, "Unit": EMF_METRICS[n]} for n in values],
                    }
                ],
            },
            "Service": "rms",
            "Environment": self._environment,
            **values,
        }
        stream = self._emf_stream or sys.stdout
        stream.write(json.dumps(record, separators=(",", ":")) + "\n")
        stream.flush()
