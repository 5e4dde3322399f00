"""The HTTP API (FastAPI routers, middleware, problem documents, request and response models).

The application that serves it, beside the owner's pages, is built by :func:`rms.app.create_app`.
"""
