"""How database URLs are shown to people."""

from __future__ import annotations

import pytest

from rms.settings.urls import display_url


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("postgresql+psycopg://u:Secret-1@db:5432/rms", "postgresql://u:***@db:5432/rms"),
        ("postgresql://u@127.0.0.1:1/x", "postgresql://u@127.0.0.1:1/x"),
        ("sqlite:////var/lib/rms/rms.db", "sqlite:////var/lib/rms/rms.db"),
        ("not a url", "<invalid URL>"),
    ],
)
def test_display_url_hides_the_password_and_the_driver(url: str, shown: str) -> None:
    assert display_url(url) == shown
