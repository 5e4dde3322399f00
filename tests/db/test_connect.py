"""Connecting through cold starts: bounded retries, no loops on refused credentials."""

from __future__ import annotations

import io
import json
import logging
import socket
import time
from typing import Any

import psycopg
import pytest
from sqlalchemy.engine import make_url

from rms.db.connect import ColdStartConnector, RetryPolicy, describe_target
from rms.db.observe import DbObserver
from rms.devtools.pgcluster import free_port
from rms.errors import DatabaseAuthError, DatabaseError, DatabaseUnavailableError


class Rotating:
    """A credential source that hands out a list of users, one per refresh."""

    def __init__(self, *users: str) -> None:
        self.users = list(users)
        self.refreshes = 0

    def connect_params(self) -> dict[str, Any]:
        return {"user": self.users[min(self.refreshes, len(self.users) - 1)]}

    def refresh(self) -> None:
        self.refreshes += 1


def _params(url: str) -> dict[str, Any]:
    parsed = make_url(url)
    return {
        "host": parsed.host,
        "port": parsed.port,
        "dbname": parsed.database,
        "user": parsed.username,
    }


def _policy(budget: float = 2.0, *, wait_for_local: bool = False) -> RetryPolicy:
    sleeps: list[float] = []
    return RetryPolicy(
        wait_for_local=wait_for_local,
        budget_seconds=budget,
        initial_backoff_seconds=0.05,
        max_backoff_seconds=0.2,
        sleep=sleeps.append,
        rand=lambda: 0.5,
    )


def test_backoff_grows_and_is_capped() -> None:
    policy = RetryPolicy(initial_backoff_seconds=0.2, max_backoff_seconds=2.0, rand=lambda: 1.0)
    assert [policy.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [0.2, 0.4, 0.8, 1.6, 2.0, 2.0]
    low = RetryPolicy(initial_backoff_seconds=0.2, max_backoff_seconds=2.0, rand=lambda: 0.0)
    assert low.backoff(3) == pytest.approx(0.4)  # never below half the ceiling


def test_connects_and_records_the_connect(pg_url: str) -> None:
    observer = DbObserver()
    conn = ColdStartConnector(_policy(), observer).connect(_params(pg_url))
    assert conn.execute("SELECT 1").fetchone() == (1,)
    conn.close()
    state = observer.snapshot()
    assert state.last_connect_seconds is not None and state.last_connect_cold is False
    assert observer.connect_attempts._value.get() == 1


def test_refused_credentials_are_re_read_once_then_reported(pg_url: str) -> None:
    observer = DbObserver()
    source = Rotating("nobody_1", "nobody_2", "nobody_3")
    connector = ColdStartConnector(_policy(), observer, source)
    with pytest.raises(DatabaseAuthError) as info:
        connector.connect(_params(pg_url))
    assert source.refreshes == 1  # one re-read of the secret, no loop
    assert observer.connect_attempts._value.get() == 2
    assert "nobody_2" in str(info.value) and "after 2 attempt" in str(info.value)
    assert observer.snapshot().last_failure_kind == "auth"


def test_rotated_secret_is_picked_up_on_the_re_read(pg_url: str) -> None:
    source = Rotating("stale_user", "postgres")
    conn = ColdStartConnector(_policy(), DbObserver(), source).connect(_params(pg_url))
    assert source.refreshes == 1
    conn.close()


def test_missing_database_is_not_retried(pg_url: str) -> None:
    observer = DbObserver()
    params = {**_params(pg_url), "dbname": "not_there"}
    with pytest.raises(DatabaseError, match="does not exist"):
        ColdStartConnector(_policy(), observer).connect(params)
    assert observer.connect_attempts._value.get() == 1


def test_unreachable_server_is_retried_within_the_budget() -> None:
    observer = DbObserver()
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        time.sleep(seconds)

    policy = RetryPolicy(
        wait_for_local=True,  # a service, whose local server may be restarting
        budget_seconds=1.0,
        initial_backoff_seconds=0.05,
        max_backoff_seconds=0.1,
        sleep=sleep,
        rand=lambda: 0.0,
    )
    params = {"host": "127.0.0.1", "port": free_port(), "dbname": "x", "user": "x"}
    with pytest.raises(DatabaseUnavailableError, match="did not accept a connection"):
        ColdStartConnector(policy, observer).connect(params)
    attempts = observer.connect_attempts._value.get()
    assert attempts == len(sleeps) + 1
    assert 2 <= attempts <= 1.0 / 0.025 + 1  # bounded by budget / shortest pause
    assert sum(sleeps) <= 1.0
    assert observer.snapshot().last_failure_kind == "budget"


class Resolver:
    """The machine's resolver, failing for the first ``failures`` look-ups of the host.

    ``socket.getaddrinfo`` is the operating system's, not the database's: psycopg resolves
    host names with it before libpq connects, so this is where DNS trouble shows.
    """

    def __init__(self, host: str, failures: int, code: int) -> None:
        self.host, self.failures, self.code = host, failures, code
        self.lookups = 0
        self._real = socket.getaddrinfo

    def __call__(self, host: Any, *args: Any, **kwargs: Any) -> Any:
        if host == self.host:
            self.lookups += 1
            if self.lookups <= self.failures:
                raise socket.gaierror(self.code, _GAI[self.code])
            host = "127.0.0.1"
        return self._real(host, *args, **kwargs)


_GAI = {
    socket.EAI_AGAIN: "Temporary failure in name resolution",
    socket.EAI_NONAME: "Name or service not known",
}


def test_a_resolver_failing_for_a_moment_is_ridden_through(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver("db.example.test", failures=2, code=socket.EAI_AGAIN)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    observer = DbObserver()
    params = {**_params(pg_url), "host": "db.example.test"}
    conn = ColdStartConnector(_policy(), observer).connect(params)
    assert conn.execute("SELECT 1").fetchone() == (1,)
    conn.close()
    assert resolver.lookups == 3 and observer.connect_attempts._value.get() == 3


def test_a_name_that_does_not_exist_is_reported_at_once_as_unreachable(
    pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    resolver = Resolver("db.example.test", failures=1, code=socket.EAI_NONAME)
    monkeypatch.setattr(socket, "getaddrinfo", resolver)
    observer = DbObserver()
    params = {**_params(pg_url), "host": "db.example.test"}
    with pytest.raises(DatabaseUnavailableError) as info:
        ColdStartConnector(_policy(), observer).connect(params)
    assert resolver.lookups == 1  # a typo is not retried for the whole budget
    assert "host name does not resolve" in str(info.value)
    assert "'db.example.test'" in str(info.value)


def test_backoff_never_overflows() -> None:
    assert RetryPolicy(max_backoff_seconds=2.0, rand=lambda: 1.0).backoff(10_000) == 2.0


def test_cold_starts_are_written_as_emf_lines() -> None:
    stream = io.StringIO()
    observer = DbObserver(
        cold_start_threshold_seconds=2.0, emf=True, environment="prod", emf_stream=stream
    )
    observer.connected(0.3)  # warm: no line
    observer.connected(14.2)
    observer.retry("connect")
    observer.retry("transaction_transaction")
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert [
        sorted(k for k in line if k[0].isupper() and k not in ("Service", "Environment"))
        for line in lines
    ] == [
        ["ColdStartCount", "ColdStartDurationMs"],
        ["ConnectRetryCount"],
        ["TransactionRetryCount"],
    ]
    first = lines[0]
    assert first["ColdStartDurationMs"] == 14200.0
    assert first["Service"] == "rms" and first["Environment"] == "prod"
    directive = first["_aws"]["CloudWatchMetrics"][0]
    assert directive["Namespace"] == "RMS/Database"
    assert directive["Dimensions"] == [["Service", "Environment"]]
    assert {"Name": "ColdStartDurationMs", "Unit": "Milliseconds"} in directive["Metrics"]


def test_each_retried_attempt_is_logged_at_info_with_what_is_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A service waiting for its local server: target, attempt, elapsed and reason, per
    attempt (a command would fail at once there, see the next test)."""
    port = free_port()
    params = {"host": "127.0.0.1", "port": port, "dbname": "rms", "user": "u", "password": "pw-X9"}
    caplog.set_level(logging.INFO, logger="rms.db.connect")
    policy = _policy(budget=0.5, wait_for_local=True)
    with pytest.raises(DatabaseUnavailableError):
        ColdStartConnector(policy, DbObserver()).connect(params)
    waits = [r for r in caplog.records if r.name == "rms.db.connect"]
    assert len(waits) >= 2
    assert all(r.levelno == logging.INFO for r in waits)
    for number, record in enumerate(waits, start=1):
        message = record.getMessage()
        assert message.startswith(f"waiting for the database at 127.0.0.1:{port}/rms: ")
        assert f"attempt {number} failed after " in message
        assert "of 0.5 s (Connection refused); retrying in " in message
        assert "pw-X9" not in message and "u@" not in message


def test_a_connect_after_retries_is_logged_with_its_attempts(
    caplog: pytest.LogCaptureFixture,
) -> None:
    failures = [psycopg.OperationalError("connection failed: x failed: Connection refused")]

    def connect(**_params: Any) -> str:
        if failures:
            raise failures.pop()
        return "connection"

    caplog.set_level(logging.INFO, logger="rms.db.connect")
    connector = ColdStartConnector(_policy(), DbObserver(), connect=connect)
    assert connector.connect({"host": "db.example", "port": 5432, "dbname": "rms"}) == "connection"
    messages = [r.getMessage() for r in caplog.records if r.name == "rms.db.connect"]
    assert messages[0].startswith("waiting for the database at db.example:5432/rms: attempt 1")
    assert messages[1].startswith("connected to the database at db.example:5432/rms after ")
    assert "(2 attempt(s))" in messages[1]


def test_describe_target_never_shows_credentials() -> None:
    assert describe_target({"host": "h", "port": 1, "dbname": "d", "password": "p"}) == "h:1/d"
    assert describe_target({"dbname": "d", "user": "u"}) == "local socket/d"
    assert describe_target({"host": "h"}) == "h"


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "127.0.0.2", "socket dir"])
def test_a_connection_this_machine_refuses_is_one_attempt(
    host: str, tmp_path: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """Nothing resumes on a loopback address or a local socket: no wait, one attempt."""
    params = {
        "host": str(tmp_path) if host == "socket dir" else host,
        "port": 1 if host != "socket dir" else free_port(),
        "dbname": "x",
        "user": "nobody",
    }
    observer = DbObserver()
    caplog.set_level(logging.INFO, logger="rms.db.connect")
    with pytest.raises(DatabaseUnavailableError) as info:
        ColdStartConnector(_policy(budget=45), observer).connect(params)
    assert observer.connect_attempts._value.get() == 1
    assert [r for r in caplog.records if r.name == "rms.db.connect"] == []
    message = info.value.message
    assert message.startswith("nothing accepts connections at ")
    assert "check the host and port" in message and "1 attempt(s)" in message


def test_a_refusal_elsewhere_is_waited_for() -> None:
    """A remote host that refuses may be resuming (Aurora): retried within the budget."""
    failures = [
        psycopg.OperationalError(
            'connection to server at "10.0.0.7", port 5432 failed: Connection refused'
        )
        for _ in range(3)
    ]

    def connect(**_params: Any) -> str:
        if failures:
            raise failures.pop()
        return "connection"

    observer = DbObserver()
    connector = ColdStartConnector(_policy(budget=45), observer, connect=connect)
    assert connector.connect({"host": "db.example", "port": 5432}) == "connection"
    assert observer.connect_attempts._value.get() == 4


def test_local_hosts_are_recognised_literally() -> None:
    from rms.db.connect import is_local_host

    for host in (None, "", "/var/run/postgresql", "localhost", "127.0.0.1", "127.9.9.9", "::1",
                 "[::1]", "localhost,127.0.0.1"):  # fmt: skip
        assert is_local_host(host), host
    for host in ("db.example", "10.0.0.7", "localhost,db.example", "::2"):
        assert not is_local_host(host), host


def test_libpq_lines_keep_their_full_stops() -> None:
    from rms.db.connect import _server_message

    exc = psycopg.OperationalError(
        'connection to server at "h", port 1 failed: Connection refused\n'
        "\tIs the server running on that host and accepting TCP/IP connections?"
    )
    assert _server_message(exc) == (
        "Connection refused. Is the server running on that host and accepting TCP/IP connections?"
    )
