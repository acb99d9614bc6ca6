"""The supervisees' app (矫正对象端): a progressive web app at /app/ over the public API.

The service serves the shell, its JavaScript modules, styles, string catalogs, icons, web
manifest and service worker; everything the app knows it asks of ``/api/v1/...`` with the
supervisee's bearer token. Nothing here reads the database: the pages hold no data.
"""
from __future__ import annotations

from flask import Flask


def init_app(app: Flask) -> None:
    """Serve the app at /app/."""
    from .blueprint import bp

    app.register_blueprint(bp)


__all__ = ["init_app"]
