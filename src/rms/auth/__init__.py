"""Sign-in: the local token, OIDC (Cognito), sessions, and the one check of every request.

``from rms.auth import Principal, require_user`` is what a route or page needs; the app
factory builds the :class:`Authenticator` and the middleware (:mod:`rms.http.middleware`)
asks it about every request.
"""

from rms.auth.guard import OPEN_PATHS, Authenticator, check_bind, require_user
from rms.auth.sessions import SESSION_COOKIE, Principal

__all__ = [
    "OPEN_PATHS",
    "SESSION_COOKIE",
    "Authenticator",
    "Principal",
    "check_bind",
    "require_user",
]
