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


# -- what the migrate command does not load, and what still loads when used -----------------

#: Modules a migration (and `rms db migrate --help`) never uses: the other commands'
#: modules, the Prometheus client (only the service exposes the metrics), the worker
#: processes' multiprocessing (only tables big enough for workers) and the progress bars
#: (only on a terminal).
UNUSED_BY_MIGRATE = (
    "prometheus_client",
    "multiprocessing",
    "rich.progress",
    "rms.cost",
    "rms.cost.cli",
    "rms.export",
    "rms.export.cli",
    "rms.devtools",
    "rms.devtools.cli",
    "rms.config_cli",
    "rms.roles_cli",
    "rms.migrate.cli.runs",
    "rms.migrate.cli.verify",
    "rms.migrate.parallel",
)


def _loaded_by(code: str, watch: tuple[str, ...]) -> list[str]:
    """Which of ``watch`` a fresh interpreter has loaded after running ``code``."""
    report = f"print(json.dumps(sorted(m for m in {watch!r} if m in sys.modules)))"
    probe = f"{code}\nimport json, sys\n{report}"
    proc = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    loaded: list[str] = json.loads(proc.stdout.strip().splitlines()[-1])
    return loaded


def _loaded_after_command(argv: list[str], watch: tuple[str, ...]) -> list[str]:
    code = f"from rms.cli import main\ntry:\n    main({argv!r})\nexcept SystemExit:\n    pass"
    return _loaded_by(code, watch)


def test_the_migrate_modules_load_nothing_a_migration_does_not_use() -> None:
    code = "import rms.cli, rms.migrate.load, rms.migrate.plan, rms.migrate.cli.load"
    assert _loaded_by(code, UNUSED_BY_MIGRATE) == []


def test_migrate_help_loads_its_own_module_and_no_other_command_s() -> None:
    watch = (*UNUSED_BY_MIGRATE, "rms.migrate.cli.load")
    assert _loaded_after_command(["db", "migrate", "--help"], watch) == ["rms.migrate.cli.load"]


@pytest.mark.parametrize(
    ("argv", "module"),
    [
        (["cost", "--help"], "rms.cost.cli"),
        (["cost", "estimate", "--help"], "rms.cost.cli"),
        (["dev", "aurora-sim", "--help"], "rms.devtools.cli"),
        (["config", "--help"], "rms.config_cli"),
        (["db", "export", "--help"], "rms.export.cli"),
        (["db", "bootstrap-roles", "--help"], "rms.roles_cli"),
        (["db", "runs", "--help"], "rms.migrate.cli.runs"),
        (["db", "verify", "--help"], "rms.migrate.cli.verify"),
    ],
)
def test_a_command_s_module_loads_when_it_runs(argv: list[str], module: str) -> None:
    assert _loaded_after_command(argv, (module,)) == [module]


def test_help_lists_every_command_without_loading_it() -> None:
    assert _loaded_after_command(["--help"], UNUSED_BY_MIGRATE) == []
    assert _loaded_after_command(["db", "--help"], UNUSED_BY_MIGRATE) == []


def test_each_listed_help_is_the_command_s_own() -> None:
    import typer

    from rms.cli import app, db_app
    from rms.clikit import LazyCommand

    groups = [typer.main.get_group(app), typer.main.get_group(db_app)]
    seen: set[str] = set()
    for group in groups:
        commands = group.commands
        for name in list(commands):
            spec = getattr(commands, "spec", lambda _n: None)(name)
            if not isinstance(spec, LazyCommand):
                continue
            seen.add(name)
            loaded = spec.load()
            assert loaded.name == name
            for limit in (20, 45, 94):
                assert spec.listed().get_short_help_str(limit) == loaded.get_short_help_str(limit)
            assert loaded.hidden is False
    assert {"cost", "dev", "config", "migrate", "verify", "runs", "export"} <= seen


def test_prometheus_loads_when_the_metrics_are_asked_for_with_what_was_recorded() -> None:
    code = (
        "from rms.db.observe import DbObserver\n"
        "o = DbObserver(cold_start_threshold_seconds=1.0)\n"
        "o.attempt(); o.attempt(); o.connected(0.2); o.connected(3.0); o.retry('connect_x')\n"
        "o.failed('refused', 'no'); o.abandoned('ping')\n"
        "import sys; assert 'prometheus_client' not in sys.modules\n"
        "r = o.registry\n"
        "assert r.get_sample_value('rms_db_connect_attempts_total') == 2\n"
        "assert r.get_sample_value('rms_db_connect_seconds_count') == 2\n"
        "assert r.get_sample_value('rms_db_connect_seconds_sum') == 3.2\n"
        "assert r.get_sample_value('rms_db_cold_starts_total') == 1\n"
        "assert r.get_sample_value('rms_db_cold_start_seconds_bucket', {'le': '5.0'}) == 1\n"
        "assert r.get_sample_value('rms_db_retries_total', {'reason': 'connect_x'}) == 1\n"
        "assert r.get_sample_value('rms_db_connect_failures_total', {'kind': 'refused'}) == 1\n"
        "o.attempt()\n"
        "assert o.connect_attempts._value.get() == 3\n"
        "assert o.abandoned_connections.labels(reason='ping')._value.get() == 1"
    )
    assert _loaded_by(code, ("prometheus_client",)) == ["prometheus_client"]


def test_metrics_recorded_before_and_after_they_are_made_read_the_same() -> None:
    from prometheus_client import generate_latest

    from rms.db.observe import DbObserver, PoolFigures

    def record(o: DbObserver) -> None:
        o.attempt()
        o.connected(0.3)
        o.connected(2.5)
        o.retry("transaction_connect")
        o.failed("budget", "gone")
        o.abandoned("deadline")

    def exposition(o: DbObserver) -> list[str]:
        text = generate_latest(o.registry).decode()
        return [line for line in text.splitlines() if "_created" not in line]

    early, late = DbObserver(), DbObserver()
    early.metrics()
    for o in (early, late):
        o.pool_figures = lambda: PoolFigures(size=5, in_use=1, idle=2, overflow=0, waiting=0)
        record(o)
    assert exposition(late) == exposition(early)
    assert "rms_db_pool_in_use 1.0" in exposition(late)


def test_a_service_s_database_has_its_metrics_at_once() -> None:
    code = (
        "from rms.settings import load_settings\n"
        "from rms.db import build_database\n"
        "db = build_database(load_settings(database_url='sqlite:////tmp/none.db'), serving=True)\n"
        "assert db.observer._metrics is not None"
    )
    assert _loaded_by(code, ("prometheus_client",)) == ["prometheus_client"]


def test_the_progress_bars_load_rich_progress_only_when_shown() -> None:
    code = (
        "import io\n"
        "from rich.console import Console\n"
        "from rms.migrate.cli.output import RichObserver\n"
        "RichObserver(Console(file=io.StringIO()), show=False)\n"
        "import sys; assert 'rich.progress' not in sys.modules\n"
        "RichObserver(Console(file=io.StringIO()), show=True)"
    )
    assert _loaded_by(code, ("rich.progress",)) == ["rich.progress"]


def test_the_migration_path_loads_the_core_tables_without_the_orm() -> None:
    code = "import rms.migrate.load, rms.migrate.plan, rms.migrate.cli.load, rms.transfer.spec"
    watch = ("sqlalchemy.orm", "rms.schema.tables", "rms.schema.core")
    assert _loaded_by(code, watch) == ["rms.schema.core"]


def test_a_database_loads_the_orm_with_its_first_unit_of_work_only() -> None:
    code = (
        "from sqlalchemy import create_engine, text\n"
        "from rms.db.database import Database\n"
        "db = Database(create_engine('sqlite://'))\n"
        "import sys; assert 'sqlalchemy.orm' not in sys.modules\n"
        "assert db.run(lambda s: s.execute(text('SELECT 1')).scalar()) == 1"
    )
    assert _loaded_by(code, ("sqlalchemy.orm",)) == ["sqlalchemy.orm"]
