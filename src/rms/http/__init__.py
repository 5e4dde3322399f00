"""What the HTTP API (:mod:`rms.api`) and the owner's pages (:mod:`rms.web`) share, below both.

The middleware every request passes through (:mod:`~rms.http.middleware`: security headers
and the content-security policy, the Host check, the body limit, the sign-in gate; the
request deadline, :mod:`~rms.http.deadline`; the page views' wake-ahead,
:mod:`~rms.http.wake`; the latency metrics, :mod:`~rms.http.metrics`), the problem documents
every error becomes (:mod:`~rms.http.problems`), the reference cache
(:mod:`~rms.http.cache`), the resources' request and response models and their value types
(:mod:`~rms.http.models`, :mod:`~rms.http.values`), the session cookie
(:mod:`~rms.http.cookies`) and the HTTP server's limits (:mod:`~rms.http.serving`).

:func:`rms.app.create_app` builds the application from these and mounts the API and the pages
side by side; neither imports the other.
"""
