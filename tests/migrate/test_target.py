"""The target is reached through rms.db, as the service reaches it: credentials from the
settings (Secrets Manager here), the cold-start wait, TLS verify-full; nothing secret on a
command line or in any output.

The end-to-end case is what the Terraform's Aurora looks like to an operator: the master
password exists only in Secrets Manager (a moto server on loopback, reached through
``AWS_ENDPOINT_URL``), the cluster is paused when the command starts and accepts connections
8 s later (the Aurora emulator in front of a TLS, scram-password PostgreSQL), and ``rms`` runs
as a subprocess with only ``DB_*`` variables in its environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import boto3
import psycopg
import pytest

from rms.devtools.aurora_sim import AuroraSim, Phase, SimMode
from rms.devtools.pgcluster import free_port
from tests.db.pg_tls import (  # noqa: F401
    REGION,
    TlsCluster,
    fixture_make_role,
    fixture_tls_cluster,
)
from tests.migrate.conftest import libpq, target_state, write_source

SECRET = "Aurora-Master-Pw-7f3a9c1e"


@pytest.fixture
def moto_server() -> Iterator[str]:
    """A moto server on loopback: the AWS endpoint a subprocess reaches by URL."""
    from moto.server import ThreadedMotoServer

    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


def _aws_env(endpoint: str) -> dict[str, str]:
    return {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
    }


def _rms(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("DB_", "DATABASE_URL"))}
    base = {k: v for k, v in base.items() if not k.startswith("AWS_")}
    return subprocess.run(
        [sys.executable, "-m", "rms.cli", *args],
        env={**base, **env},
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


@pytest.mark.slow
def test_secret_only_in_secrets_manager_and_target_down_at_start(
    tls_cluster: TlsCluster,
    make_role: Callable[[str], str],
    moto_server: str,
    tmp_path: Path,
) -> None:
    role = make_role(SECRET)
    secrets = boto3.client(
        "secretsmanager", endpoint_url=moto_server, region_name=REGION,
        aws_access_key_id="testing", aws_secret_access_key="testing",
    )  # fmt: skip
    # What an RDS-managed master secret holds: the user and the password, nothing else.
    arn = secrets.create_secret(
        Name="rds!cluster-rms", SecretString=json.dumps({"username": role, "password": SECRET})
    )["ARN"]
    source = write_source(tmp_path / "rms.db")
    sim = AuroraSim(
        upstream=("127.0.0.1", tls_cluster.port),
        pause_after=300,
        resume_delay=8,
        mode=SimMode.REFUSE,  # down: connections are refused until it is up
        control=None,
    ).start()
    try:
        sim.pause_now()
        assert sim.state().state is Phase.PAUSED
        env = {
            **_aws_env(moto_server),
            "DB_HOST": "localhost",
            "DB_PORT": str(sim.port),
            "DB_NAME": role,
            "DB_SECRET_ARN": arn,
            "DB_SSLMODE": "verify-full",
            "DB_SSLROOTCERT": str(tls_cluster.pki.ca),
            "RMS_STATE_DIR": str(tmp_path / "state"),
        }
        runs: list[tuple[list[str], subprocess.CompletedProcess[str]]] = []
        migrate = ["db", "migrate", "--from", str(source)]
        runs.append((migrate, _rms(migrate, env, tmp_path)))
        assert runs[0][1].returncode == 0, runs[0][1].stderr
        state = sim.state()
        # It really was down at the start, then came up.
        assert state.resumes == 1 and state.connections_refused >= 1
        for args in (
            ["db", "verify", "--from", str(source)],
            ["db", "runs", "--format", "json"],
        ):
            runs.append((args, _rms(args, env, tmp_path)))
            assert runs[-1][1].returncode == 0, runs[-1][1].stderr
        (record,) = json.loads(runs[-1][1].stdout)
        rollback = ["db", "rollback", record["run_id"], "--yes"]
        runs.append((rollback, _rms(rollback, env, tmp_path)))
        assert runs[-1][1].returncode == 0, runs[-1][1].stderr
    finally:
        sim.stop()
    first = runs[0][1]
    waits = [line for line in first.stderr.splitlines() if line.startswith("waiting for")]
    assert waits, first.stderr  # the wait was shown: target, attempt, elapsed
    assert all(f"localhost:{env['DB_PORT']}/{role}: attempt " in line for line in waits)
    assert "loaded and verified" in first.stdout
    assert "source and target agree" in runs[1][1].stdout
    report = json.loads(next((tmp_path / "state" / "migrate").glob("*/report.json")).read_text())
    everything = [" ".join(args) for args, _ in runs] + [json.dumps(report)]
    everything += [p.stdout + p.stderr for _, p in runs]
    assert all(SECRET not in text for text in everything)
    assert record["status"] == "committed" and record["tables"]["trades"]["loaded"] == 5


def test_a_password_on_the_command_line_is_warned_about(
    pg_server_url: str,
    create_pg_database: Callable[[], str],
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str, str]],
) -> None:
    from sqlalchemy.engine import make_url

    url = make_url(create_pg_database()).set(password="Typed-Pw-5150")
    source = write_source(tmp_path / "ok.db")
    code, out, err = run_cli(
        "db", "migrate", "--from", str(source), "--to", url.render_as_string(False)
    )
    assert code == 0, err
    assert "warning: the --to URL holds a password" in err
    assert "DB_SECRET_ARN" in err
    assert "Typed-Pw-5150" not in out + err


def test_the_settings_name_the_target_when_to_is_left_out(
    pg_url: str,
    tmp_path: Path,
    run_cli: Callable[..., tuple[int, str, str]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write_source(tmp_path / "ok.db")
    code, _out, err = run_cli("db", "migrate", "--from", str(source))
    assert code == 2
    assert "no target database: give --to URL" in err and "DATABASE_URL" in err
    monkeypatch.setenv("DATABASE_URL", pg_url)
    code, _out, err = run_cli("db", "migrate", "--from", str(source))
    assert code == 0, err
    code, out, err = run_cli("db", "verify", "--from", str(source))
    assert code == 0, err
    assert "source and target agree" in out
    assert target_state(pg_url)["counts"]["public.trades"] == 5


def test_a_target_that_is_not_postgresql_is_refused(
    tmp_path: Path, run_cli: Callable[..., tuple[int, str, str]], monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_source(tmp_path / "ok.db")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'other.db'}")
    code, _out, err = run_cli("db", "migrate", "--from", str(source))
    assert code == 2
    assert "must be a PostgreSQL URL" in err


def test_a_connection_lost_mid_load_fails_atomically_naming_the_target(
    generated_20k: Path, pg_url: str, tmp_path: Path
) -> None:
    """Through rms.db's pooled engine too: the cut session's transaction is gone, the error
    names the target and says it was rolled back, and the target is as it was."""
    from rms.errors import RmsError
    from rms.migrate import MigrateOptions, MigrationObserver, preflight, run_migration

    class Cut(MigrationObserver):
        def event(self, name: str) -> None:
            if name == "rows:trades":
                with psycopg.connect(libpq(pg_url), autocommit=True) as conn:
                    conn.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                        "WHERE application_name = 'rms' AND pid <> pg_backend_pid()"
                    )

    before = target_state(pg_url)
    options = MigrateOptions(report_path=tmp_path / "r" / "report.json", observer=Cut())
    with pytest.raises(RmsError) as caught:
        run_migration(preflight(generated_20k, pg_url, options), options)
    message: Any = str(caught.value)
    assert "the load failed and was rolled back" in message and "rms_test_" in message
    assert target_state(pg_url) == before
