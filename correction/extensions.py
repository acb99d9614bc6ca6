"""Extensions, created unbound here and bound to an app in ``create_app``."""
from __future__ import annotations

import time

from flask import request
from flask_limiter import Limiter
from flask_migrate import Migrate
from limits import parse

from .database import db
from .errors import DomainError

migrate = Migrate()
limiter = Limiter(key_func=lambda: request.remote_addr or "unknown")

__all__ = ["db", "migrate", "limiter", "enforce_rate_limit"]


def enforce_rate_limit(scope: str, limit: str) -> None:
    """Count one hit of this client against ``limit`` for ``scope``; 429 beyond it."""
    item = parse(limit)
    client = request.remote_addr or "unknown"
    if not limiter.limiter.hit(item, scope, client):
        reset_at, _ = limiter.limiter.get_window_stats(item, scope, client)
        retry = max(1, int(reset_at - time.time()) + 1)
        raise DomainError("Too many attempts from this client; wait and try again.", status=429,
                          code="rate_limited", details={"retry_after_seconds": retry},
                          headers={"Retry-After": str(retry)})
