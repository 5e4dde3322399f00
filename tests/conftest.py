"""Shared fixtures: real SQLite and a real PostgreSQL 15, one test on both.

The suite starts its own throwaway PostgreSQL cluster (as the ``postgres`` user when run
as root) unless ``RMS_TEST_DATABASE_URL`` names a server to use; either way it creates a
fresh database for the run and drops it afterwards. Each test runs inside a transaction
that is rolled back, so tests do not see each other's rows.

Every test gets its own empty state directory (``RMS_STATE_DIR``, inherited by the
subprocesses it starts), so nothing a test runs writes into the repository or into the
real per-user state directory.
"""

from __future__ import annotations

import os
import shutil
import uuid
import warnings
from collections.abc import Callable, Iterator
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import Connection, Engine, create_engine
from sqlalchemy.engine import make_url

from rms.db.database import Database
from rms.db.engine import create_db_engine
from rms.devtools.pgcluster import PgCluster
from rms.schema.migrations import upgrade
from rms.settings import Settings, load_settings
from tests.pg import libpq

warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")

BACKENDS = ["sqlite", "postgresql"]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark the browser tests (those using Chromium), the fault-injection ones (in
    ``tests/faults/`` or a ``test_*faults*.py`` file) and the ones that drive the Prisma
    application through Node (slow: a Node process and Prisma's engine per test);
    ``make test-fast`` leaves them out. Marked here, so a new test in those places is marked
    without anyone remembering to. Other slow tests carry ``@pytest.mark.slow`` themselves."""
    for item in items:
        fixtures = getattr(item, "fixturenames", ())
        if "chromium" in fixtures:
            item.add_marker(pytest.mark.browser)
        if "prisma_toolchain" in fixtures:
            item.add_marker(pytest.mark.slow)
        if "faults" in item.path.stem or item.path.parent.name == "faults":
            item.add_marker(pytest.mark.faults)


@pytest.fixture(autouse=True)
def state_dir(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This test's own state directory (set as ``RMS_STATE_DIR``; not created yet)."""
    path = tmp_path_factory.mktemp("state") / "rms"
    monkeypatch.setenv("RMS_STATE_DIR", str(path))
    return path


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server where tests may create databases (a superuser)."""
    given = os.environ.get("RMS_TEST_DATABASE_URL")
    if given:
        yield make_url(given).set(drivername="postgresql+psycopg").render_as_string(False)
        return
    cluster = PgCluster()
    cluster.start()
    try:
        yield cluster.url()
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def create_pg_database(pg_server_url: str) -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty databases on the test server (dropped at the end)."""
    created: list[str] = []

    def make() -> str:
        name = f"rms_test_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(libpq(pg_server_url), autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(pg_server_url).set(database=name).render_as_string(False)

    yield make
    with psycopg.connect(libpq(pg_server_url), autocommit=True) as conn:
        for name in created:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_head_template(pg_server_url: str, create_pg_database: Callable[[], str]) -> str:
    """The name of a database at the schema head, upgraded once per worker: the template of
    :func:`pg_migrated` (``CREATE DATABASE ... TEMPLATE`` copies it in a few milliseconds
    where running the revisions takes about a second)."""
    url = create_pg_database()
    engine = create_db_engine(load_settings(database_url=url))
    upgrade(engine)
    engine.dispose()  # a template must have no other session while it is copied
    name = make_url(url).database
    assert name is not None
    return name


@pytest.fixture
def pg_migrated(pg_server_url: str, pg_head_template: str) -> Iterator[str]:
    """A fresh PostgreSQL database of this test's own, at the schema head (dropped after)."""
    name = f"rms_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(libpq(pg_server_url), autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{pg_head_template}"')
    yield make_url(pg_server_url).set(database=name).render_as_string(False)
    with psycopg.connect(libpq(pg_server_url), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def sqlite_head_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An SQLite file at the schema head, upgraded once per worker (copied by
    :func:`migrated_url`)."""
    path = tmp_path_factory.mktemp("template") / "head.db"
    engine = create_db_engine(load_settings(database_url=f"sqlite:///{path}"))
    upgrade(engine)
    engine.dispose()
    return path


@pytest.fixture
def migrated_url(backend: str, tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A fresh database of ``backend`` at the schema head, this test's alone (no rollback:
    threads and subprocesses may share it)."""
    if backend == "sqlite":
        path = tmp_path / "migrated.db"
        shutil.copyfile(request.getfixturevalue("sqlite_head_template"), path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("pg_migrated")
    return url


@pytest.fixture(scope="session")
def backend_urls(
    tmp_path_factory: pytest.TempPathFactory, create_pg_database: Callable[[], str]
) -> dict[str, str]:
    sqlite_path: Path = tmp_path_factory.mktemp("sqlite") / "rms-test.db"
    return {"sqlite": f"sqlite:///{sqlite_path}", "postgresql": create_pg_database()}


@pytest.fixture(scope="session")
def migrated_engines(backend_urls: dict[str, str]) -> Iterator[dict[str, Engine]]:
    """One engine per backend, its database upgraded to the schema head once per run."""
    engines = {}
    for name, url in backend_urls.items():
        engine = create_db_engine(load_settings(database_url=url))
        upgrade(engine)
        engines[name] = engine
    yield engines
    for engine in engines.values():
        engine.dispose()


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


@pytest.fixture
def engine(backend: str, migrated_engines: dict[str, Engine]) -> Engine:
    return migrated_engines[backend]


@pytest.fixture
def connection(engine: Engine) -> Iterator[Connection]:
    """A connection inside a transaction that is rolled back after the test."""
    with engine.connect() as conn:
        outer = conn.begin()
        try:
            yield conn
        finally:
            outer.rollback()


@pytest.fixture
def db(engine: Engine, connection: Connection) -> Database:
    return Database(engine, bind=connection)


@pytest.fixture
def settings(backend: str, backend_urls: dict[str, str]) -> Settings:
    return load_settings(database_url=backend_urls[backend])


@pytest.fixture
def fresh_engine_factory(
    tmp_path: Path, create_pg_database: Callable[[], str]
) -> Iterator[Callable[[str], Engine]]:
    """Engines on brand-new, empty databases (for schema and migration tests)."""
    made: list[Engine] = []

    def make(backend: str) -> Engine:
        url = (
            f"sqlite:///{tmp_path / f'fresh-{len(made)}.db'}"
            if backend == "sqlite"
            else create_pg_database()
        )
        engine = (
            create_engine(url)
            if backend != "sqlite"
            else create_db_engine(load_settings(database_url=url))
        )
        made.append(engine)
        return engine

    yield make
    for engine in made:
        engine.dispose()
