"""A throwaway PostgreSQL cluster for tests, benchmarks and trying the service locally.

PostgreSQL refuses to run as root; when we are root the cluster is created and run as the
``postgres`` system user, in a directory that user owns. The cluster listens on loopback
only, on a free port, with trust authentication for the local superuser plus a password
role for tests that need one. ``host`` picks another loopback address (127.0.0.2, ...), so
two clusters can share a port and a host name can be moved from one to the other (the
failover tests); :meth:`PgCluster.start_replica` makes a streaming standby of a running
cluster with ``pg_basebackup`` and :meth:`PgCluster.promote` promotes it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from rms.errors import RmsError

__all__ = ["PgCluster", "find_pg_bin", "free_port", "running_cluster"]

_PG_BIN_CANDIDATES = ("/usr/lib/postgresql/15/bin", "/usr/lib/postgresql/16/bin")


def find_pg_bin() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``."""
    for candidate in _PG_BIN_CANDIDATES:
        if (Path(candidate) / "initdb").exists():
            return Path(candidate)
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    raise RmsError("PostgreSQL server binaries (initdb, pg_ctl) were not found on this machine")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _as_postgres_user(cmd: Sequence[str]) -> list[str]:
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--", *cmd]
    return list(cmd)


@dataclass
class PgCluster:
    """A PostgreSQL cluster in a temporary directory; :meth:`start` and :meth:`stop` it."""

    port: int = field(default_factory=free_port)
    superuser: str = "postgres"
    host: str = "127.0.0.1"
    extra_conf: dict[str, str] = field(default_factory=dict)
    base_dir: Path | None = None
    _tmp: Path | None = None

    @property
    def data_dir(self) -> Path:
        assert self._tmp is not None, "cluster not started"
        return self._tmp / "data"

    @property
    def socket_dir(self) -> Path:
        assert self._tmp is not None, "cluster not started"
        return self._tmp / "sock"

    def url(self, dbname: str = "postgres", user: str | None = None, password: str = "") -> str:
        """A psycopg SQLAlchemy URL for this cluster over TCP loopback."""
        auth = user or self.superuser
        if password:
            auth = f"{auth}:{password}"
        return f"postgresql+psycopg://{auth}@{self.host}:{self.port}/{dbname}"

    def start(self) -> PgCluster:
        bindir = find_pg_bin()
        self._tmp = Path(tempfile.mkdtemp(prefix="rms-pg-", dir=self.base_dir))
        self.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(self._tmp, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        self._run(
            [
                str(bindir / "initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                self.superuser,
                "--auth=trust",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
            ]
        )
        self._write_conf(
            {
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "300",
                "shared_buffers": "256MB",
                **self.extra_conf,
            }
        )
        with (self.data_dir / "pg_hba.conf").open("a") as fh:
            fh.write("host all all 127.0.0.0/8 trust\nhost replication all 127.0.0.0/8 trust\n")
        self._pg_ctl("start", "-w", "-t", "60", "-l", str(self._tmp / "server.log"))
        return self

    def start_replica(self, *, host: str, port: int | None = None) -> PgCluster:
        """A streaming standby of this (running) cluster, started, at ``host``:``port``.

        ``pg_basebackup -R`` copies the data directory and writes the standby's connection
        to this primary; the standby listens on its own address and socket directory.
        """
        replica = PgCluster(
            port=port or self.port,
            superuser=self.superuser,
            host=host,
            extra_conf=dict(self.extra_conf),
            base_dir=self.base_dir,
        )
        replica._tmp = Path(tempfile.mkdtemp(prefix="rms-pg-replica-", dir=self.base_dir))
        replica.socket_dir.mkdir()
        if os.geteuid() == 0:
            shutil.chown(replica._tmp, "postgres", "postgres")
            shutil.chown(replica.socket_dir, "postgres", "postgres")
        self._run(
            [
                str(find_pg_bin() / "pg_basebackup"),
                "-D",
                str(replica.data_dir),
                "-h",
                self.host,
                "-p",
                str(self.port),
                "-U",
                self.superuser,
                "-R",
                "-X",
                "stream",
                "--checkpoint=fast",  # the default spreads the checkpoint over minutes
                "--no-sync",
            ]
        )
        # Once promoted it stands alone: it must not wait for a standby of its own.
        replica._write_conf({"synchronous_standby_names": "''"})
        replica._pg_ctl("start", "-w", "-t", "60", "-l", str(replica.log_file))
        return replica

    def promote(self) -> None:
        """Promote a standby to primary and wait until it accepts writes."""
        self._pg_ctl("promote", "-w", "-t", "60")

    def _write_conf(self, extra: dict[str, str]) -> None:
        conf = {
            "listen_addresses": f"'{self.host}'",
            "port": str(self.port),
            "unix_socket_directories": f"'{self.socket_dir}'",
            **extra,
        }
        with (self.data_dir / "postgresql.conf").open("a") as fh:
            for key, value in conf.items():
                fh.write(f"{key} = {value}\n")

    def restart(self) -> None:
        """Stop immediately (dropping every connection) and start again on the same port."""
        self._pg_ctl("restart", "-m", "immediate", "-w", "-t", "60", "-l", str(self.log_file))

    @property
    def log_file(self) -> Path:
        assert self._tmp is not None
        return self._tmp / "server.log"

    def stop(self) -> None:
        if self._tmp is None:
            return
        with contextlib.suppress(subprocess.CalledProcessError):
            self._pg_ctl("stop", "-m", "immediate", "-w")
        shutil.rmtree(self._tmp, ignore_errors=True)
        self._tmp = None

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                socket.create_connection((self.host, self.port), timeout=1),
            ):
                return
            time.sleep(0.1)
        raise RmsError(f"PostgreSQL on {self.host}:{self.port} did not accept connections")

    def _pg_ctl(self, *args: str) -> None:
        self._run([str(find_pg_bin() / "pg_ctl"), "-D", str(self.data_dir), *args])

    @staticmethod
    def _run(cmd: Sequence[str]) -> None:
        proc = subprocess.run(  # noqa: S603 - fixed argument list, no shell
            _as_postgres_user(cmd), capture_output=True, text=True, check=False
        )
        if proc.returncode != 0:
            raise RmsError(
                f"{Path(cmd[0]).name} failed (exit {proc.returncode}): "
                f"{(proc.stderr or proc.stdout).strip()[-2000:]}"
            )


@contextlib.contextmanager
def running_cluster(**kwargs: object) -> Iterator[PgCluster]:
    """Start a cluster for the duration of a ``with`` block."""
    cluster = PgCluster(**kwargs)  # type: ignore[arg-type]
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()
