"""The HTTP API (FastAPI)."""

from rms.api.app import create_app

__all__ = ["create_app"]
