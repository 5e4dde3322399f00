"""``rms db export`` through the real entry point: output, errors, secrets, progress."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import psycopg
from rich.console import Console
from sqlalchemy.engine import make_url

from rms.devtools.pgcluster import free_port
from rms.export.cli import _Progress
from tests.export.compare import compare_database_and_file, libpq
from tests.export.conftest import export_to, leftovers


def test_export_prints_a_summary_and_keeps_the_report_in_the_state_dir(
    run_cli: Callable[..., Any], source_url: str, tmp_path: Path, state_dir: Path
) -> None:
    target = tmp_path / "rms.db"
    result = run_cli(source_url, "db", "export", "--to", str(target))
    assert result.exit_code == 0, result.output
    assert result.stderr == ""
    (run_id,) = re.findall(r"exported, run ([0-9a-f-]{36})", result.stdout)
    assert re.search(r"trades\s+│\s+8\s+│\s+([0-9a-f]{16})\s+│\s+\1\s+│\s+yes", result.stdout)
    report = state_dir / "export" / run_id / "report.json"
    assert f"report {report}" in result.stdout
    assert json.loads(report.read_text())["status"] == "exported"
    assert compare_database_and_file(source_url, target) == []


def test_an_existing_file_is_one_error_line(
    run_cli: Callable[..., Any], source_url: str, tmp_path: Path
) -> None:
    target = tmp_path / "rms.db"
    target.write_text("keep me")
    result = run_cli(source_url, "db", "export", "--to", str(target))
    assert result.exit_code == 2
    assert result.error_lines == [
        f"error: {target} exists; nothing was changed (pass --replace to replace it with the "
        "export)"
    ]
    assert target.read_text() == "keep me"
    replaced = run_cli(source_url, "db", "export", "--to", str(target), "--replace")
    assert replaced.exit_code == 0, replaced.output
    assert compare_database_and_file(source_url, target) == []


def test_the_embedded_database_is_not_a_source(run_cli: Callable[..., Any], tmp_path: Path) -> None:
    result = run_cli(None, "db", "export", "--to", str(tmp_path / "rms.db"))
    assert result.exit_code == 2
    (line,) = result.error_lines
    assert line.startswith("error: the configured database is sqlite (sqlite:///")
    assert "set DATABASE_URL (or the DB_* variables) to the PostgreSQL database" in line


def test_warnings_go_to_stderr(
    run_cli: Callable[..., Any], source_url: str, tmp_path: Path
) -> None:
    with psycopg.connect(libpq(source_url)) as conn:
        conn.execute("CREATE TABLE scratch (x int)")
    result = run_cli(source_url, "db", "export", "--to", str(tmp_path / "rms.db"))
    assert result.exit_code == 0, result.output
    assert result.error_lines == [
        "warning: table scratch (0 rows) is NOT exported: not an RMS table"
    ]


def test_a_read_only_role_with_a_password_never_shows_it(
    run_cli: Callable[..., Any], source_url: str, tmp_path: Path, state_dir: Path
) -> None:
    """Export needs SELECT only; the password is in no output and no report."""
    role, password = f"reader_{uuid.uuid4().hex[:8]}", "S3cret-" + uuid.uuid4().hex
    with psycopg.connect(libpq(source_url), autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}'")
        conn.execute(f"GRANT USAGE ON SCHEMA public TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}")
    url = make_url(source_url).set(username=role, password=password).render_as_string(False)
    target = tmp_path / "rms.db"
    result = run_cli(url, "db", "export", "--to", str(target))
    assert result.exit_code == 0, result.output
    assert password not in result.output
    assert f"{role}:***@127.0.0.1" in result.stdout  # the source is named, its password not
    for report in (state_dir / "export").rglob("*.json"):
        assert password not in report.read_text()
    assert compare_database_and_file(source_url, target) == []


def test_an_unreachable_local_database_is_one_error_at_once(
    run_cli: Callable[..., Any], tmp_path: Path
) -> None:
    port = free_port()
    target = tmp_path / "rms.db"
    result = run_cli(
        f"postgresql://u:Pw-9z@127.0.0.1:{port}/rms", "db", "export", "--to", str(target)
    )
    assert result.exit_code == 2
    (error,) = result.error_lines  # nothing resumes on this machine: no wait
    assert error.startswith(f"error: nothing accepts connections at 127.0.0.1:{port}/rms ")
    assert "1 attempt(s)" in error
    assert "Pw-9z" not in result.output
    assert not target.exists()
    assert leftovers(tmp_path) == []


def test_progress_on_a_terminal(source_url: str, tmp_path: Path) -> None:
    screen = io.StringIO()
    console = Console(file=screen, force_terminal=True, width=120)
    events: list[str] = []
    progress = _Progress(console, True, events.append)
    with progress:
        export_to(source_url, tmp_path / "rms.db", observer=progress)
    shown = screen.getvalue()
    for text in ("connecting to postgresql://", "snapshot ", "verifying", "trades", "8/8"):
        assert text in shown, text
    assert events[:3] == ["connected", "snapshot", "checked"]
    assert events[-1] == "renamed"
    assert "rows:trades" in events and "before-rename" in events


def test_no_progress_when_piped(source_url: str, tmp_path: Path) -> None:
    screen = io.StringIO()
    progress = _Progress(Console(file=screen), False, None)
    with progress:
        export_to(source_url, tmp_path / "rms.db", observer=progress)
    assert screen.getvalue() == ""
