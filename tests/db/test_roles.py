"""``rms db bootstrap-roles`` on a real PostgreSQL, run as an RDS-like master user.

The master here is what RDS makes: a login with CREATEROLE and CREATEDB that owns the
database, not a superuser; ``rds_iam`` is a plain role as on RDS (where it switches the
role's login to IAM tokens). Role names are unique per test, as roles are cluster-wide.
The test cluster trusts loopback logins, so passwords are checked as stored verifiers, not
by logging in with them.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import psycopg
import pytest
from pydantic import SecretStr
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from rms.app import create_app
from rms.db.roles import RolePlan, bootstrap_roles, privilege_snapshot
from rms.errors import InvalidInputError, RmsError
from rms.migrate.ledger import ensure_ledger
from rms.schema.migrations import upgrade
from rms.settings import load_settings
from tests.api.conftest import signed_in_client
from tests.pg import libpq
from tests.rms_cli import run_rms


@dataclass
class Cluster:
    """A fresh database owned by ``master``, and URLs to log in as each role."""

    superuser_url: str
    master: str
    plan: RolePlan

    def url(self, user: str) -> str:
        return make_url(self.superuser_url).set(username=user).render_as_string(False)

    @property
    def master_url(self) -> str:
        return self.url(self.master)

    def superuser(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(libpq(self.superuser_url), autocommit=True)

    def as_role(self, user: str) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(libpq(self.url(user)), autocommit=True)

    def bootstrap(self, plan: RolePlan | None = None) -> bool:
        engine = create_engine(self.master_url)
        try:
            return bootstrap_roles(engine, plan or self.plan).changed
        finally:
            engine.dispose()

    def upgrade_as(self, user: str) -> None:
        engine = create_engine(self.url(user))
        try:
            upgrade(engine)
        finally:
            engine.dispose()

    def snapshot(self) -> list[tuple[object, ...]]:
        with self.superuser() as conn:
            return privilege_snapshot(conn.cursor(), self.plan.owner, self.plan.app)


@pytest.fixture
def cluster(create_pg_database: Callable[[], str]) -> Iterator[Cluster]:
    url = create_pg_database()
    tag = uuid.uuid4().hex[:8]
    master, owner, app = f"master_{tag}", f"owner_{tag}", f"app_{tag}"
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_roles WHERE rolname = 'rds_iam'").fetchone() is None:
            conn.execute("CREATE ROLE rds_iam NOLOGIN")
        conn.execute(f"CREATE ROLE {master} LOGIN CREATEROLE CREATEDB")
        conn.execute(f'ALTER DATABASE "{make_url(url).database}" OWNER TO {master}')
    yield Cluster(url, master, RolePlan(owner=owner, app=app))
    with psycopg.connect(libpq(url), autocommit=True) as conn:
        for role in (owner, app, master):
            conn.execute(f"DROP OWNED BY {role} CASCADE")
        conn.execute(f'ALTER DATABASE "{make_url(url).database}" OWNER TO CURRENT_USER')
        for role in (app, owner, master):
            conn.execute(f"DROP ROLE {role}")


def _refused(conn: psycopg.Connection[tuple[object, ...]], statement: str) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)


def test_owner_migrates_and_the_app_role_gets_data_only(cluster: Cluster) -> None:
    plan = cluster.plan
    assert cluster.bootstrap() is True
    cluster.upgrade_as(plan.owner)  # `rms db upgrade` as the owner, on an empty database
    # alembic_version did not exist at the first run; the documented second run (after the
    # first upgrade) makes it read-only for the app.
    assert cluster.bootstrap() is True

    app = create_app(load_settings(database_url=cluster.url(plan.app), rms_api_token="t" * 32))
    with signed_in_client(app) as client:
        created = client.post("/api/accounts", json={"name": "least privilege"})
        assert created.status_code == 201, created.text
        assert client.get("/api/accounts").status_code == 200
        assert client.get("/health").json()["status"] == "ok"  # reads alembic_version
    app.state.db.dispose()

    with cluster.as_role(plan.owner) as owner:
        ensure_ledger(owner.cursor())  # the migration's ledger schema, made by the owner
        owner.execute("CREATE TABLE later_table (id int PRIMARY KEY, note text)")  # a migration
        owner.execute("CREATE SEQUENCE later_seq")
    with cluster.as_role(plan.app) as app_conn:
        for statement in (
            "CREATE TABLE mine (id int)",
            "DROP TABLE accounts",
            "ALTER TABLE accounts ADD COLUMN extra text",
            "TRUNCATE accounts",
            "CREATE SCHEMA mine",
            "UPDATE alembic_version SET version_num = 'x'",
            "SELECT * FROM rms_migrate.runs",
        ):
            _refused(app_conn, statement)
        # Default privileges: what the owner created after the bootstrap is the app's too.
        app_conn.execute("INSERT INTO later_table VALUES (1, 'x')")
        assert app_conn.execute("SELECT count(*) FROM later_table").fetchone() == (1,)
        assert app_conn.execute("SELECT nextval('later_seq')").fetchone() == (1,)
    with cluster.superuser() as su:
        member = su.execute(
            "SELECT pg_has_role(%s, 'rds_iam', 'MEMBER'), pg_has_role(%s, 'rds_iam', 'MEMBER')",
            (plan.app, plan.owner),
        ).fetchone()
        assert member == (True, True)  # IAM logins for both
        supers = su.execute(
            "SELECT bool_or(rolsuper OR rolcreaterole OR rolcreatedb) FROM pg_roles "
            "WHERE rolname IN (%s, %s)",
            (plan.app, plan.owner),
        ).fetchone()
        assert supers == (False,)


def test_rerunning_changes_nothing(cluster: Cluster) -> None:
    assert cluster.bootstrap() is True
    cluster.upgrade_as(cluster.plan.owner)
    after_upgrade = cluster.snapshot()
    cluster.bootstrap()  # after a migration: the read-only table is made read-only again
    settled = cluster.snapshot()
    assert cluster.bootstrap() is False
    assert cluster.snapshot() == settled
    assert len(after_upgrade) == len(settled) > 20


def test_a_schema_the_master_migrated_is_handed_to_the_owner(cluster: Cluster) -> None:
    plan = cluster.plan
    cluster.upgrade_as(cluster.master)  # the schema as it was before least privilege
    assert cluster.bootstrap() is True
    with cluster.superuser() as su:
        owners = su.execute(
            "SELECT DISTINCT relowner::regrole::text FROM pg_class c JOIN pg_namespace n "
            "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'S') "
            "UNION SELECT typowner::regrole::text FROM pg_type t JOIN pg_namespace n "
            "ON n.oid = t.typnamespace WHERE n.nspname = 'public' AND t.typtype = 'e'"
        ).fetchall()
        assert owners == [(plan.owner,)]
    cluster.upgrade_as(plan.owner)  # the owner can run later migrations on it
    with cluster.as_role(plan.owner) as owner:
        owner.execute("ALTER TABLE accounts ADD COLUMN owner_may text")
    with cluster.as_role(plan.app) as app_conn:
        app_conn.execute(
            "INSERT INTO accounts (id, name, \"updatedAt\") VALUES ('a-1', 'by the app', now())"
        )
        _refused(app_conn, "ALTER TABLE accounts DROP COLUMN owner_may")


def test_passwords_are_stored_as_verifiers_and_kept_on_rerun(cluster: Cluster) -> None:
    plan = RolePlan(
        owner=cluster.plan.owner,
        app=cluster.plan.app,
        auth="password",
        owner_password=SecretStr("owner-password-0123456789"),
        app_password=SecretStr("app-password-0123456789"),
    )

    def verifiers() -> list[tuple[object, ...]]:
        with cluster.superuser() as su:
            return su.execute(
                "SELECT rolname, rolpassword FROM pg_authid WHERE rolname IN (%s, %s) ORDER BY 1",
                (plan.owner, plan.app),
            ).fetchall()

    assert cluster.bootstrap(plan) is True
    first = verifiers()
    assert all(str(v).startswith("SCRAM-SHA-256$") for _, v in first)
    assert cluster.bootstrap(plan) is False
    assert verifiers() == first
    cluster.bootstrap(RolePlan(**{**plan.__dict__, "reset_passwords": True}))
    assert verifiers() != first  # a rotation, when asked for
    with cluster.superuser() as su:
        iam = su.execute("SELECT pg_has_role(%s, 'rds_iam', 'MEMBER')", (plan.app,)).fetchone()
    assert iam == (False,)


def test_refusals(cluster: Cluster, tmp_path: object) -> None:
    with pytest.raises(InvalidInputError, match="must differ"):
        RolePlan(owner="same", app="same").check()
    with pytest.raises(InvalidInputError, match="role name"):
        RolePlan(app="rms-app; DROP").check()
    with pytest.raises(RmsError, match="RMS_APP_DB_PASSWORD"):
        RolePlan(auth="password").check()
    cluster.bootstrap()
    engine = create_engine(cluster.url(cluster.plan.app))
    try:
        with pytest.raises(RmsError, match="CREATEROLE"):
            bootstrap_roles(engine, RolePlan(owner="o_x", app="a_x"))
        with pytest.raises(InvalidInputError, match="one of the roles"):
            bootstrap_roles(engine, cluster.plan)
    finally:
        engine.dispose()
    with pytest.raises(InvalidInputError, match="needs PostgreSQL"):
        bootstrap_roles(create_engine("sqlite://"), cluster.plan)


def test_the_command(cluster: Cluster, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", cluster.master_url)
    args = ("db", "bootstrap-roles", "--owner-role", cluster.plan.owner)
    missing = run_rms(*args, "--app-role", cluster.plan.app, "--auth", "password")
    assert missing.exit_code == 2
    assert missing.error_lines == [
        "error: --auth password needs RMS_OWNER_DB_PASSWORD and RMS_APP_DB_PASSWORD in the "
        "environment (never on the command line)"
    ]
    secret = "cli-app-password-0123456789"
    monkeypatch.setenv("RMS_OWNER_DB_PASSWORD", "cli-owner-password-0123456789")
    monkeypatch.setenv("RMS_APP_DB_PASSWORD", secret)
    done = run_rms(*args, "--app-role", cluster.plan.app, "--auth", "password")
    assert done.exit_code == 0, done.output
    assert done.stdout.startswith("roles bootstrapped in database")
    assert secret not in done.output
    again = run_rms(*args, "--app-role", cluster.plan.app, "--auth", "password")
    assert again.exit_code == 0 and "nothing changed" in again.stdout


def test_the_command_defaults_are_the_module_roles() -> None:
    from rms import roles_cli
    from rms.db import roles

    assert (roles_cli.OWNER_ROLE, roles_cli.APP_ROLE) == (roles.OWNER_ROLE, roles.APP_ROLE)
