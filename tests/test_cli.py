"""The CLI as a careless user meets it: every misuse is one line, exit 2, no traceback.

The corpus runs through the real entry point: a few cases as a subprocess of the installed
``rms`` script (what a shell runs), the rest through :func:`rms.cli.main` with its output
captured. Each case names what the message must contain: the flag as the user typed it,
and what to do.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from rms.devtools.pgcluster import free_port
from tests.rms_cli import run_rms
from tests.signals import default_sigint

RMS = Path(sys.executable).with_name("rms")
PROFILE = ["--active-hours-per-day", "2", "--acu-when-active", "1", "--storage-gb", "20"]


@dataclass(frozen=True)
class Misuse:
    args: list[str]
    expect: list[str]
    env: dict[str, str] | None = None


CASES: dict[str, Misuse] = {
    "unknown command": Misuse(
        ["frobnicate"], ["No such command 'frobnicate'", "commands: serve", "see 'rms --help'"]
    ),
    "migrate without a target": Misuse(
        ["db", "migrate", "--from", "x.db"],
        ["no target database: give --to URL", "DATABASE_URL", "DB_SECRET_ARN"],
    ),
    "risk-group map without a group": Misuse(
        ["db", "migrate", "--from", "x.db", "--to", "postgresql://u@h/d", "--map-risk-group", "2"],
        ["--map-risk-group 2: expected OLD=GROUP"],
    ),
    "runs of the embedded database": Misuse(["db", "runs"], ["no target database"]),
    "misspelt option": Misuse(
        ["serve", "--prot", "9000"],
        ["No such option: --prot (did you mean --port?)", "see 'rms serve --help'"],
    ),
    "unknown output format": Misuse(
        ["cost", "estimate", *PROFILE, "--format", "xml"],
        ["Invalid value for '--format'", "'xml' is not one of 'table', 'json', 'csv'"],
    ),
    "port not a number": Misuse(["serve", "--port", "abc"], ["Invalid value for '--port'"]),
    "port out of range": Misuse(
        ["serve", "--port", "70000"], ["Invalid value for '--port'", "65535"]
    ),
    "float not a number": Misuse(
        ["cost", "estimate", "--active-hours-per-day", "x", "--acu-when-active", "1"],
        ["Invalid value for '--active-hours-per-day'"],
    ),
    "year out of range": Misuse(
        ["db", "seed", "--first-year", "1800"], ["Invalid value for '--first-year'", "1900"]
    ),
    "option without its value": Misuse(
        ["cost", "estimate", "--storage-gb"],
        ["Option '--storage-gb' requires an argument", "see 'rms cost estimate --help'"],
    ),
    "flag given a value": Misuse(
        ["db", "seed", "--demo=yes"],
        ["Option '--demo' does not take a value", "see 'rms db seed --help'"],
    ),
    "missing argument": Misuse(
        ["db", "rollback", "--to", "postgresql://u@h/d"],
        ["Missing argument 'RUN_ID'", "see 'rms db rollback --help'"],
    ),
    "unknown db command": Misuse(
        ["db", "migrat"], ["No such command 'migrat' (did you mean 'migrate'?)", "rms db --help"]
    ),
    "unknown cost command": Misuse(["cost", "estimat"], ["No such command 'estimat'"]),
    "unknown dev command": Misuse(["dev", "sim"], ["No such command 'sim'", "aurora-sim"]),
    "unknown config command": Misuse(
        ["config", "shw"], ["No such command 'shw' (did you mean 'show'?)"]
    ),
    "unknown choice": Misuse(
        ["db", "migrate", "--from", "x.db", "--to", "postgresql://u@h/d", "--on-error", "skip"],
        ["Invalid value for '--on-error'", "'abort', 'quarantine'"],
    ),
    "config format": Misuse(["config", "show", "--format", "yaml"], ["'--format'"]),
    "out is a directory": Misuse(
        ["cost", "plot", "--acu-when-active", "1", "--storage-gb", "1", "--out", "/"],
        ["Invalid value for '--out'", "is a directory"],
    ),
    "missing source file": Misuse(
        ["db", "migrate", "--from", "/nonexistent/rms.db", "--to", "postgresql://u@h/d"],
        ["/nonexistent/rms.db does not exist"],
    ),
    "missing pricing file": Misuse(
        ["cost", "estimate", *PROFILE, "--pricing", "/nonexistent/prices.json"],
        ["--pricing", "does not exist"],
    ),
    "bad upstream": Misuse(["dev", "aurora-sim", "--upstream", "x"], ["--upstream must be a"]),
    "bad url scheme": Misuse(
        ["db", "upgrade", "--url", "mysql://h/d"], ["--url must start with sqlite:///"]
    ),
    "years the wrong way round": Misuse(
        ["db", "seed", "--first-year", "2030", "--last-year", "2020"],
        ["--first-year 2030 is after --last-year 2020"],
    ),
    "conflicting demo options": Misuse(
        ["db", "seed", "--demo", "--demo-if-embedded"],
        ["--demo and --demo-if-embedded cannot be combined"],
    ),
    "allow without demo": Misuse(
        ["db", "seed", "--allow-non-embedded"], ["--allow-non-embedded only goes with --demo"]
    ),
    "url with components": Misuse(
        ["db", "upgrade", "--url", "postgresql://u@h/d"],
        ["--url cannot be combined with DB_HOST"],
        env={"DB_HOST": "db.example.com"},
    ),
    "bad log level": Misuse(
        ["db", "upgrade"], ["LOG_LEVEL: 'LOUD' is not one of DEBUG"], env={"LOG_LEVEL": "LOUD"}
    ),
    "missing required option": Misuse(["cost", "measured"], ["Missing option '--cluster'"]),
}

#: The cases run as a real subprocess of the installed script (the rest in-process).
SUBPROCESS = {
    "unknown command",
    "migrate without a target",
    "misspelt option",
    "url with components",
}


def _check(code: int, stdout: str, stderr: str, case: Misuse) -> None:
    assert "Traceback" not in stdout + stderr
    assert code == 2, (code, stdout, stderr)
    lines = stderr.splitlines()
    assert len(lines) == 1, stderr
    assert lines[0].startswith("error: "), lines[0]
    for needle in case.expect:
        assert needle in lines[0], (needle, lines[0])


@pytest.mark.parametrize("name", sorted(set(CASES) - SUBPROCESS))
def test_misuse_in_process(name: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    case = CASES[name]
    for key, value in (case.env or {}).items():
        monkeypatch.setenv(key, value)
    result = run_rms(*case.args)
    _check(result.exit_code, result.stdout, result.stderr, case)


@pytest.mark.parametrize("name", sorted(SUBPROCESS))
def test_misuse_through_the_installed_script(name: str, tmp_path: Path) -> None:
    case = CASES[name]
    env = {**os.environ, "COLUMNS": "80", **(case.env or {})}
    proc = subprocess.run(
        [str(RMS), *case.args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60
    )
    _check(proc.returncode, proc.stdout, proc.stderr, case)


def test_the_corpus_is_large_enough() -> None:
    assert len(CASES) >= 15
    assert len(SUBPROCESS) >= 3


def test_no_arguments_shows_the_commands() -> None:
    result = run_rms()
    assert result.exit_code == 2
    assert "Commands:" in result.stdout and "serve" in result.stdout
    assert result.stderr == ""


def test_help_is_readable_at_80_columns(tmp_path: Path) -> None:
    """No option name cut short, no ``<bool>`` on flags, no line wider than the terminal."""
    env = {**os.environ, "COLUMNS": "80"}
    for command in (["--help"], ["db", "migrate", "--help"], ["cost", "estimate", "--help"]):
        proc = subprocess.run(
            [str(RMS), *command], cwd=tmp_path, env=env, capture_output=True, text=True, check=True
        )
        text = proc.stdout
        assert max(len(line) for line in text.splitlines()) <= 80, text
        assert "<bool>" not in text and "…" not in text
    assert "--active-hours-per-day <float>" in text
    assert "--io-millions-per-month" in text


def test_an_unexpected_error_is_one_line_naming_it_a_bug(monkeypatch: pytest.MonkeyPatch) -> None:
    import rms.cost.cli

    def broken(*_args: object) -> None:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(rms.cost.cli, "build_report", broken)
    result = run_rms("cost", "estimate", *PROFILE)
    assert result.exit_code == 1
    assert result.error_lines == [
        "error: unexpected ZeroDivisionError: division by zero (a bug in rms; LOG_LEVEL=DEBUG "
        "shows the traceback)"
    ]


def test_a_secret_never_reaches_the_error_line() -> None:
    port = free_port()
    result = run_rms("db", "upgrade", "--url", f"postgresql://u:Hidden-Pw-42@127.0.0.1:{port}/d")
    assert result.exit_code == 2
    assert "Hidden-Pw-42" not in result.output


def test_a_wrong_local_port_is_said_at_once() -> None:
    """``rms db health`` against a wrong local port: nothing is waited for (nothing resumes
    on this machine), one attempt, one error line naming the target and what to check."""
    port = free_port()
    result = run_rms("db", "health", "--url", f"postgresql://u:Pw-77x@127.0.0.1:{port}/rms")
    assert result.exit_code == 2
    assert result.error_lines == [
        f"error: nothing accepts connections at 127.0.0.1:{port}/rms (Connection refused): "
        "check the host and port, and that PostgreSQL is running there (a refusal by this "
        "machine is not waited for; 1 attempt(s))"
    ]
    assert "Pw-77x" not in result.output


def test_ctrl_c_is_one_line_and_status_130(tmp_path: Path) -> None:
    """Ctrl-C while a command waits for a database that accepts TCP but never answers."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        silent.settimeout(30)
        port = silent.getsockname()[1]
        proc = subprocess.Popen(
            [str(RMS), "db", "health", "--url", f"postgresql://u@127.0.0.1:{port}/rms"],
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            preexec_fn=default_sigint,
        )
        try:
            client, _ = silent.accept()  # the command is now waiting for the server's answer
            with client:
                proc.send_signal(signal.SIGINT)
                _out, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 130
    assert err == "interrupted\n"


# -- the embedded database and demo data ------------------------------------------------------


def _count(url: str, table: str) -> int:
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())
    finally:
        engine.dispose()


def test_the_embedded_database_lives_in_the_state_directory_whatever_the_cwd(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, state_dir: Path
) -> None:
    for cwd in (tmp_path / "one", tmp_path / "two"):
        cwd.mkdir()
        monkeypatch.chdir(cwd)
        assert run_rms("db", "upgrade").exit_code == 0
        assert list(cwd.iterdir()) == []  # no var/rms.db where the command ran
    assert (state_dir / "rms.db").is_file()
    assert state_dir.stat().st_mode & 0o777 == 0o700
    result = run_rms("db", "seed", "--demo")
    assert result.exit_code == 0, result.stderr
    assert _count(f"sqlite:///{state_dir / 'rms.db'}", "trades") > 0


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_configured_database_gets_no_demo_data_unless_asked(
    backend: str,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    create_pg_database: Callable[[], str],
) -> None:
    """What `DATABASE_URL=... make run` does: reference data yes, invented trades never."""
    url = f"sqlite:///{tmp_path / 'mine.db'}" if backend == "sqlite" else create_pg_database()
    monkeypatch.setenv("DATABASE_URL", url)
    # A configured SQLite file is made only when asked (issue 27 item 11).
    assert run_rms("db", "upgrade", "--create").exit_code == 0

    result = run_rms("db", "seed", "--demo-if-embedded")
    assert result.exit_code == 0, result.stderr
    assert "demo portfolio not added" in result.stdout
    assert _count(url, "risk_group") > 0
    assert _count(url, "trades") == 0

    refused = run_rms("db", "seed", "--demo")
    assert refused.exit_code == 2
    assert refused.error_lines == [refused.stderr.strip()]
    assert "refusing to add the demo portfolio" in refused.stderr
    assert "DATABASE_URL from env" in refused.stderr and "--allow-non-embedded" in refused.stderr
    assert _count(url, "trades") == 0

    allowed = run_rms("db", "seed", "--demo", "--allow-non-embedded")
    assert allowed.exit_code == 0, allowed.stderr
    assert _count(url, "trades") > 0


# -- issue 27 item 11: a typo is not a new database ----------------------------------------


def test_a_missing_sqlite_file_is_refused_in_one_line_and_never_made(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "nope.db"
    nested = tmp_path / "a" / "b" / "x.db"
    for args in (
        ("db", "health", "--url", f"sqlite:///{missing}"),
        ("db", "seed", "--url", f"sqlite:///{missing}"),
        ("db", "upgrade", "--url", f"sqlite:///{nested}"),
        ("serve", "--port", "1"),  # refused before it listens
    ):
        if args[0] == "serve":
            monkeypatch.setenv("DATABASE_URL", f"sqlite:///{missing}")
        result = run_rms(*args)
        assert result.exit_code == 2, (args, result.output)
        assert len(result.error_lines) == 1, result.stderr
        assert "no SQLite database at" in result.stderr and "--create" in result.stderr
        assert "Traceback" not in result.output
    assert not missing.exists() and not (tmp_path / "a").exists()


def test_db_upgrade_create_makes_the_database_and_its_directories(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "x.db"
    result = run_rms("db", "upgrade", "--create", "--url", f"sqlite:///{target}")
    assert result.exit_code == 0, result.output
    assert target.exists() and target.stat().st_mode & 0o777 == 0o600
    health = run_rms("db", "health", "--url", f"sqlite:///{target}")
    assert health.exit_code == 0, health.output


def test_the_embedded_database_is_still_made_on_demand(state_dir: Path) -> None:
    assert run_rms("db", "upgrade").exit_code == 0
    assert (state_dir / "rms.db").exists()
