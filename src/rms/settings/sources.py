"""Where setting values come from besides the environment: ``.env`` and ``SSM_PARAMETER_PATH``.

:data:`ENV_CONFIG` is the one description of how variables are read (``.env``, case,
empty values), shared by the settings model and by the bootstrap read of the variables
needed to reach SSM. :class:`SsmPathSource` hands pydantic-settings the values that
:func:`rms.settings.ssm_path.read_ssm_path` read for the :class:`~rms.settings.Settings`
being built right now; :func:`rms.settings.load_settings` sets them around the constructor
(:func:`ssm_values`), so ``Settings()`` on its own never reads AWS.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from pydantic.fields import FieldInfo
from pydantic_settings import PydanticBaseSettingsSource, SettingsConfigDict

__all__ = ["ENV_CONFIG", "SsmPathSource", "ssm_values"]

ENV_CONFIG = SettingsConfigDict(
    env_file=".env",
    env_file_encoding="utf-8",
    extra="ignore",
    case_sensitive=False,
    # ``DB_HOST=`` in a .env file means "not set", not "the empty host name".
    env_ignore_empty=True,
    populate_by_name=True,
)

_SSM_VALUES: ContextVar[Mapping[str, str] | None] = ContextVar("rms_ssm_values", default=None)


@contextmanager
def ssm_values(values: Mapping[str, str]) -> Iterator[None]:
    """Make ``values`` (field name -> value) what :class:`SsmPathSource` supplies."""
    token = _SSM_VALUES.set(values)
    try:
        yield
    finally:
        _SSM_VALUES.reset(token)


class SsmPathSource(PydanticBaseSettingsSource):
    """The parameters read from ``SSM_PARAMETER_PATH``, as a pydantic-settings source."""

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        values = _SSM_VALUES.get() or {}
        return values.get(field_name), field_name, False

    def __call__(self) -> dict[str, Any]:
        return dict(_SSM_VALUES.get() or {})
