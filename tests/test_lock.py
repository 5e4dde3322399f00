"""The environment the tests run in is exactly the one ``uv.lock`` describes."""

from __future__ import annotations

import importlib.metadata as metadata
import tomllib
from pathlib import Path

import pytest
from packaging.utils import canonicalize_name

LOCK = Path(__file__).resolve().parents[1] / "uv.lock"


def _locked() -> dict[str, set[str]]:
    """Package -> its locked versions (one, or one per Python-version fork of the lock)."""
    data = tomllib.loads(LOCK.read_text(encoding="utf-8"))
    found: dict[str, set[str]] = {}
    for package in data["package"]:
        if "version" in package and package.get("source", {}).get("editable") is None:
            found.setdefault(canonicalize_name(package["name"]), set()).add(package["version"])
    return found


def _installed() -> dict[str, str]:
    return {
        canonicalize_name(dist.metadata["Name"]): dist.version
        for dist in metadata.distributions()
        if dist.metadata["Name"]
    }


def test_every_installed_package_is_at_its_locked_version() -> None:
    locked, installed = _locked(), _installed()
    # The dev group is installed for the tests, so every locked package for this platform
    # that is installed must carry exactly the locked version.
    wrong = {
        name: (installed[name], sorted(versions))
        for name, versions in locked.items()
        if name in installed and installed[name] not in versions
    }
    assert wrong == {}, f"installed != locked (installed, locked): {wrong}"


@pytest.mark.parametrize("name", ["fastapi", "sqlalchemy", "psycopg", "typer", "pytest"])
def test_key_packages_are_installed_from_the_lock(name: str) -> None:
    assert metadata.version(name) in _locked()[canonicalize_name(name)]


def test_nothing_installed_beyond_the_lock() -> None:
    locked = _locked()
    # pip and setuptools are what `python -m venv` seeds an older .venv with; uv's own venvs
    # have neither, and nothing imports them.
    seeds = {"rms", "pip", "setuptools"}
    extra = sorted(set(_installed()) - set(locked) - seeds)
    assert extra == [], f"installed but not in uv.lock: {extra}"
