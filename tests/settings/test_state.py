"""The state directory: one fixed, private place for everything the tool writes."""

from __future__ import annotations

from pathlib import Path

import pytest

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
