"""safe_target: the one decision of where a browser may be sent."""

from __future__ import annotations

import pytest

from rms.auth.redirects import safe_target


@pytest.mark.parametrize(
    "refused",
    [
        None,
        "",
        "evil.example",
        "https://evil.example",
        "//evil.example",
        "/\\evil.example",
        "/%5Cevil.example",
        "/\t/evil.example",
        "/%09/evil.example",
        "/%0d%0aSet-Cookie:x",
        "/\x00",
        "/ /evil",
        "/\u00a0/evil",
        "/\u200b/evil",
        "/x?a=\t",
    ],
)
def test_anything_but_a_clean_same_site_path_goes_home(refused: str | None) -> None:
    assert safe_target(refused) == "/"


@pytest.mark.parametrize(
    ("asked", "target"),
    [
        ("/", "/"),
        ("/metrics", "/metrics"),
        ("/accounts/a1?month=2024-06&q=b%20c", "/accounts/a1?month=2024-06&q=b%20c"),
        ("/a/../b", "/b"),
        ("///x/", "/x/"),  # an empty host is no host: a path
        ("/../../etc", "/etc"),
        ("/caf\u00e9/", "/caf%C3%A9/"),
        ('/x?q="><script>', "/x?q=%22%3E%3Cscript%3E"),
        ("/x#fragment", "/x"),
    ],
)
def test_a_same_site_path_is_normalised_and_re_encoded(asked: str, target: str) -> None:
    assert safe_target(asked) == target
    assert safe_target(target) == target  # idempotent
