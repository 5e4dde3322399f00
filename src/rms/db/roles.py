"""Least privilege in the database: an owner role for the schema, an application role for data.

``rms db bootstrap-roles`` runs this once, as the master user (credentials from the settings,
typically ``DB_SECRET_ARN`` of the RDS-managed master secret), before or after the first
``rms db upgrade``:

- the **owner** role (``rms_owner``) owns the ``public`` schema and everything in it (and
  the migration ledger's schema ``rms_migrate``); it runs ``rms db upgrade`` and
  ``rms db migrate``. It may create schemas in the database (the ledger's), nothing else.
- the **application** role (``rms_app``) is what the service logs in as: CONNECT, USAGE on
  the schema, SELECT/INSERT/UPDATE/DELETE on the RMS tables (SELECT only on
  ``alembic_version``, which the health check reads), USAGE and SELECT on their sequences,
  USAGE on their types. No CREATE anywhere, so no DDL; nothing in ``rms_migrate``.
  *Default privileges* of the owner give it the same on every table, sequence and type the
  owner creates later, so a migration never leaves the service without access.
- each role logs in with IAM authentication (membership in RDS's ``rds_iam``, the
  environments' choice) or with a password; a password is sent as a SCRAM verifier computed
  here (libpq's ``PQencryptPasswordConn``), so it is never in a statement or a server log.

The service never connects as the master user: the function's environment names
``DB_USER=rms_app`` and its IAM policy allows ``rds-db:connect`` as that user only.

Everything runs in one transaction (PostgreSQL's role and privilege commands are
transactional): it all applies or nothing does. It is idempotent: existing roles are kept
(their passwords too, unless asked to set them again), grants that exist are no-ops, and
the report says what changed, from a comparison of the catalog before and after.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import psycopg
from psycopg import sql
from pydantic import SecretStr
from sqlalchemy import Engine

from rms.errors import ConfigError, InvalidInputError, RmsError

__all__ = [
    "APP_ROLE",
    "OWNER_ROLE",
    "BootstrapReport",
    "RolePlan",
    "bootstrap_roles",
    "privilege_snapshot",
]

OWNER_ROLE, APP_ROLE = "rms_owner", "rms_app"
SCHEMA, LEDGER_SCHEMA = "public", "rms_migrate"
#: The table the app may read and never write (Alembic's revision marker).
READ_ONLY_TABLES = ("alembic_version",)
IAM_ROLE = "rds_iam"

Auth = Literal["iam", "password"]

_ROLE_NAME_LIMIT = 63


@dataclass(frozen=True)
class RolePlan:
    """What to create: role names, how they log in, their passwords (``auth="password"``)."""

    owner: str = OWNER_ROLE
    app: str = APP_ROLE
    auth: Auth = "iam"
    owner_password: SecretStr | None = None
    app_password: SecretStr | None = None
    #: Set the passwords of roles that already exist too (a rotation); default: keep them.
    reset_passwords: bool = False

    def check(self) -> None:
        for flag, name in (("--owner-role", self.owner), ("--app-role", self.app)):
            if not name or len(name) > _ROLE_NAME_LIMIT or not name.replace("_", "a").isalnum():
                raise InvalidInputError(
                    f"{flag} {name!r}: a role name is 1-63 letters, digits or underscores",
                    field=flag,
                )
        if self.owner == self.app:
            raise InvalidInputError(
                f"--owner-role and --app-role are both {self.owner!r}: they must differ",
                field="--app-role",
            )
        if self.auth == "password" and (self.owner_password is None or self.app_password is None):
            raise ConfigError(
                "--auth password needs RMS_OWNER_DB_PASSWORD and RMS_APP_DB_PASSWORD in the "
                "environment (never on the command line)",
                field="RMS_APP_DB_PASSWORD",
            )


@dataclass
class BootstrapReport:
    """What the bootstrap did: its steps and whether the catalog changed."""

    database: str
    master: str
    steps: list[str] = field(default_factory=list)
    changed: bool = False

    def lines(self) -> list[str]:
        head = (
            f"roles bootstrapped in database {self.database} (as {self.master})"
            if self.changed
            else f"roles already in place in database {self.database}: nothing changed"
        )
        return [head, *(f"  {step}" for step in self.steps)]


def bootstrap_roles(engine: Engine, plan: RolePlan) -> BootstrapReport:
    """Create or complete the owner and application roles; one transaction, idempotent."""
    plan.check()
    if engine.dialect.name != "postgresql":
        raise InvalidInputError(
            f"bootstrap-roles needs PostgreSQL, not {engine.dialect.name}: the embedded "
            "SQLite database has no roles",
            field="--url",
        )
    with engine.connect() as conn:
        dbapi = conn.connection.dbapi_connection
        assert isinstance(dbapi, psycopg.Connection)
        with conn.begin():
            cur = dbapi.cursor()
            report = _bootstrap(cur, dbapi, plan)
    return report


def _bootstrap(
    cur: psycopg.Cursor[Any], conn: psycopg.Connection[Any], plan: RolePlan
) -> BootstrapReport:
    database, master, superuser, createrole = cur.execute(
        "SELECT current_database(), current_user, rolsuper, rolcreaterole "
        "FROM pg_roles WHERE rolname = current_user"
    ).fetchone() or ("?", "?", False, False)
    if master in (plan.owner, plan.app):
        raise InvalidInputError(
            f"connected as {master}, one of the roles to create: run bootstrap-roles as the "
            "master user (e.g. DB_SECRET_ARN of the master secret)",
            field="DB_USER",
        )
    if not (superuser or createrole):
        raise RmsError(
            f"{master} may not create roles (no CREATEROLE): run bootstrap-roles as the master user"
        )
    if plan.auth == "iam" and not _role_exists(cur, IAM_ROLE):
        raise InvalidInputError(
            f"role {IAM_ROLE} does not exist in this database, so it is not RDS or Aurora: "
            "use --auth password (with RMS_OWNER_DB_PASSWORD and RMS_APP_DB_PASSWORD)",
            field="--auth",
        )
    report = BootstrapReport(database=database, master=master)
    before = privilege_snapshot(cur, plan.owner, plan.app)
    owner, app = sql.Identifier(plan.owner), sql.Identifier(plan.app)
    db, schema = sql.Identifier(database), sql.Identifier(SCHEMA)

    def run(statement: sql.Composed) -> None:
        cur.execute(statement)

    for name, password in ((plan.owner, plan.owner_password), (plan.app, plan.app_password)):
        created = _ensure_login_role(cur, name)
        report.steps.append(f"role {name}: {'created' if created else 'exists'}")
        ident = sql.Identifier(name)
        if plan.auth == "iam":
            run(sql.SQL("GRANT {} TO {}").format(sql.Identifier(IAM_ROLE), ident))
        elif password is not None and (created or plan.reset_passwords):
            verifier = conn.pgconn.encrypt_password(
                password.get_secret_value().encode(), name.encode(), b"scram-sha-256"
            )
            run(sql.SQL("ALTER ROLE {} PASSWORD {}").format(ident, sql.Literal(verifier.decode())))
            report.steps.append(f"role {name}: password set (SCRAM verifier)")
    if not superuser:
        # Non-superusers may hand objects to a role, and set its default privileges, only
        # as a member of it.
        run(sql.SQL("GRANT {} TO {}").format(owner, sql.Identifier(master)))

    # The owner: connects, may create schemas (the ledger), owns the schema and its objects.
    run(sql.SQL("GRANT CONNECT, CREATE ON DATABASE {} TO {}").format(db, owner))
    run(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(schema, owner))
    if _schema_exists(cur, LEDGER_SCHEMA):
        run(sql.SQL("ALTER SCHEMA {} OWNER TO {}").format(sql.Identifier(LEDGER_SCHEMA), owner))
    moved = _hand_objects_to(cur, plan.owner)
    if moved:
        report.steps.append(f"{moved} existing object(s) handed to {plan.owner}")
    # Before PostgreSQL 15 everyone may create tables in public: nobody but the owner may.
    run(sql.SQL("REVOKE CREATE ON SCHEMA {} FROM PUBLIC").format(schema))

    # The application: data only, now and for what the owner creates later.
    run(sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(db, app))
    run(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(schema, app))
    run(
        sql.SQL("GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA {} TO {}").format(
            schema, app
        )
    )
    run(sql.SQL("GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA {} TO {}").format(schema, app))
    for kind, privileges in (
        ("TABLES", "SELECT, INSERT, UPDATE, DELETE"),
        ("SEQUENCES", "USAGE, SELECT"),
        ("TYPES", "USAGE"),
    ):
        run(
            sql.SQL(
                "ALTER DEFAULT PRIVILEGES FOR ROLE {} IN SCHEMA {} GRANT {} ON {} TO {}"
            ).format(owner, schema, sql.SQL(privileges), sql.SQL(kind), app)
        )
    for table in READ_ONLY_TABLES:
        if _table_exists(cur, SCHEMA, table):
            run(
                sql.SQL("REVOKE INSERT, UPDATE, DELETE ON {}.{} FROM {}").format(
                    schema, sql.Identifier(table), app
                )
            )
    report.steps.append(
        f"{plan.owner}: owns schema {SCHEMA}"
        + (f" and {LEDGER_SCHEMA}" if _schema_exists(cur, LEDGER_SCHEMA) else "")
        + "; may create schemas"
    )
    report.steps.append(
        f"{plan.app}: SELECT/INSERT/UPDATE/DELETE on the tables of {SCHEMA} (SELECT on "
        f"{', '.join(READ_ONLY_TABLES)}), sequences and types; also on those "
        f"{plan.owner} creates later; no DDL"
    )
    report.steps.append(
        f"login: {'IAM authentication (' + IAM_ROLE + ')' if plan.auth == 'iam' else 'password'}"
    )
    report.changed = privilege_snapshot(cur, plan.owner, plan.app) != before
    return report


def _role_exists(cur: psycopg.Cursor[Any], name: str) -> bool:
    return cur.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)).fetchone() is not None


def _schema_exists(cur: psycopg.Cursor[Any], name: str) -> bool:
    found = cur.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", (name,)).fetchone()
    return found is not None


def _table_exists(cur: psycopg.Cursor[Any], schema: str, table: str) -> bool:
    found = cur.execute(
        "SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = %s AND c.relname = %s AND c.relkind IN ('r', 'p')",
        (schema, table),
    ).fetchone()
    return found is not None


def _ensure_login_role(cur: psycopg.Cursor[Any], name: str) -> bool:
    """Create ``name`` as a plain login role if missing; True if it was created."""
    if _role_exists(cur, name):
        return False
    cur.execute(
        sql.SQL(
            "CREATE ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS"
        ).format(sql.Identifier(name))
    )
    return True


#: Objects of the RMS schemas that are not yet the owner's: tables, views, standalone
#: sequences (those a column owns follow their table) and user-defined types (not the row
#: types of tables, nor array types).
_FOREIGN_OBJECTS = """
SELECT 'TABLE', n.nspname, c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r', 'p', 'v', 'm', 'f')
   AND c.relowner <> %(owner)s::regrole
UNION ALL
SELECT 'SEQUENCE', n.nspname, c.relname FROM pg_class c
  JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND c.relkind = 'S' AND c.relowner <> %(owner)s::regrole
   AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.classid = 'pg_class'::regclass
                   AND d.objid = c.oid AND d.deptype IN ('a', 'i'))
UNION ALL
SELECT 'TYPE', n.nspname, t.typname FROM pg_type t
  JOIN pg_namespace n ON n.oid = t.typnamespace
 WHERE n.nspname = ANY(%(schemas)s) AND t.typtype IN ('e', 'd', 'r') AND t.typrelid = 0
   AND t.typowner <> %(owner)s::regrole
ORDER BY 1, 2, 3
"""


def _hand_objects_to(cur: psycopg.Cursor[Any], owner: str) -> int:
    """Make ``owner`` own what is in the RMS schemas (e.g. a schema the master migrated)."""
    rows = cur.execute(
        _FOREIGN_OBJECTS, {"schemas": [SCHEMA, LEDGER_SCHEMA], "owner": owner}
    ).fetchall()
    for kind, schema, name in rows:
        cur.execute(
            sql.SQL("ALTER {} {}.{} OWNER TO {}").format(
                sql.SQL(kind), sql.Identifier(schema), sql.Identifier(name), sql.Identifier(owner)
            )
        )
    return len(rows)


def privilege_snapshot(cur: psycopg.Cursor[Any], *roles: str) -> list[tuple[Any, ...]]:
    """The catalog facts the bootstrap sets, as comparable rows (a change shows as a diff).

    Role attributes and memberships, the database's and the schemas' owners and ACLs, the
    owners and ACLs of every relation and type in the RMS schemas, and the default ACLs.
    Passwords are left out (a verifier is salted: only ``reset_passwords`` changes it).
    """
    queries = (
        "SELECT 'role', rolname, rolsuper, rolcanlogin, rolcreaterole, rolcreatedb, "
        "rolinherit FROM pg_roles WHERE rolname = ANY(%(roles)s) ORDER BY 2",
        "SELECT 'member', m.roleid::regrole::text, m.member::regrole::text FROM "
        "pg_auth_members m WHERE m.member::regrole::text = ANY(%(roles)s) "
        "OR m.roleid::regrole::text = ANY(%(roles)s) ORDER BY 2, 3",
        "SELECT 'database', datname, datdba::regrole::text, datacl::text FROM pg_database "
        "WHERE datname = current_database()",
        "SELECT 'schema', nspname, nspowner::regrole::text, nspacl::text FROM pg_namespace "
        "WHERE nspname = ANY(%(schemas)s) ORDER BY 2",
        "SELECT 'relation', n.nspname, c.relname, c.relowner::regrole::text, c.relacl::text "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE n.nspname = ANY(%(schemas)s) AND c.relkind IN ('r','p','v','m','f','S') "
        "ORDER BY 2, 3",
        "SELECT 'type', n.nspname, t.typname, t.typowner::regrole::text, t.typacl::text "
        "FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
        "WHERE n.nspname = ANY(%(schemas)s) ORDER BY 2, 3",
        "SELECT 'default', defaclrole::regrole::text, defaclnamespace::regnamespace::text, "
        "defaclobjtype::text, defaclacl::text FROM pg_default_acl ORDER BY 2, 3, 4",
    )
    params = {"roles": list(roles), "schemas": [SCHEMA, LEDGER_SCHEMA]}
    rows: list[tuple[Any, ...]] = []
    for query in queries:
        rows.extend(tuple(row) for row in cur.execute(query, params).fetchall())
    return rows
