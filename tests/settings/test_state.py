"""The state directory: one fixed, private place for everything the tool writes."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from rms.db.engine import create_db_engine
from rms.settings import Settings, env_name, load_settings
from rms.settings.state import default_state_dir, make_private_dir


def test_rms_state_dir_sets_it_and_the_embedded_database_follows(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RMS_STATE_DIR", str(tmp_path / "state"))
    settings = load_settings()
    assert settings.state_dir == tmp_path / "state"
    assert settings.origin("state_dir") == "env"
    assert settings.is_embedded
    assert settings.effective_database_url() == f"sqlite:///{tmp_path / 'state' / 'rms.db'}"
    assert env_name("state_dir") == "RMS_STATE_DIR"


def test_a_relative_state_dir_is_fixed_when_the_settings_are_read(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("RMS_STATE_DIR", "var")
    settings = load_settings()
    monkeypatch.chdir("/")
    assert settings.state_dir == tmp_path / "var"
    assert settings.embedded_database_path() == tmp_path / "var" / "rms.db"


def test_the_default_is_the_per_user_state_directory(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("RMS_STATE_DIR")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert default_state_dir() == tmp_path / "xdg" / "rms"
    settings = Settings()
    assert settings.state_dir == tmp_path / "xdg" / "rms"
    assert not settings.state_dir.exists()  # reading settings creates nothing


def test_a_configured_database_is_not_embedded() -> None:
    assert not load_settings(database_url="sqlite:////tmp/x.db").is_embedded
    assert not load_settings(db_host="h", db_name="d", db_user="u", db_password="p").is_embedded


def test_state_path_creates_private_directories(state_dir: Path) -> None:
    settings = load_settings()
    run = settings.state_path("migrate", "run-1")
    assert run == state_dir / "migrate" / "run-1"
    for directory in (state_dir, state_dir / "migrate", run):
        assert directory.stat().st_mode & 0o777 == 0o700
    assert settings.state_path("migrate", "run-1") == run  # again: nothing changes


def test_existing_directories_keep_their_mode(tmp_path: Path) -> None:
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    made = make_private_dir(shared / "rms")
    assert shared.stat().st_mode & 0o777 == 0o755
    assert made.stat().st_mode & 0o777 == 0o700


@pytest.fixture(autouse=True)
def loose_umask() -> Iterator[None]:
    """The common 022 umask, under which files were made readable by everyone."""
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path: Path) -> int:
    return path.stat().st_mode & 0o777


def test_the_embedded_database_in_an_existing_0755_state_dir_is_the_owners_alone(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Issue 27 item 10: rms.db was made 0644 in a 0755 state directory."""
    state_dir.mkdir(mode=0o755)
    state_dir.chmod(0o755)
    settings = load_settings()
    with caplog.at_level(logging.WARNING, logger="rms.settings"):
        for _ in range(2):  # twice: the warning is said once
            engine = create_db_engine(settings)
            with engine.begin() as conn:
                conn.execute(text("CREATE TABLE IF NOT EXISTS t (x INTEGER)"))
                conn.execute(text("INSERT INTO t VALUES (1)"))
                files = sorted(p.name for p in state_dir.iterdir())
                modes = {p.name: _mode(p) for p in state_dir.iterdir()}
            engine.dispose()
    assert "rms.db" in files and "rms.db-wal" in files  # WAL: all three files exist
    assert modes == dict.fromkeys(files, 0o600)
    assert _mode(state_dir) == 0o700
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "0755" in warnings[0] and str(state_dir) in warnings[0]


def test_a_loose_database_file_in_the_state_dir_is_tightened_and_said(
    state_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    state_dir.mkdir(mode=0o700)
    database = state_dir / "rms.db"
    database.touch()
    database.chmod(0o644)
    with caplog.at_level(logging.WARNING, logger="rms.settings"):
        create_db_engine(load_settings()).dispose()
    assert _mode(database) == 0o600
    assert any("rms.db" in r.getMessage() and "0644" in r.getMessage() for r in caplog.records)


def test_state_path_tightens_an_existing_loose_state_dir(state_dir: Path) -> None:
    state_dir.mkdir(mode=0o755)
    state_dir.chmod(0o755)
    (state_dir / "auth").mkdir(mode=0o775)
    (state_dir / "auth").chmod(0o775)
    load_settings().state_path("auth")
    assert _mode(state_dir) == 0o700 and _mode(state_dir / "auth") == 0o700


def test_a_new_database_made_with_create_is_0600(tmp_path: Path) -> None:
    target = tmp_path / "made" / "x.db"
    engine = create_db_engine(load_settings(database_url=f"sqlite:///{target}"))
    with engine.begin() as conn:
        conn.execute(text("CREATE TABLE t (x INTEGER)"))
    engine.dispose()
    assert _mode(target) == 0o600 and _mode(target.parent) == 0o700
