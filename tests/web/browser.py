"""End-to-end plumbing: Debian's Chromium, ``rms serve`` (and ``rms dev aurora-sim``) as
subprocesses on free ports, and screenshots written to ``build/screenshots/``.

Browser downloads cannot be fetched here, so Playwright drives the system Chromium through
``executable_path``; the fixture installs the package with apt when it is missing (as
root), and fails under CI (``CI`` set) when it cannot.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import httpx
import pytest

from rms.devtools.pgcluster import free_port

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}


class ChromiumUnavailableError(Exception):
    """Chromium is missing and could not be installed (the reason is the message)."""


def install_chromium() -> str:
    """The Chromium binary, installed with apt-get when missing (as root).

    ``make test-setup`` calls this once before the suite (``python -m tests.prepare``), so
    the tests themselves only find it; it raises :class:`ChromiumUnavailableError`.
    """
    if Path(CHROMIUM).exists():
        return CHROMIUM
    why = "chromium is not installed and this user cannot install it"
    if os.geteuid() == 0 and shutil.which("apt-get"):
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(["apt-get", "update", "-q"], env=env, capture_output=True, check=False)
        done = subprocess.run(
            ["apt-get", "install", "-y", "-q", "chromium"], env=env, capture_output=True, text=True
        )
        if done.returncode == 0 and Path(CHROMIUM).exists():
            return CHROMIUM
        why = f"apt-get install chromium failed: {done.stderr.strip()[-300:]}"
    raise ChromiumUnavailableError(why)


def ensure_chromium() -> str:
    """The Chromium binary; a failure under CI (``CI`` set), a skip elsewhere, without it."""
    try:
        return install_chromium()
    except ChromiumUnavailableError as exc:
        if os.environ.get("CI"):
            pytest.fail(str(exc))
        pytest.skip(str(exc))


def _rms(*args: str) -> list[str]:
    return [sys.executable, "-c", "from rms.cli import run; run()", *args]


def rms(env: dict[str, str], *args: str) -> None:
    done = subprocess.run(_rms(*args), env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"rms {' '.join(args)}: {done.stderr}"


_SEED_DEMO = """
import sys
from datetime import date
from rms.db import build_database
from rms.seed import seed_demo
from rms.settings import load_settings

db = build_database(load_settings())
try:
    db.run(lambda s: seed_demo(s, through=date.fromisoformat(sys.argv[1])), write=True)
finally:
    db.dispose()
"""


def seed_demo(env: dict[str, str], through: date) -> None:
    """What ``rms db seed --demo`` adds, but through ``through`` rather than today (so the
    figures the tests read do not move with the calendar), in a process of its own with
    the settings ``env`` gives (``rms db seed`` first: the reference data)."""
    command = [sys.executable, "-c", _SEED_DEMO, through.isoformat()]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, f"seed_demo through {through}: {done.stderr}"


@dataclass
class Served:
    """A running ``rms serve``: where it listens and its sign-in URL."""

    base: str
    sign_in_url: str
    token: str
    backend: str


def _wait_http(url: str, deadline_s: float = 30) -> None:
    deadline = time.monotonic() + deadline_s
    with httpx.Client(timeout=2) as http:
        while True:
            try:
                http.get(url)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)


@contextmanager
def serve(env: dict[str, str], backend: str) -> Iterator[Served]:
    """``rms serve`` on a free port; stopped (and its output checked) afterwards."""
    port = free_port()
    process = subprocess.Popen(
        _rms("serve", "--host", "127.0.0.1", "--port", str(port)),
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        assert process.stdout is not None
        url = None
        deadline = time.monotonic() + 60
        while url is None and time.monotonic() < deadline:
            line = process.stdout.readline()
            if not line and process.poll() is not None:
                break
            if line.startswith("sign in: "):
                url = line.removeprefix("sign in: ").strip()
        assert url is not None, "rms serve printed no sign-in URL"
        base = f"http://127.0.0.1:{port}"
        _wait_http(f"{base}/health/live")
        token = url.rsplit("token=", 1)[1]
        yield Served(base, url, token, backend)
    finally:
        process.terminate()
        try:
            process.communicate(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()


@dataclass
class Sim:
    """A running ``rms dev aurora-sim``: its listen port and control URL."""

    port: int
    control: str

    def post(self, what: str) -> None:
        httpx.post(f"{self.control}/{what}", timeout=10).raise_for_status()

    def state(self) -> dict[str, object]:
        answer: dict[str, object] = httpx.get(f"{self.control}/state", timeout=10).json()
        return answer


@contextmanager
def aurora_sim(upstream_host: str, upstream_port: int, resume_delay: float) -> Iterator[Sim]:
    port = free_port()
    control_port = free_port()
    process = subprocess.Popen(
        _rms(
            "dev",
            "aurora-sim",
            "--upstream",
            f"postgresql://{upstream_host}:{upstream_port}",
            "--listen",
            f"127.0.0.1:{port}",
            "--control",
            f"127.0.0.1:{control_port}",
            "--pause-after",
            "0",
            "--resume-delay",
            str(resume_delay),
        ),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        control = f"http://127.0.0.1:{control_port}"
        _wait_http(f"{control}/state")
        yield Sim(port, control)
    finally:
        process.terminate()
        process.wait(timeout=30)


def shoot(page: object, name: str) -> None:
    """A full-page screenshot of ``page`` at desktop width and at 375 px."""
    from playwright.sync_api import Page

    assert isinstance(page, Page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for label, size in (("desktop", DESKTOP), ("375px", PHONE)):
        page.set_viewport_size(size)
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{label}.png"), full_page=True)
    page.set_viewport_size(DESKTOP)
