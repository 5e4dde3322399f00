"""RMS: a closed-end-fund income portfolio service, and the tools that move it to PostgreSQL."""

from typing import Any

__all__ = ["__version__"]


def __getattr__(name: str) -> Any:
    """``__version__``, read from the installed metadata on first use (PEP 562): scanning
    the installed distributions costs tens of milliseconds that `rms --help` need not pay."""
    if name != "__version__":
        raise AttributeError(f"module 'rms' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        found = version("rms")
    except PackageNotFoundError:  # pragma: no cover - a source tree without install
        found = "0.0.0"
    globals()["__version__"] = found
    return found
