"""RMS: a closed-end-fund income portfolio service, and the tools that move it to PostgreSQL."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("rms")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"

__all__ = ["__version__"]
