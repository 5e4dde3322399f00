"""The HTTP API: the JSON routers under ``/api``, the health probes, the sign-in routes and
the API's own models (:mod:`rms.api.schemas`).

What it shares with the owner's pages (middleware, problem documents, the resources' models,
the reference cache, the session cookie) is :mod:`rms.http`; the application that serves
both is built by :func:`rms.app.create_app`.
"""
