"""Log lines of a command: on stderr, readable, secrets masked, and gone afterwards."""

from __future__ import annotations

import io
import logging
from contextlib import redirect_stderr

from rms.logs import configure_logging, stderr_logging
from rms.secrets import default_secret_registry


def test_lines_go_to_stderr_only_while_the_command_runs() -> None:
    log = logging.getLogger("rms.test.logs")
    default_secret_registry().add("Log-Secret-5")
    err = io.StringIO()
    with redirect_stderr(err), stderr_logging():
        log.info("waiting for %s", "db")
        log.debug("not shown at INFO")
        log.warning("password is Log-Secret-5")
        configure_logging("DEBUG")
        log.debug("shown at DEBUG")
    log.warning("after the command")
    assert err.getvalue().splitlines() == [
        "waiting for db",
        "warning: password is ********",
        "shown at DEBUG",
    ]
    assert logging.getLogger("rms").handlers == []


def test_services_get_timestamped_lines() -> None:
    err = io.StringIO()
    with redirect_stderr(err), stderr_logging():
        configure_logging("INFO", timestamps=True)
        logging.getLogger("rms.db.connect").info("connected")
    (line,) = err.getvalue().splitlines()
    assert line.endswith(" INFO rms.db.connect: connected")
    assert line[:4].isdigit()
