"""All configuration of the service and the tools, in one model.

Settings are read when :func:`load_settings` is called (never at import time) and passed
explicitly to whatever needs them: the app factory, the engine builder, the CLI commands.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from rms.errors import ConfigError

__all__ = ["DEFAULT_SQLITE_PATH", "Settings", "load_settings"]

#: Where the embedded database lives when nothing else is configured (relative to the cwd).
DEFAULT_SQLITE_PATH = Path("var") / "rms.db"


class Settings(BaseSettings):
    """Effective configuration. Field names map to upper-case environment variables."""

    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", case_sensitive=False
    )

    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL (sqlite:///path.db or postgresql://...). "
        "Empty means the embedded SQLite file var/rms.db under the working directory.",
    )
    environment: str = Field(default="dev", description="Deployment name, e.g. dev or prod.")
    log_level: str = Field(default="INFO", description="Python logging level.")

    db_pool_size: int = Field(default=5, ge=1, le=100, description="Pooled connections kept.")
    db_max_overflow: int = Field(
        default=5, ge=0, le=100, description="Extra connections allowed beyond the pool size."
    )
    db_pool_timeout_seconds: float = Field(
        default=30.0, gt=0, description="How long a request waits for a free pooled connection."
    )
    db_statement_timeout_ms: int = Field(
        default=30_000, ge=0, description="PostgreSQL statement_timeout per session (0 = none)."
    )
    sqlite_busy_timeout_ms: int = Field(
        default=5_000, ge=0, description="How long SQLite waits on a locked database."
    )

    def effective_database_url(self) -> str:
        """The URL to connect to, with the embedded SQLite default filled in."""
        if self.database_url:
            return normalise_database_url(self.database_url)
        return f"sqlite:///{DEFAULT_SQLITE_PATH.as_posix()}"


def normalise_database_url(url: str) -> str:
    """Map the URL spellings people use to the drivers this package ships.

    ``postgres://`` and ``postgresql://`` both mean psycopg 3 here.
    """
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    if url.startswith(("sqlite:", "postgresql+psycopg:")):
        return url
    raise ConfigError(
        f"DATABASE_URL must start with sqlite:/// or postgresql://, got {url.split(':', 1)[0]!r}",
        field="DATABASE_URL",
    )


def load_settings(**overrides: Any) -> Settings:
    """Read settings from the environment and ``.env``; keyword overrides win.

    Invalid values raise :class:`ConfigError` naming each variable and why.
    """
    try:
        settings = Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"invalid configuration: {problems}") from exc
    settings.effective_database_url()  # validates the URL scheme early
    return settings
