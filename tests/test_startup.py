"""What ``rms`` imports before a command runs: only what the command needs.

``rms --help`` (and every command's ``--help``) must not import the database drivers,
SQLAlchemy, pydantic or Alembic: at the owner's size the process start dominates a whole
migration (docs/benchmarks.md). Each check runs in a fresh interpreter, since the suite's
own process has long imported everything.
"""

from __future__ import annotations

import json
import subprocess
import sys

import psycopg
import pytest

from rms.cli import main

HEAVY = ("sqlalchemy", "psycopg", "pydantic", "pydantic_settings", "alembic", "boto3")
#: Typer 0.29 itself coerces parameters through pydantic once it builds a group's commands.
TYPER_OWN = {"pydantic"}

_PROBE = """
import json, sys
from rms.cli import main
try:
    main({argv!r})
except SystemExit:
    pass
print(json.dumps(sorted(m for m in {heavy!r} if m in sys.modules)), file=sys.stderr)
"""


def _loaded_after(*argv: str) -> list[str]:
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE.format(argv=list(argv), heavy=HEAVY)],
        capture_output=True,
        text=True,
        check=True,
    )
    loaded: list[str] = json.loads(proc.stderr.strip().splitlines()[-1])
    return loaded


def test_top_level_help_imports_none_of_them() -> None:
    assert _loaded_after("--help") == []


@pytest.mark.parametrize(
    "argv", [["db", "--help"], ["db", "migrate", "--help"], ["db", "export", "--help"]]
)
def test_command_help_imports_no_driver_orm_or_settings(argv: list[str]) -> None:
    assert set(_loaded_after(*argv)) <= TYPER_OWN


def test_a_command_still_loads_what_it_needs() -> None:
    assert "pydantic_settings" in _loaded_after("config", "show", "--format", "json")


def test_migrate_package_names_are_the_functions_after_their_modules_load() -> None:
    import rms.migrate.unload
    import rms.migrate.verification
    from rms.migrate import preflight, rollback, verify

    assert callable(verify) and verify.__module__ == "rms.migrate.verification"
    assert callable(rollback) and rollback.__module__ == "rms.migrate.unload"
    assert preflight.__module__ == "rms.migrate.plan"
    assert rms.migrate.verify is verify
    assert rms.migrate.rollback is rollback
    assert type(rms.migrate).__name__ == "module"  # a plain module: no class swapped in


def test_driver_errors_still_reach_the_boundary_translated(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import rms.cli

    def failing() -> None:
        raise psycopg.OperationalError("connection refused")

    from rms.db.errors import translate_db_error

    for cmd in rms.cli.app.registered_commands:
        if getattr(cmd.callback, "__name__", "") == "version":
            monkeypatch.setattr(cmd, "callback", failing)
            monkeypatch.setattr(cmd, "name", "version")
    code = main(["version"])
    err = capsys.readouterr().err
    expected = translate_db_error(psycopg.OperationalError("connection refused")).message
    assert code == 2
    assert err == f"error: {expected}\n"


def test_the_driver_error_module_loads_without_the_engine_models_or_settings() -> None:
    probe = (
        "import json, sys; import rms.db.errors; "
        "print(json.dumps(sorted(m for m in ('sqlalchemy.orm', 'rms.schema.tables', "
        "'rms.db.database', 'pydantic_settings') if m in sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == []


def test_the_migration_path_loads_the_core_tables_without_the_orm() -> None:
    probe = (
        "import json, sys; "
        "import rms.migrate.load, rms.migrate.plan, rms.migrate.cli.load, rms.transfer.spec; "
        "print(json.dumps(sorted(m for m in ('sqlalchemy.orm', 'rms.schema.tables', "
        "'rms.schema.core') if m in sys.modules)))"
    )
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(proc.stdout) == ["rms.schema.core"]
