"""Putting the file in place: no clobbering, stale temporary files, the clean-up guard."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rms.export.errors import ExportTargetError
from rms.export.placement import CleanupGuard, companions, place, sweep_stale, temporary_path


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_without_replace_a_file_that_appeared_meanwhile_is_kept(tmp_path: Path) -> None:
    temporary, target = tmp_path / ".tmp", tmp_path / "rms.db"
    temporary.write_text("new")
    target.write_text("someone else's")
    with pytest.raises(
        ExportTargetError, match="appeared while the export ran; nothing was changed"
    ):
        place(temporary, target, replace=False)
    assert target.read_text() == "someone else's"


def test_place_links_then_removes_the_temporary_name(tmp_path: Path) -> None:
    temporary, target = tmp_path / ".tmp", tmp_path / "rms.db"
    temporary.write_text("new")
    place(temporary, target, replace=False)
    assert target.read_text() == "new"
    assert not temporary.exists()


def test_stale_temporary_files_of_dead_exports_are_swept(tmp_path: Path) -> None:
    target = tmp_path / "rms.db"
    stale = tmp_path / f".rms.db.rms-export-{_dead_pid()}-abcdef12"
    live = temporary_path(target, "12345678-aaaa")  # this process: alive
    other = tmp_path / f".other.db.rms-export-{_dead_pid()}-abcdef12"
    for path in (stale, live, other):
        path.write_text("x")
    assert sweep_stale(target) == [stale]
    assert live.exists() and other.exists()


def test_the_guard_removes_the_files_when_the_export_dies(tmp_path: Path) -> None:
    temporary = tmp_path / ".rms.db.rms-export-1-x"
    script = (
        "import sys, time\n"
        "from pathlib import Path\n"
        "from rms.export.placement import CleanupGuard, companions\n"
        f"paths = companions(Path({str(temporary)!r}))\n"
        "guard = CleanupGuard(paths).__enter__()\n"
        "for p in paths[:2]: p.write_text('x')\n"
        "print('ready', flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    assert temporary.exists()
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    deadline = time.monotonic() + 30
    while any(p.exists() for p in companions(temporary)) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(p.exists() for p in companions(temporary))


def test_a_released_guard_removes_nothing(tmp_path: Path) -> None:
    kept = tmp_path / "kept"
    with CleanupGuard([kept]) as guard:
        kept.write_text("x")
        assert guard._proc is not None
        proc = guard._proc
    assert proc.poll() == 0
    assert kept.exists()
    guard.release()  # twice is harmless
