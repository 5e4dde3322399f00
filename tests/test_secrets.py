"""Redaction: known secrets and secret-shaped text never reach a log or a message."""

from __future__ import annotations

import logging

import pytest

from rms.secrets import MASK, RedactingFilter, SecretRegistry, guard_library_logs, redact


def test_redact() -> None:
    assert redact("postgresql://u:hunter2x@h/d") == f"postgresql://u:{MASK}@h/d"
    assert redact("host=h password=hunter2x user=u") == f"host=h password={MASK} user=u"
    token = "h:5432/?Action=connect&DBUser=u&X-Amz-Signature=abc123&X-Amz-Date=1"
    assert "abc123" not in redact(token)
    assert redact('{"pw": "a\\"quoted"}', ['a"quoted']) == '{"pw": "' + MASK + '"}'
    assert redact("nothing here", ["x"]) == "nothing here"  # too short to mask safely


def test_redacting_filter_masks_messages_and_tracebacks(caplog: pytest.LogCaptureFixture) -> None:
    logger = logging.getLogger("rms.test.redaction")
    handler_filter = RedactingFilter(lambda: ["TopSecret-42"])
    caplog.handler.addFilter(handler_filter)
    try:
        try:
            raise RuntimeError("boom TopSecret-42")
        except RuntimeError:
            logger.exception("failed with %s", "TopSecret-42")
    finally:
        caplog.handler.removeFilter(handler_filter)
    assert "TopSecret-42" not in caplog.text
    assert MASK in caplog.text


def test_registry_keeps_the_newest_values() -> None:
    registry = SecretRegistry(max_values=2)
    for value in ("first-Secret", "second-Secret", "third-Secret", None, ""):
        registry.add(value)
    assert registry.values() == ["second-Secret", "third-Secret"]
    assert registry.redact("a third-Secret b") == f"a {MASK} b"


def test_botocore_payload_logs_are_masked_before_we_know_the_value(
    caplog: pytest.LogCaptureFixture,
) -> None:
    guard_library_logs(SecretRegistry())
    guard_library_logs(SecretRegistry())  # idempotent: one filter per logger
    logger = logging.getLogger("botocore.parsers")
    assert len(logger.filters) == 1
    caplog.set_level(logging.DEBUG, logger="botocore.parsers")
    logger.debug('Response body: {"SecretString": "never-Seen-Before-1"}')
    assert "never-Seen-Before-1" not in caplog.text
    assert "secret payload redacted by rms" in caplog.text


def test_credential_shapes_are_masked_without_being_registered() -> None:
    jwt_like = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJvd25lciJ9.c2lnbmF0dXJl"
    assert jwt_like not in redact(f"refused {jwt_like}")
    assert "eyJzdWIiOiJvd25lciJ9" not in redact(f"header {jwt_like[:-5]}")
    for header in ("Bearer abc.def-123", "basic dXNlcjpwYXNz", "Token s3cr3t-value"):
        scheme, value = header.split(" ")
        assert redact(f"Authorization: {header}") == f"Authorization: {scheme} {MASK}"
        assert value not in redact(f"'{header}'")
