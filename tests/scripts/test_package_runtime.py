"""``make package-test``: the handler from the built zip, under the runtime's Python on Linux.

The zip is built for python``$LAMBDA_PYTHON`` (3.13 by default, the function's default
runtime) and unpacked to ``/var/task`` of a Debian 13 root (``scripts/lambda_chroot.py``),
whose ``python3.13`` imports it with nothing else on its path: the locked wheels for that
CPython and a ``manylinux_2_34`` platform (what Lambda's Amazon Linux 2023 loads) import and
serve, not the interpreter the suite runs on. The handler gets API Gateway HTTP API events
(payload 2.0): ``GET /health/live``, then a signed-in ``GET /api/accounts`` on SQLite.

x86_64 always (this machine runs its wheels); arm64 as well when ``qemu-aarch64-static`` is
installed (``RMS_PACKAGE_TEST_ARCHES=x86_64,arm64``). It needs root, debootstrap and
deb.debian.org, so it runs only from the make target (``RMS_PACKAGE_TEST=1``), not in the
suite.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import sys
import time
import zipfile
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.lambda_handler.events import HOST, PUBLIC_URL, http_event

ROOT = Path(__file__).resolve().parents[2]
UV = ROOT / ".venv-tools" / "bin" / "uv"
TOKEN = "package-test-token-0123456789abc"

pytestmark = pytest.mark.skipif(
    os.environ.get("RMS_PACKAGE_TEST") != "1",
    reason="run by make package-test (root, debootstrap, deb.debian.org)",
)


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


pkg = _load("package_lambda")
chroots = _load("lambda_chroot")

# Runs inside the root as /var/rms-package-test/invoke.py: what Lambda's bootstrap does
# (import the handler from /var/task, call it with the event), after creating the schema.
_INVOKE = """
import json, platform, sys
events = json.loads(sys.stdin.read())
from rms.schema.migrations import upgrade
from rms.db.engine import create_db_engine
from rms.settings import load_settings
engine = create_db_engine(load_settings())
upgrade(engine)
engine.dispose()
from rms.lambda_handler import handler
replies = [handler(event, None) for event in events]
import psycopg, pydantic_core, rms
print(json.dumps({
    "python": platform.python_version(),
    "machine": platform.machine(),
    "libc": list(platform.libc_ver()),
    "rms": rms.__file__,
    "psycopg": psycopg.pq.__impl__,
    "pydantic_core": pydantic_core.__file__,
    "replies": [{"status": r["statusCode"], "body": r["body"]} for r in replies],
}))
"""


def _arches() -> list[str]:
    return os.environ.get("RMS_PACKAGE_TEST_ARCHES", "x86_64").split(",")


@pytest.mark.parametrize("arch", _arches())
def test_the_handler_runs_from_the_zip_under_the_runtimes_python(arch: str, tmp_path: Path) -> None:
    version = os.environ.get("LAMBDA_PYTHON", pkg.DEFAULT_PYTHON)
    started = time.monotonic()
    built = pkg.package(
        str(UV),
        tmp_path / f"rms-lambda-{arch}.zip",
        work=tmp_path / "work",
        arch=arch,
        python_version=version,
    )
    built_s = time.monotonic() - started
    chroot = chroots.ensure(arch, python_version=version)
    ready_s = time.monotonic() - started - built_s
    with zipfile.ZipFile(built.path) as zf:
        zf.extractall(tmp_path / "task")
    chroots.install_task(chroot, tmp_path / "task")
    program = chroot.path / "var" / "rms-package-test" / "invoke.py"
    program.parent.mkdir(parents=True, exist_ok=True)
    program.write_text(_INVOKE)
    for stale in (chroot.path / "tmp").glob("rms-package-test*"):
        if stale.is_dir():
            shutil.rmtree(stale)
        else:
            stale.unlink()
    env = {
        "DATABASE_URL": "sqlite:////tmp/rms-package-test.db",
        "RMS_STATE_DIR": "/tmp/rms-package-test-state",
        "RMS_PUBLIC_URL": PUBLIC_URL,
        "RMS_API_TOKEN": TOKEN,
    }
    events = [
        http_event("GET", "/health/live"),
        http_event("GET", "/api/accounts", headers={"Authorization": f"Bearer {TOKEN}"}),
        http_event("GET", "/api/accounts"),
    ]
    assert {e["headers"]["host"] for e in events} == {HOST}
    done = chroots.run(
        chroot, ["-s", "/var/rms-package-test/invoke.py"], env=env, stdin=json.dumps(events)
    )
    assert done.returncode == 0, done.stderr[-4000:]
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    run_s = time.monotonic() - started - built_s - ready_s
    print(
        f"\npackage-test {arch} python{result['python']} ({result['libc'][0]} "
        f"{result['libc'][1]}): zip {built.size / 2**20:.1f} MiB built in {built_s:.1f} s, "
        f"root ready in {ready_s:.1f} s, handler run in {run_s:.1f} s"
    )
    assert result["python"].startswith(f"{version}.")
    assert result["machine"] == {"x86_64": "x86_64", "arm64": "aarch64"}[arch]
    assert result["rms"] == "/var/task/rms/__init__.py"
    assert result["pydantic_core"].startswith("/var/task/")
    assert result["psycopg"] == "binary"
    live, signed_in, anonymous = result["replies"]
    assert live["status"] == 200, live["body"]
    assert signed_in["status"] == 200 and isinstance(json.loads(signed_in["body"]), list | dict)
    assert anonymous["status"] == 401
