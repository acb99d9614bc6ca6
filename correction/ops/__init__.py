"""Operations: Prometheus metrics, the request log, JSON logs (see docs/operations.md).

Above the features and the jobs (it reads alerts and the schedule at scrape time), below
``correction.app``, which calls :func:`init_app`.
"""
from __future__ import annotations

from flask import Flask

from .logs import configure_logging


def init_app(app: Flask) -> None:
    """Count and log every request, and serve /metrics to operators."""
    # Imported here, not above: gunicorn's master loads .logs and must not load prometheus_client.
    from .metrics import bp, install_request_hooks

    install_request_hooks(app)
    app.register_blueprint(bp)


__all__ = ["configure_logging", "init_app"]
