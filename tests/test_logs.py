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


class _Terminal(io.StringIO):
    """What a terminal on stderr answers to ``isatty``; the text it was sent is kept."""

    def isatty(self) -> bool:
        return True


def _wait_twice_then_connect() -> None:
    """The real connector through two refusals of a remote host, then a connection."""
    import psycopg

    from rms.db.connect import ColdStartConnector, RetryPolicy
    from rms.db.observe import DbObserver

    failures = [
        psycopg.OperationalError('connection to server at "10.0.0.7" failed: Connection refused')
        for _ in range(2)
    ]

    def connect(**_params: object) -> str:
        if failures:
            raise failures.pop()
        return "connection"

    policy = RetryPolicy(budget_seconds=45, sleep=lambda _s: None, rand=lambda: 0.5)
    ColdStartConnector(policy, DbObserver(), connect=connect).connect(
        {"host": "db.example", "port": 5432, "dbname": "rms"}
    )


def test_a_wait_is_one_updating_line_on_a_terminal_and_lines_in_a_pipe() -> None:
    pipe, terminal = io.StringIO(), _Terminal()
    for stream in (pipe, terminal):
        with redirect_stderr(stream), stderr_logging():
            _wait_twice_then_connect()
    # A pipe (or a log): one line per failed attempt, then the connect.
    lines = pipe.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in pipe.getvalue()
    assert lines[0].startswith("waiting for the database at db.example:5432/rms: attempt 1 ")
    assert lines[1].startswith("waiting for the database at db.example:5432/rms: attempt 2 ")
    assert lines[2].startswith("connected to the database at db.example:5432/rms after ")
    # A terminal: the status is rewritten in place (attempt, elapsed, budget), and the
    # connect line takes its place: one line stays on the screen.
    shown = terminal.getvalue()
    erase = "\r\x1b[K"
    status_1, status_2, final = shown.split(erase)[1:]
    assert status_1.startswith("waiting for the database at db.example:5432/rms: attempt 1, ")
    assert " s of 45 s (Connection refused)" in status_1 and "\n" not in status_1
    assert status_2.startswith("waiting for the database at db.example:5432/rms: attempt 2, ")
    assert "\n" not in status_2
    assert final == lines[2] + "\n" and shown.count("\n") == 1


def test_the_error_line_takes_the_place_of_a_status_line() -> None:
    """A wait that ends in an error: the status line is erased, the error line stays."""
    from rms.cli import _fail
    from rms.logs import STATUS

    terminal = _Terminal()
    with redirect_stderr(terminal), stderr_logging():
        logging.getLogger("rms.db.connect").info("line", extra={STATUS: "attempt 3, 1.2 s"})
        _fail("the database did not accept a connection", 2)
    assert terminal.getvalue() == (
        "\r\x1b[Kattempt 3, 1.2 s\r\x1b[Kerror: the database did not accept a connection\n"
    )


def test_a_service_log_gets_lines_even_on_a_terminal() -> None:
    terminal = _Terminal()
    with redirect_stderr(terminal), stderr_logging():
        configure_logging("INFO", timestamps=True)
        _wait_twice_then_connect()
    lines = terminal.getvalue().splitlines()
    assert len(lines) == 3 and "\r" not in terminal.getvalue()
    assert " INFO rms.db.connect: waiting for the database at db.example:5432/rms: " in lines[0]
