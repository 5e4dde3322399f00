"""The toolchain setup: what it installs from, when it reinstalls, when it skips or fails."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from pathlib import Path

import pytest

from tests.prisma import toolchain as tc
from tests.prisma.harness import APP_LATEST_SQLITE, MODELS
from tests.prisma.toolchain import (
    NODE_PROJECT,
    Toolchain,
    ToolchainError,
    ToolchainUnavailableError,
    require_toolchain,
)

SHARED_LATEST = Path(
    "/work/shared/fixtures/prisma-history/22_add_volatility_columns_to_universe.db"
)


def _schema(name: str) -> str:
    return (NODE_PROJECT / "prisma" / name).read_text()


def test_the_two_schemas_differ_only_by_provider_and_output() -> None:
    """As in the application: schema.postgresql.prisma is schema.prisma with another provider."""
    sqlite, pg = _schema("schema.prisma"), _schema("schema.postgresql.prisma")
    assert 'provider = "sqlite"' in sqlite
    assert 'provider = "postgresql"' in pg
    normal = sqlite.replace('provider = "sqlite"', 'provider = "postgresql"').replace(
        "generated/sqlite", "generated/postgresql"
    )
    assert normal == pg


def test_the_schema_declares_every_table_and_column_of_the_apps_ddl() -> None:
    """schema.prisma (written from SCHEMA-HISTORY.md) against the application's own DDL."""
    schema = _schema("schema.prisma")
    declared: dict[str, set[str]] = {}
    for model, body in re.findall(r"^model (\w+) \{\n(.*?)^\}", schema, re.M | re.S):
        declared[model] = {
            m.group(1)
            for m in re.finditer(r"^  (\w+)\s+(\w+)(\??)", body, re.M)
            if m.group(2) in {"String", "Int", "Float", "Boolean", "DateTime", "CusipCacheSource"}
        }
    with sqlite3.connect(f"file:{APP_LATEST_SQLITE}?mode=ro", uri=True) as conn:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")]
        columns = {t: {r[1] for r in conn.execute(f'PRAGMA table_info("{t}")')} for t in tables}
    assert sorted(columns) == sorted(MODELS) == sorted(declared)
    assert declared == columns


def test_the_committed_ddl_is_the_shared_fixture() -> None:
    if not SHARED_LATEST.exists():
        pytest.skip(f"{SHARED_LATEST} is not on this machine")
    assert APP_LATEST_SQLITE.read_bytes() == SHARED_LATEST.read_bytes()


def test_the_lock_pins_every_package_the_harness_imports() -> None:
    package = json.loads((NODE_PROJECT / "package.json").read_text())
    lock = json.loads((NODE_PROJECT / "package-lock.json").read_text())
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"(npm:[@\w/-]+@)?\d+\.\d+\.\d+", version), (name, version)
        assert lock["packages"][f"node_modules/{name}"]["version"] == version.rsplit("@", 1)[-1]
    assert lock["packages"]["node_modules/better-sqlite3"]["version"].startswith("12.")


def test_a_stale_or_foreign_install_is_redone(tmp_path: Path) -> None:
    for name in ("package.json", "package-lock.json"):
        (tmp_path / name).write_bytes((NODE_PROJECT / name).read_bytes())
    key = tc._install_key(tmp_path, "v20.20.2")
    assert key == tc._install_key(tmp_path, "v20.20.2")
    assert key != tc._install_key(tmp_path, "v22.12.0")  # another ABI for better-sqlite3
    stamp = tmp_path / "stamp"
    assert not tc._stamp_matches(stamp, key)
    tc._write_stamp(stamp, key, 1.0)
    assert tc._stamp_matches(stamp, key)
    (tmp_path / "package-lock.json").write_text("{}")
    assert not tc._stamp_matches(stamp, tc._install_key(tmp_path, "v20.20.2"))


def test_missing_node_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainUnavailableError, match="node and npm not found"):
        tc.find_node()


def test_too_old_node_is_unavailable(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name, script in (("node", 'echo "v20.11.1"'), ("npm", "true")):
        (tmp_path / name).write_text(f"#!/bin/sh\n{script}\n")
        (tmp_path / name).chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolchainUnavailableError, match=r"v20\.11\.1 is too old"):
        tc.find_node()


def _raising(exc: Exception) -> Toolchain:
    raise exc


@pytest.mark.parametrize("ci", ["true", "1"])
def test_in_ci_a_missing_node_fails(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="required in CI: no node"):
        require_toolchain(lambda: _raising(ToolchainUnavailableError("no node")))


def test_locally_a_missing_node_skips(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="unavailable: no node"):
        require_toolchain(lambda: _raising(ToolchainUnavailableError("no node")))


@pytest.mark.parametrize("ci", ["true", ""])
def test_a_failed_install_always_fails(monkeypatch: pytest.MonkeyPatch, ci: str) -> None:
    monkeypatch.setenv("CI", ci)
    with pytest.raises(pytest.fail.Exception, match="npm ci failed"):
        require_toolchain(lambda: _raising(ToolchainError("npm ci failed (exit 1)")))


def test_a_failing_npm_ci_is_an_error(prisma_toolchain: Toolchain, tmp_path: Path) -> None:
    """A real npm ci on a broken lock raises, with npm's own words."""
    (tmp_path / "package.json").write_text(
        json.dumps({"name": "x", "version": "0.0.0", "dependencies": {}})
    )
    (tmp_path / "package-lock.json").write_text("not json")
    npm = shutil.which("npm")
    assert npm is not None
    tool = Toolchain(prisma_toolchain.node, tmp_path, prisma_toolchain.node_version)
    with pytest.raises(ToolchainError, match=r"npm ci failed \(exit [1-9]") as info:
        tc._npm_ci(tool, npm)
    assert "package-lock.json" in str(info.value)


def test_the_toolchain_is_ready(prisma_toolchain: Toolchain) -> None:
    for client in ("sqlite", "postgresql"):
        assert (prisma_toolchain.project / "generated" / client / "index.js").is_file()
    proc = prisma_toolchain.run(["-e", "require('better-sqlite3'); require('pg')"])
    assert proc.returncode == 0, proc.stderr
