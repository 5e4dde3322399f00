"""``rms db bootstrap-roles``: a thin command over :func:`rms.db.roles.bootstrap_roles`.

It connects as whoever the settings name, which must be the master user (``DB_SECRET_ARN``
of the master secret, as ``rms db upgrade`` from an operator's machine does). Passwords, when
``--auth password``, come from the environment only (``RMS_OWNER_DB_PASSWORD``,
``RMS_APP_DB_PASSWORD``), never from the command line, and are masked in any output.

It sits beside the other command modules, not in ``rms.db``: importing anything in that
package runs its ``__init__`` (engine, drivers, settings), which ``rms --help`` must not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from rms.clikit import command_settings, hooks_of, stdout_console
from rms.secrets import default_secret_registry

if TYPE_CHECKING:
    from pydantic import SecretStr

    from rms.db.roles import RolePlan

__all__ = ["bootstrap_roles_cmd", "plan_from"]

OWNER_PASSWORD_ENV, APP_PASSWORD_ENV = "RMS_OWNER_DB_PASSWORD", "RMS_APP_DB_PASSWORD"
#: The default role names (rms.db.roles.OWNER_ROLE, APP_ROLE; not imported from there so
#: that ``rms --help`` loads no database module).
OWNER_ROLE, APP_ROLE = "rms_owner", "rms_app"


class AuthChoice(StrEnum):
    iam = "iam"
    password = "password"  # noqa: S105 (a login method, not a password)


def _secret(environ: Mapping[str, str], name: str) -> SecretStr | None:
    from pydantic import SecretStr

    value = environ.get(name)
    if not value:
        return None
    default_secret_registry().add(value)
    return SecretStr(value)


def plan_from(
    environ: Mapping[str, str],
    *,
    owner: str = OWNER_ROLE,
    app: str = APP_ROLE,
    auth: str = "iam",
    reset_passwords: bool = False,
) -> RolePlan:
    """The plan from the options and, for passwords, the environment ``environ``."""
    from rms.db.roles import RolePlan

    password = auth == "password"
    return RolePlan(
        owner=owner,
        app=app,
        auth="password" if password else "iam",
        owner_password=_secret(environ, OWNER_PASSWORD_ENV) if password else None,
        app_password=_secret(environ, APP_PASSWORD_ENV) if password else None,
        reset_passwords=reset_passwords,
    )


def bootstrap_roles_cmd(
    ctx: typer.Context,
    owner: Annotated[
        str, typer.Option("--owner-role", metavar="ROLE", help="Owns the schema; migrates.")
    ] = OWNER_ROLE,
    app: Annotated[
        str, typer.Option("--app-role", metavar="ROLE", help="The service's login.")
    ] = APP_ROLE,
    auth: Annotated[
        AuthChoice,
        typer.Option(
            "--auth",
            help="iam: grant rds_iam (RDS/Aurora IAM authentication); password: set "
            f"the passwords from {OWNER_PASSWORD_ENV} and {APP_PASSWORD_ENV}.",
        ),
    ] = AuthChoice.iam,
    reset_passwords: Annotated[
        bool,
        typer.Option(
            "--reset-passwords", help="With --auth password: set them on existing roles too."
        ),
    ] = False,
) -> None:
    """Create the owner and application roles and their grants; idempotent.

    Run once as the master user, before or after the first `rms db upgrade`; then
    migrate as the owner role and serve as the application role.
    """
    from rms.db import build_database
    from rms.db.deadline import command_budget
    from rms.db.roles import bootstrap_roles

    plan = plan_from(
        os.environ, owner=owner, app=app, auth=auth.value, reset_passwords=reset_passwords
    )
    plan.check()
    settings = command_settings(ctx)
    db = build_database(settings, session_factory=hooks_of(ctx).session_factory)
    try:
        with command_budget(settings):
            report = bootstrap_roles(db.engine, plan)
    finally:
        db.dispose()
    out = stdout_console()
    for line in report.lines():
        out.print(line, markup=False, soft_wrap=True)
