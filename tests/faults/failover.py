"""A failover the way RDS Multi-AZ does one, on one machine: the name moves to a new server.

* the **primary** PostgreSQL listens on 127.0.0.1 and replicates synchronously (so no
  acknowledged commit is lost, as with Multi-AZ's synchronous standby) to
* a **standby** made with ``pg_basebackup``, listening on 127.0.0.3:P;
* a **fault proxy** on 127.0.0.2:P forwards to the primary: it is "the primary's address";
* the service runs as a real ``rms serve`` process in its own mount namespace, where
  ``/etc/hosts`` is a file of the test's (bind-mounted), and connects by the *name*
  ``rms-db.test``, which that file points at 127.0.0.2.

:meth:`FailoverRig.fail_over` then does what AWS does: the primary's address goes silent
(black hole: no RST, the old connections just stop answering), the primary is stopped,
the standby is promoted, and the name is pointed at 127.0.0.3. The service has to notice
the dead connections, resolve the name afresh and carry on, with no restart.

:func:`run_load` is the steady read and write load (writes carry their own ids, so a
write whose answer was lost can be repeated safely, and duplicates are countable).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psycopg

from rms.db.engine import create_db_engine
from rms.devtools.aurora_sim import AuroraSim
from rms.devtools.pgcluster import PgCluster, free_port
from rms.schema.migrations import upgrade
from rms.settings import load_settings

__all__ = [
    "DB_NAME",
    "NAME",
    "FailoverRig",
    "HostsFile",
    "Outcome",
    "failover_unavailable",
    "run_load",
    "service_process",
]

NAME = "rms-db.test"
DB_NAME = "rms"
PRIMARY_ADDRESS, STANDBY_ADDRESS = "127.0.0.2", "127.0.0.3"


def failover_unavailable() -> str | None:
    """Why this machine cannot run the failover rig, or None if it can."""
    if shutil.which("unshare") is None:
        return "unshare (util-linux) is not installed"
    probe = subprocess.run(
        ["unshare", "--mount", "--", "true"],
        capture_output=True,
        text=True,
        check=False,
    )
    if probe.returncode != 0:
        return f"no private mount namespace here (unshare --mount: {probe.stderr.strip()})"
    return None


class HostsFile:
    """The ``/etc/hosts`` of the service's mount namespace: the test moves the name."""

    def __init__(self, path: Path, address: str) -> None:
        self.path = path
        self.point(address)

    def point(self, address: str) -> None:
        """Move the name to ``address`` as DNS does: at every moment it resolves, to the old
        address or the new one (never to nothing, as a truncate-then-write would allow).

        Rewritten in place (the bind mount is of this inode; a new file would not show), in
        one write of the same length: both addresses are as long as each other.
        """
        content = f"127.0.0.1 localhost\n::1 localhost\n{address} {NAME}\n".encode()
        fd = os.open(self.path, os.O_WRONLY | os.O_CREAT, 0o644)
        try:
            assert os.fstat(fd).st_size in (0, len(content)), "addresses of unequal length"
            os.pwrite(fd, content, 0)
        finally:
            os.close(fd)


@dataclass
class FailoverRig:
    """Primary, synchronous standby, the primary's address (a proxy) and the name."""

    workdir: Path
    primary: PgCluster = field(init=False)
    standby: PgCluster = field(init=False)
    proxy: AuroraSim = field(init=False)
    hosts: HostsFile = field(init=False)
    port: int = field(init=False)
    failed_over_at: float | None = None

    def start(self) -> FailoverRig:
        durable = {"fsync": "on", "synchronous_commit": "on"}
        self.primary = PgCluster(extra_conf=durable).start()
        with psycopg.connect(self._libpq(self.primary), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{DB_NAME}"')
        engine = create_db_engine(load_settings(database_url=self.primary.url(DB_NAME)))
        upgrade(engine)
        engine.dispose()
        self.port = free_port()
        self.standby = self.primary.start_replica(host=STANDBY_ADDRESS, port=self.port)
        self.proxy = AuroraSim(
            upstream=("127.0.0.1", self.primary.port),
            listen=(PRIMARY_ADDRESS, self.port),
            pause_after=None,
        ).start()
        # Synchronous only now that the standby streams: a commit is acknowledged once the
        # standby has it, so the promotion cannot lose an acknowledged write.
        with psycopg.connect(self._libpq(self.primary), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET synchronous_standby_names = '*'")
            conn.execute("SELECT pg_reload_conf()")
            deadline = time.monotonic() + 30
            while conn.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE sync_state = 'sync'"
            ).fetchone() != (1,):
                if time.monotonic() > deadline:
                    raise RuntimeError("the standby never became synchronous")
                time.sleep(0.05)
        self.hosts = HostsFile(self.workdir / "hosts", PRIMARY_ADDRESS)
        return self

    def stop(self) -> None:
        for stop in (self.proxy.stop, self.standby.stop, self.primary.stop):
            with contextlib.suppress(Exception):
                stop()

    @property
    def url(self) -> str:
        """What the service is configured with: the name, never an address."""
        return f"postgresql://postgres@{NAME}:{self.port}/{DB_NAME}"

    def fail_over(self) -> None:
        """The primary vanishes; the standby is promoted; the name moves to it."""
        self.failed_over_at = time.monotonic()
        self.proxy.blackhole()
        self.primary.stop()
        self.standby.promote()
        self.hosts.point(STANDBY_ADDRESS)

    def count_accounts(self) -> tuple[int, int]:
        """(rows, distinct names) in the promoted standby's accounts table."""
        with psycopg.connect(self._libpq(self.standby, DB_NAME)) as conn:
            row = conn.execute('SELECT count(*), count(DISTINCT name) FROM "accounts"').fetchone()
        assert row is not None
        return int(row[0]), int(row[1])

    def account_ids(self) -> set[str]:
        with psycopg.connect(self._libpq(self.standby, DB_NAME)) as conn:
            return {r[0] for r in conn.execute('SELECT id FROM "accounts"').fetchall()}

    @staticmethod
    def _libpq(cluster: PgCluster, dbname: str = "postgres") -> str:
        return f"host={cluster.host} port={cluster.port} user=postgres dbname={dbname}"


#: The service's sign-in token in these tests (``RMS_API_TOKEN``), and the header that sends it.
SERVICE_TOKEN = "failover-test-token-0123456789"
AUTH_HEADERS = {"Authorization": f"Bearer {SERVICE_TOKEN}"}


@contextlib.contextmanager
def service_process(
    rig: FailoverRig, env: dict[str, str], log_path: Path
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``rms serve`` in its own mount namespace, where /etc/hosts is ``rig.hosts``."""
    port = free_port()
    cmd = [
        "unshare",
        "--mount",
        "--",
        "sh",
        "-c",
        'mount --bind "$0" /etc/hosts && exec "$@"',
        str(rig.hosts.path),
        sys.executable,
        "-c",
        "from rms.cli import run; run()",
        "serve",
        "--port",
        str(port),
    ]
    full_env = {
        **os.environ,
        "DATABASE_URL": rig.url,
        "DB_SSLMODE": "disable",
        "RMS_API_TOKEN": SERVICE_TOKEN,
        **env,
    }
    with log_path.open("wb") as log:
        proc = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"rms serve exited: {log_path.read_text()[-2000:]}")
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{base}/health/live", timeout=2).status_code == 200:
                    break
            if time.monotonic() > deadline:
                raise RuntimeError("rms serve did not start")
            time.sleep(0.1)
        yield base, proc
    finally:
        proc.terminate()
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


@dataclass(frozen=True)
class Outcome:
    """One request of the load: what, when (monotonic), how long, what came back."""

    kind: str  # "read" or "write"
    started: float
    seconds: float
    status: int  # 0: no answer within the client's own timeout (a hang)
    retry_after: str | None = None
    account_id: str | None = None


def run_load(
    base_url: str,
    stop: threading.Event,
    outcomes: list[Outcome],
    *,
    client_timeout: float,
    pause: float = 0.02,
) -> None:
    """One client: a write (with its own id) and a read, again and again until ``stop``.

    A write that got no definite answer (503, a hang) is repeated with the same id once
    the service answers again, as a careful client does; the id makes it exactly-once.
    """
    pending: list[str] = []
    with httpx.Client(base_url=base_url, timeout=client_timeout, headers=AUTH_HEADERS) as http:
        while not stop.is_set():
            account_id = pending.pop() if pending else f"acct-{uuid.uuid4()}"
            outcome = _request(http, "write", account_id)
            outcomes.append(outcome)
            if outcome.status != 201:
                pending.append(account_id)
            outcomes.append(_request(http, "read", None))
            time.sleep(pause)
        while pending:  # settle what is still unknown, after the load
            account_id = pending.pop()
            outcome = _request(http, "write", account_id)
            outcomes.append(outcome)
            if outcome.status != 201:
                pending.append(account_id)
                time.sleep(0.2)


def _request(http: httpx.Client, kind: str, account_id: str | None) -> Outcome:
    started = time.monotonic()
    response: Any = None
    try:
        if kind == "write":
            response = http.post("/api/accounts", json={"id": account_id, "name": account_id})
        else:
            response = http.get("/api/accounts", params={"limit": 3})
    except httpx.HTTPError:
        response = None
    return Outcome(
        kind=kind,
        started=started,
        seconds=time.monotonic() - started,
        status=response.status_code if response is not None else 0,
        retry_after=response.headers.get("Retry-After") if response is not None else None,
        account_id=account_id,
    )
