"""Real packet faults in a network namespace: ``tc netem`` where the kernel has it, nftables.

:class:`LossyLink` makes a namespace joined to this one by a veth pair (10.77.x.1 here,
10.77.x.2 there) and runs a relay in it (``rms dev aurora-sim`` with pausing off,
listening on 10.77.x.2) that forwards to a PostgreSQL here. The service connects to the
relay, so its database traffic crosses the veth, and only that traffic is touched:

* :meth:`LossyLink.shape` applies a round-trip delay and a packet loss: with ``tc netem``
  on both ends of the veth when the kernel has ``sch_netem``; otherwise the loss is real
  (nftables drops that share of the service's packets, ``numgen random``) and the delay is
  the relay's (half the round trip each way), which :attr:`LossyLink.method` says;
* :meth:`LossyLink.drop_all` drops every packet of the service's connections: no ACK, no
  RST, so only keepalives and ``tcp_user_timeout`` can tell (the kernel's side of noticing
  a dead peer, which a userspace black hole cannot show: its kernel still acknowledges).

Everything needs root (``CAP_NET_ADMIN``); :func:`netns_unavailable` names what is missing.
``nft`` comes from Debian's ``nftables`` package, installed here when missing (as
``iproute2`` would be), since the suite runs as root on a Debian machine.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
import uuid
from collections.abc import Iterator, Sequence

import psycopg

from rms.db.engine import create_db_engine
from rms.devtools.pgcluster import PgCluster, free_port
from rms.schema.migrations import upgrade
from rms.settings import load_settings

__all__ = ["LossyLink", "lossy_postgres", "netem_unavailable", "netns_unavailable"]

_NS_NET = "10.77"


def _run(cmd: Sequence[str], *, check: bool = True) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)}: {(proc.stderr or proc.stdout).strip()}")
    return proc


def _ensure_tool(tool: str, package: str) -> str | None:
    if shutil.which(tool):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return f"{tool} is not installed ({package}) and cannot be installed here"
    installed = _run(["apt-get", "install", "-y", "-q", package], check=False)
    if installed.returncode != 0:
        _run(["apt-get", "update", "-q"], check=False)
        installed = _run(["apt-get", "install", "-y", "-q", package], check=False)
    return None if shutil.which(tool) else f"installing {package} failed: {installed.stderr[-300:]}"


def netns_unavailable() -> str | None:
    """Why network namespaces with nftables cannot be used here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root (CAP_NET_ADMIN)"
    for tool, package in (("ip", "iproute2"), ("tc", "iproute2"), ("nft", "nftables")):
        reason = _ensure_tool(tool, package)
        if reason:
            return reason
    name = f"rmsprobe{uuid.uuid4().hex[:6]}"
    made = _run(["ip", "netns", "add", name], check=False)
    if made.returncode != 0:
        return f"the kernel refuses a network namespace: {made.stderr.strip()}"
    try:
        table = _run(
            ["ip", "netns", "exec", name, "nft", "add", "table", "inet", "probe"], check=False
        )
        if table.returncode != 0:
            return f"the kernel refuses nftables: {table.stderr.strip()}"
    finally:
        _run(["ip", "netns", "del", name], check=False)
    return None


def netem_unavailable() -> str | None:
    """Why ``tc netem`` cannot shape a link here (e.g. no sch_netem in the kernel), or None."""
    reason = netns_unavailable()
    if reason:
        return reason
    name = f"rmsprobe{uuid.uuid4().hex[:6]}"
    _run(["ip", "link", "add", f"{name}a", "type", "veth", "peer", "name", f"{name}b"])
    try:
        added = _run(
            ["tc", "qdisc", "add", "dev", f"{name}a", "root", "netem", "delay", "1ms"],
            check=False,
        )
        if added.returncode != 0:
            return (
                f"tc netem refused ({added.stderr.strip()}): this kernel has no sch_netem "
                "(CONFIG_NET_SCH_NETEM)"
            )
    finally:
        _run(["ip", "link", "del", f"{name}a"], check=False)
    return None


class LossyLink:
    """A namespace with a relay to ``upstream_port`` (a PostgreSQL listening on 10.77.x.1)."""

    def __init__(self, upstream_port: int, subnet: int | None = None) -> None:
        self.subnet = subnet if subnet is not None else 100 + (os.getpid() % 100)
        self.name = f"rmsf{uuid.uuid4().hex[:8]}"
        self.host_ip = f"{_NS_NET}.{self.subnet}.1"
        self.ns_ip = f"{_NS_NET}.{self.subnet}.2"
        self.upstream_port = upstream_port
        self.port = free_port()
        self.control_port = free_port()
        self.method = "none"
        self._relay: subprocess.Popen[bytes] | None = None

    # lifecycle --------------------------------------------------------------------------

    def start(self) -> LossyLink:
        veth, peer = f"{self.name}h", f"{self.name}n"
        _run(["ip", "netns", "add", self.name])
        try:
            _run(["ip", "link", "add", veth, "type", "veth", "peer", "name", peer])
            _run(["ip", "link", "set", peer, "netns", self.name])
            _run(["ip", "addr", "add", f"{self.host_ip}/24", "dev", veth])
            _run(["ip", "link", "set", veth, "up"])
            self._in_ns(["ip", "addr", "add", f"{self.ns_ip}/24", "dev", peer])
            self._in_ns(["ip", "link", "set", peer, "up"])
            self._in_ns(["ip", "link", "set", "lo", "up"])
            self._in_ns(["nft", "add", "table", "inet", "rmsfaults"])
            for hook in ("input", "output"):
                chain = f"{{ type filter hook {hook} priority 0; }}"
                self._in_ns(["nft", f"add chain inet rmsfaults {hook} {chain}"])
            self._start_relay()
        except BaseException:
            self.stop()
            raise
        return self

    def stop(self) -> None:
        if self._relay is not None:
            self._relay.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                self._relay.wait(10)
            if self._relay.poll() is None:
                self._relay.kill()
            self._relay = None
        _run(["ip", "link", "del", f"{self.name}h"], check=False)
        _run(["ip", "netns", "del", self.name], check=False)

    def __enter__(self) -> LossyLink:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # faults -----------------------------------------------------------------------------

    def url(self, dbname: str, user: str = "postgres") -> str:
        return f"postgresql+psycopg://{user}@{self.ns_ip}:{self.port}/{dbname}?sslmode=disable"

    def shape(self, *, round_trip_ms: int, loss_percent: int) -> str:
        """Delay and drop the service's packets; returns how (netem, or nftables + relay)."""
        half = round_trip_ms // 2
        netem = [
            "netem",
            "delay",
            f"{half}ms",
            "loss",
            f"{loss_percent}%",
        ]
        host_side = _run(
            ["tc", "qdisc", "add", "dev", f"{self.name}h", "root", *netem], check=False
        )
        if host_side.returncode == 0:
            self._in_ns(["tc", "qdisc", "add", "dev", f"{self.name}n", "root", *netem])
            self.method = f"tc netem: {half} ms and {loss_percent}% loss each way"
            return self.method
        self._nft_rules(f"numgen random mod 100 < {loss_percent} drop")
        self._control("POST", f"/delay?ms={half}")
        self.method = (
            f"nftables: {loss_percent}% of the service's packets dropped each way (numgen "
            f"random); relay: {half} ms each way (no sch_netem in this kernel)"
        )
        return self.method

    def drop_all(self) -> None:
        """Every packet of the service's connections vanishes: no ACK, no RST."""
        self._nft_rules("drop")

    def heal(self) -> None:
        for hook in ("input", "output"):
            self._in_ns(["nft", f"flush chain inet rmsfaults {hook}"])
        self._control("POST", "/heal")

    def relay_state(self) -> dict[str, object]:
        return self._control("GET", "/state")

    # helpers ----------------------------------------------------------------------------

    def _nft_rules(self, verdict: str) -> None:
        """Apply ``verdict`` to the service <-> relay packets only (not relay <-> server)."""
        for hook, match in (("input", "dport"), ("output", "sport")):
            self._in_ns(["nft", f"flush chain inet rmsfaults {hook}"])
            self._in_ns(
                ["nft", f"add rule inet rmsfaults {hook} tcp {match} {self.port} {verdict}"]
            )

    def _in_ns(self, cmd: Sequence[str]) -> subprocess.CompletedProcess[str]:
        return _run(["ip", "netns", "exec", self.name, *cmd])

    def _start_relay(self) -> None:
        cmd = [
            "ip",
            "netns",
            "exec",
            self.name,
            sys.executable,
            "-c",
            "from rms.cli import run; run()",
            "dev",
            "aurora-sim",
            "--upstream",
            f"postgresql://{self.host_ip}:{self.upstream_port}",
            "--listen",
            f"{self.ns_ip}:{self.port}",
            "--control",
            f"{self.ns_ip}:{self.control_port}",
            "--pause-after",
            "0",
        ]
        self._relay = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while True:
            with contextlib.suppress(OSError):
                self._control("GET", "/state")
                return
            if self._relay.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the relay in the namespace did not start")
            time.sleep(0.1)

    def _control(self, method: str, path: str) -> dict[str, object]:
        request = urllib.request.Request(
            f"http://{self.ns_ip}:{self.control_port}{path}", method=method
        )
        with urllib.request.urlopen(request, timeout=5) as response:
            body: dict[str, object] = json.loads(response.read())
            return body


@contextlib.contextmanager
def lossy_postgres(dbname: str = "rms") -> Iterator[tuple[LossyLink, PgCluster]]:
    """A PostgreSQL (database ``dbname`` at the schema head) behind a :class:`LossyLink`.

    The veth address must exist before PostgreSQL listens on it, so the link (and its
    relay, to the port the cluster is about to take) starts first.
    """
    cluster = PgCluster()
    link = LossyLink(cluster.port).start()
    try:
        cluster.extra_conf["listen_addresses"] = f"'127.0.0.1,{link.host_ip}'"
        cluster.start()
        with (cluster.data_dir / "pg_hba.conf").open("a") as fh:
            fh.write(f"host all all {link.host_ip.rsplit('.', 1)[0]}.0/24 trust\n")
        dsn = f"host=127.0.0.1 port={cluster.port} user=postgres"
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute("SELECT pg_reload_conf()")
            conn.execute(f'CREATE DATABASE "{dbname}"')
        engine = create_db_engine(load_settings(database_url=cluster.url(dbname)))
        upgrade(engine)
        engine.dispose()
        yield link, cluster
    finally:
        link.stop()
        cluster.stop()
