"""Junk in every form and every link's query: a page answers, refuses or redirects, never 500.

The pages are found as an owner finds them, by following the links from the dashboard; each
kind of form (per action, ids aside) is posted a few times with values no form would send,
and each page is asked for with junk in the query parameters the pages read. The values
are fixed, so a failure names a request that fails again.
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlencode

from tests.web.conftest import Pages

#: What a careless hand or a tampered form sends: empty, signs, exponents, non-ASCII digits
#: ("²" passes str.isdigit, not int), a number past any integer column, impossible dates,
#: markup, SQL, a NUL, something very long.
JUNK = (
    "",
    " ",
    "0",
    "-1",
    "1e309",
    "NaN",
    "-0",
    "\u00b2",
    "\u0663",
    "1,000.5",
    "99999999999999999999999",
    "2026-02-30",
    "0000-01-01",
    "9999-12-31",
    "2026-13",
    "<script>x</script>",
    "'; drop table accounts; --",
    "\x00",
    "x" * 199,
    "demo-account-1",
)
#: The query parameters the pages read (see rms.web.pages and rms.web.accounts).
PARAMS = ("month", "account_id", "page", "dpage", "xpage", "sort", "dir", "status", "year", "back")
#: Never posted: they sign out or remove the demo portfolio the other forms work on.
NOT_POSTED = ("/auth/", "/demo/remove")
NOT_FOLLOWED = ("/auth", "/docs", "/redoc", "/static", "/api", "/openapi", "/metrics", "/health")
POSTS_PER_FORM = 6
FORMS_PER_KIND = 2
PAGES = 40

_FORM = re.compile(r'<form[^>]*method="post"[^>]*action="([^"]*)"[^>]*>(.*?)</form>', re.S)
_FIELD = re.compile(r'<(?:input|select|textarea)[^>]*name="([^"]+)"')
_CSRF = re.compile(r'name="csrf" value="([^"]*)"')
_ID = re.compile(r"/(?:demo-[\w-]+|[0-9a-f-]{20,}|c[a-z0-9]{20,})")


def _crawl(pages: Pages) -> tuple[list[str], dict[str, list[tuple[str, list[str], str]]]]:
    """The pages reachable from the dashboard, and their forms by kind (action, ids aside)."""
    seen: list[str] = []
    queue = ["/"]
    forms: dict[str, list[tuple[str, list[str], str]]] = {}
    while queue and len(seen) < PAGES:
        url = queue.pop(0)
        if url in seen:
            continue
        seen.append(url)
        answer = pages.get(url)
        assert answer.status_code < 500, (url, answer.status_code)
        for href in re.findall(r'href="(/[^"#]*)"', answer.text):
            href = html.unescape(href)
            if not href.startswith(NOT_FOLLOWED) and href not in seen:
                queue.append(href)
        for action, body in _FORM.findall(answer.text):
            action = html.unescape(action)
            csrf = _CSRF.search(body)
            if action.startswith(NOT_POSTED) or csrf is None:
                continue
            kind = forms.setdefault(_ID.sub("/{id}", action), [])
            if len(kind) < FORMS_PER_KIND:
                kind.append((action, sorted(set(_FIELD.findall(body)) - {"csrf"}), csrf.group(1)))
    return seen, forms


def test_junk_in_forms_and_queries_is_never_a_500(pages: Pages) -> None:
    seen, forms = _crawl(pages)
    assert len(seen) >= 10 and len(forms) >= 8, (seen, sorted(forms))
    failures: list[tuple[str, str, dict[str, str]]] = []
    for kind in forms.values():
        for action, fields, csrf in kind:
            for attempt in range(POSTS_PER_FORM):
                values = {
                    name: JUNK[(attempt * 7 + i * 3) % len(JUNK)] for i, name in enumerate(fields)
                }
                answer = pages.post(action, {**values, "csrf": csrf})
                if answer.status_code >= 500:
                    failures.append(("POST", action, values))
    for attempt, url in enumerate(seen):
        query = {name: JUNK[(attempt * 5 + i * 7) % len(JUNK)] for i, name in enumerate(PARAMS)}
        target = f"{url.split('?')[0]}?{urlencode(query)}"
        if pages.get(target).status_code >= 500:
            failures.append(("GET", target, query))
    assert failures == [], failures[:5]
