"""Where the package's log lines go when ``rms`` runs: stderr, with secrets masked.

Nothing here runs at import time. :func:`stderr_logging` (used by :func:`rms.cli.main`
around every command) puts one handler on the ``rms`` logger; :func:`configure_logging`
sets its level from ``LOG_LEVEL`` once the settings are read, and switches ``rms serve`` to
timestamped lines. The handler carries a :class:`~rms.secrets.RedactingFilter`, so no
secret reaches the log, and it looks ``sys.stderr`` up for every line (a test that captures
stderr sees the lines; a closed capture never breaks a later one).

Lines for a person: INFO is the message alone (``waiting for the database at ...``), a
warning or error is prefixed with its level, like the CLI's own ``error:`` line.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager

from rms.secrets import RedactingFilter

__all__ = ["configure_logging", "stderr_logging"]

_LOGGER = "rms"
_TIMESTAMPED = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _PersonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


class _StderrHandler(logging.Handler):
    """Writes each record to whatever ``sys.stderr`` is at that moment."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            sys.stderr.write(self.format(record) + "\n")
            sys.stderr.flush()
        except Exception:  # a log line must never break the command
            self.handleError(record)


def _installed() -> _StderrHandler | None:
    for handler in logging.getLogger(_LOGGER).handlers:
        if isinstance(handler, _StderrHandler):
            return handler
    return None


@contextmanager
def stderr_logging(level: str = "INFO") -> Iterator[None]:
    """Write the ``rms`` loggers to stderr while the block runs (then restore as it was)."""
    logger = logging.getLogger(_LOGGER)
    if _installed() is not None:  # nested (a command calling main): keep the outer one
        yield
        return
    handler = _StderrHandler()
    handler.addFilter(RedactingFilter())
    handler.setFormatter(_PersonFormatter("%(message)s"))
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(level)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)


def configure_logging(level: str, *, timestamps: bool = False) -> None:
    """Set the level (a ``logging`` name, e.g. INFO) and, for services, timestamped lines."""
    logger = logging.getLogger(_LOGGER)
    logger.setLevel(level.upper())
    handler = _installed()
    if handler is not None and timestamps:
        handler.setFormatter(logging.Formatter(_TIMESTAMPED))
