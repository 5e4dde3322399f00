"""Where the package's log lines go when ``rms`` runs: stderr, with secrets masked.

Nothing here runs at import time. :func:`stderr_logging` (used by :func:`rms.cli.main`
around every command) puts one handler on the ``rms`` logger; :func:`configure_logging`
sets its level from ``LOG_LEVEL`` once the settings are read, and switches ``rms serve`` to
timestamped lines. The handler carries a :class:`~rms.secrets.RedactingFilter`, so no
secret reaches the log, and it looks ``sys.stderr`` up for every line (a test that captures
stderr sees the lines; a closed capture never breaks a later one).

Lines for a person: INFO is the message alone (``waiting for the database at ...``), a
warning or error is prefixed with its level, like the CLI's own ``error:`` line.

A record may carry a *status* (``extra={STATUS: text}``): progress that the next status
replaces, such as each attempt of a wait for the database. On a terminal it is one line
rewritten in place (``\r``, then the text, then erase to the end of the line), which the
next ordinary line (or :func:`end_status_line`, called before the CLI's error line)
replaces; in a log or a pipe, and in a service's timestamped log (``rms serve``), the
record's message is an ordinary line like any other.
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Iterator
from contextlib import contextmanager, suppress

from rms.secrets import RedactingFilter

__all__ = ["STATUS", "configure_logging", "end_status_line", "stderr_logging"]

_LOGGER = "rms"
_TIMESTAMPED = "%(asctime)s %(levelname)s %(name)s: %(message)s"
#: The ``extra`` key of a record's status text (see the module's docstring).
STATUS = "rms_status"
_ERASE_LINE = "\r\x1b[K"


class _PersonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        message = super().format(record)
        if record.levelno >= logging.WARNING:
            return f"{record.levelname.lower()}: {message}"
        return message


class _StderrHandler(logging.Handler):
    """Writes each record to whatever ``sys.stderr`` is at that moment; a status on a
    terminal as one line rewritten in place."""

    def __init__(self) -> None:
        super().__init__()
        self.status_shown = False
        #: A status may be one line rewritten in place (a command's person-readable
        #: output); a service's timestamped log always gets lines.
        self.statuses = True

    def emit(self, record: logging.LogRecord) -> None:
        try:
            stream = sys.stderr
            status = getattr(record, STATUS, None)
            if status is not None and self.statuses and _is_terminal(stream):
                # A status on a terminal: rewrite the one line, leave the cursor on it.
                text = self.format(_with_message(record, str(status)))
                stream.write(_ERASE_LINE + " ".join(text.split()))
                self.status_shown = True
            else:
                self.clear_status(stream)
                stream.write(self.format(record) + "\n")
            stream.flush()
        except Exception:  # a log line must never break the command
            self.handleError(record)

    def clear_status(self, stream: object) -> None:
        """Erase the status line if one is shown, so the next line takes its place."""
        if self.status_shown:
            self.status_shown = False
            write = getattr(stream, "write", None)
            if write is not None:
                write(_ERASE_LINE)


def _is_terminal(stream: object) -> bool:
    isatty = getattr(stream, "isatty", None)
    try:
        return bool(isatty()) if callable(isatty) else False
    except (OSError, ValueError):  # a closed stream
        return False


def _with_message(record: logging.LogRecord, message: str) -> logging.LogRecord:
    copy = logging.makeLogRecord(record.__dict__)
    copy.msg, copy.args = message, None
    return copy


def end_status_line() -> None:
    """Erase the status line a terminal shows, if any (before a line of the caller's own)."""
    handler = _installed()
    if handler is not None:
        with suppress(Exception):
            handler.clear_status(sys.stderr)
            sys.stderr.flush()


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
        end_status_line()
        logger.removeHandler(handler)
        logger.setLevel(previous)


def configure_logging(level: str, *, timestamps: bool = False) -> None:
    """Set the level (a ``logging`` name, e.g. INFO) and, for services, timestamped lines."""
    logger = logging.getLogger(_LOGGER)
    logger.setLevel(level.upper())
    handler = _installed()
    if handler is not None and timestamps:
        handler.setFormatter(logging.Formatter(_TIMESTAMPED))
        handler.statuses = False
