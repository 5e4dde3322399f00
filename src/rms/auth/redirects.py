"""The one function that decides where a browser may be sent on this site.

Every redirect target that comes from a request (``next`` of the sign-in, the flow cookie's
target after the issuer's callback, a form's ``Referer``, the waking page's reload) passes
through :func:`safe_target`. It accepts a path on this site only and returns it re-encoded:

- parsed with :func:`urllib.parse.urlsplit`: no scheme, no host (``https://x``, ``//x``);
- refused outright (in the path also when percent-encoded): control characters (a browser drops a
  tab or a newline, so ``/<TAB>/evil.example`` becomes ``//evil.example``), whitespace and
  backslashes (which browsers read as ``/``);
- dot segments resolved (``/a/../b`` is ``/b``), so a target cannot climb out of a path;
- re-encoded with :func:`urllib.parse.quote`, so what a page or a ``Location`` holds is
  plain ASCII whatever was asked for.

Anything refused becomes ``/``. The result may go into a ``Location`` header, a
``<meta http-equiv=refresh>`` or an ``href`` (HTML-escaped there as any text is).
"""

from __future__ import annotations

import posixpath
import unicodedata
from urllib.parse import quote, unquote, urlsplit

__all__ = ["HOME", "safe_target"]

#: Where a refused target goes.
HOME = "/"
_PATH_SAFE = "/-._~!$&'()*+,;=:@%"
_QUERY_SAFE = _PATH_SAFE + "?/"


def _clean(text: str) -> bool:
    """No control or format character, no whitespace, no backslash."""
    return not any(
        c == "\\" or c.isspace() or unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp", "Zs")
        for c in text
    )


def safe_target(value: str | None) -> str:
    """``value`` as a same-site path, normalised and re-encoded; ``/`` if it is not one."""
    if not value or not value.startswith("/") or not _clean(value):
        return HOME
    parts = urlsplit(value)
    decoded = unquote(parts.path)
    if parts.scheme or parts.netloc or not decoded.startswith("/") or not _clean(decoded):
        return HOME
    path = posixpath.normpath(decoded)
    if parts.path.endswith("/") and not path.endswith("/"):
        path += "/"
    if not path.startswith("/") or path.startswith("//"):
        return HOME
    target = quote(path, safe=_PATH_SAFE.replace("%", ""))
    if parts.query:
        target += "?" + quote(parts.query, safe=_QUERY_SAFE)
    return target
