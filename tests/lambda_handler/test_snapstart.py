"""SnapStart: the service is built during the INIT that Lambda snapshots, and a restored
environment reseeds what it would otherwise share with the others (docs/lambda.md)."""

from __future__ import annotations

import random
import sys
from collections.abc import Callable
from types import ModuleType

import pytest

from rms import lambda_handler
from tests.lambda_handler.conftest import BEARER, Env, Invoke


@pytest.fixture
def hooks(monkeypatch: pytest.MonkeyPatch) -> list[Callable[[], None]]:
    """A stand-in for the managed runtime's snapshot_restore_py, recording the hooks."""
    registered: list[Callable[[], None]] = []
    module = ModuleType(lambda_handler.RESTORE_HOOKS_MODULE)
    module.register_after_restore = registered.append  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, lambda_handler.RESTORE_HOOKS_MODULE, module)
    return registered


def test_an_on_demand_init_builds_nothing(lambda_env: Env, sqlite_url: str) -> None:
    lambda_env(DATABASE_URL=sqlite_url)
    for kind in (None, "on-demand", "provisioned-concurrency"):
        environ = {} if kind is None else {lambda_handler.INITIALIZATION_TYPE: kind}
        assert lambda_handler.prepare_snapshot(environ) is False
        assert lambda_handler._service is None


def test_a_snapstart_init_builds_the_service_and_registers_the_hook(
    lambda_env: Env, sqlite_url: str, invoke: Invoke, hooks: list[Callable[[], None]]
) -> None:
    lambda_env(DATABASE_URL=sqlite_url)
    assert lambda_handler.prepare_snapshot({lambda_handler.INITIALIZATION_TYPE: "snap-start"})
    built = lambda_handler._service
    assert built is not None and hooks == [lambda_handler.after_restore]
    assert built.invocations == 0  # built, not invoked: nothing connected for the snapshot
    # After the restore the same service answers, and the module's random state is new.
    random.seed(1234)
    before = random.getstate()
    hooks[0]()
    assert random.getstate() != before
    assert invoke("GET", "/api/accounts", headers=BEARER).status == 200
    assert lambda_handler.service() is built and built.invocations == 1


def test_without_the_hook_library_the_build_still_happens(
    lambda_env: Env, sqlite_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    lambda_env(DATABASE_URL=sqlite_url)
    monkeypatch.setitem(sys.modules, lambda_handler.RESTORE_HOOKS_MODULE, None)  # ImportError
    assert lambda_handler.prepare_snapshot({lambda_handler.INITIALIZATION_TYPE: "snap-start"})
    assert lambda_handler._service is not None


def test_a_build_that_fails_in_init_is_left_to_the_first_invocation(
    lambda_env: Env, invoke: Invoke, hooks: list[Callable[[], None]], sqlite_url: str
) -> None:
    lambda_env(DATABASE_URL=sqlite_url, RMS_PUBLIC_URL="not a url")
    assert lambda_handler.prepare_snapshot({lambda_handler.INITIALIZATION_TYPE: "snap-start"})
    assert lambda_handler._service is None and hooks == [lambda_handler.after_restore]
    assert invoke("GET", "/health/live").status == 500
