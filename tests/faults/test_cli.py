"""The commands that hold connections answer within their budget when the database vanished.

``rms db health``, ``rms db seed`` and ``rms db upgrade`` against a black-holed database:
one error line naming the budget, exit status 2, no traceback; the same command succeeds
once the network is back.
"""

from __future__ import annotations

import pytest

from rms.devtools.aurora_sim import AuroraSim
from tests.faults.harness import BUDGET
from tests.rms_cli import run_rms

COMMANDS = [["db", "health"], ["db", "seed"], ["db", "upgrade"]]


@pytest.fixture(autouse=True)
def short_budgets(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "DB_COMMAND_BUDGET_SECONDS": BUDGET,
        "DB_PING_TIMEOUT_SECONDS": 1,
        "DB_CONNECT_TIMEOUT_SECONDS": 2,
        "DB_RETRY_MAX_BACKOFF_SECONDS": 0.5,
    }.items():
        monkeypatch.setenv(name, str(value))


@pytest.mark.parametrize("command", COMMANDS, ids=[" ".join(c) for c in COMMANDS])
def test_command_into_a_black_hole_fails_within_its_budget_then_succeeds(
    command: list[str], proxy: AuroraSim, pg_migrated: str
) -> None:
    url = proxy.proxied_url(pg_migrated)
    proxy.blackhole()
    failed = run_rms(*command, "--url", url)
    assert failed.exit_code == 2, failed.output
    errors = [line for line in failed.error_lines if line.startswith("error: ")]
    assert len(errors) == 1 and "Traceback" not in failed.output, failed.output
    assert "DB_COMMAND_BUDGET_SECONDS" in errors[0]
    assert all(line.startswith(("error: ", "waiting for")) for line in failed.error_lines)
    assert proxy.state().connections_accepted >= 1  # it did try, and was swallowed
    proxy.heal()
    done = run_rms(*command, "--url", url)
    assert done.exit_code == 0, done.output
