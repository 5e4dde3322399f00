"""All configuration of the service and the tools, in one model, read when asked.

``from rms.settings import Settings, load_settings`` is all most code needs. The package is
split by job:

- :mod:`rms.settings.model`: the :class:`Settings` model, its validation and derived values;
- :mod:`rms.settings.load`: :func:`load_settings` (environment, ``.env``, SSM, overrides) and
  :func:`settings_from` (given values and defaults only, for library callers);
- :mod:`rms.settings.ssm_path`: reading ``SSM_PARAMETER_PATH`` once at start-up;
- :mod:`rms.settings.sources`: how variables are read, and the SSM values as a source;
- :mod:`rms.settings.urls`: database URL spellings and local-host detection;
- :mod:`rms.settings.state`: the state directory, where every file the tool writes goes.

Secrets and their redaction live in :mod:`rms.secrets`, AWS clients in :mod:`rms.aws`.
"""

from rms.settings.load import load_settings, settings_from
from rms.settings.model import PASSWORD_SOURCES, Settings, SslMode, env_name
from rms.settings.state import default_state_dir, make_private_dir
from rms.settings.urls import DEFAULT_PG_PORT, is_local_host, normalise_database_url

__all__ = [
    "DEFAULT_PG_PORT",
    "PASSWORD_SOURCES",
    "Settings",
    "SslMode",
    "default_state_dir",
    "env_name",
    "is_local_host",
    "load_settings",
    "make_private_dir",
    "normalise_database_url",
    "settings_from",
]
