"""Operations: Prometheus metrics, the request log, JSON logs (see docs/operations.md).

Above the features and the jobs (it reads alerts and the schedule at scrape time), below
``correction.app``, which calls :func:`init_app`.
"""
from __future__ import annotations

from flask import Flask

from .logs import configure_logging
from .metrics import bp as metrics_bp
from .metrics import install_request_hooks


def init_app(app: Flask) -> None:
    """Count and log every request, and serve /metrics to operators."""
    install_request_hooks(app)
    app.register_blueprint(metrics_bp)


__all__ = ["configure_logging", "init_app"]
