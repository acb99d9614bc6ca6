"""Rate limits: declared on an operation, counted per client address and per caller, in one store.

An operation names its limits (``ApiBlueprint.operation(..., rate_limit=RateLimit(...))``); the
unit of work counts the client's address before it authenticates anyone and the caller (the
logged-in person, or the ingest key a phone app sends) once it knows who that is. The counts live
in the store ``RATELIMIT_STORAGE_URI`` names: ``memory://`` counts inside one process, so a server
with several worker processes needs a shared store (Redis), and ``gunicorn.conf.py`` refuses to
start such a server on memory.
"""
from __future__ import annotations

import hashlib
import logging
import math
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Callable

from flask import Flask, current_app, g, request
from limits import parse
from limits.errors import StorageError
from limits.storage import storage_from_string
from limits.strategies import MovingWindowRateLimiter

from .errors import DomainError

log = logging.getLogger(__name__)
EXTENSION = "correction.rate_limiter"
RUN_REDIS_URL = "redis://127.0.0.1:6379"  # the shared store `make run` uses when a Redis answers there


@dataclass(frozen=True)
class RateLimit:
    """A limit an operation declares: its bucket, and the settings that hold each count.

    Operations that share a ``scope`` share their counts (the two logins). ``caller`` says who
    the caller is when it is not a logged-in principal (an ingest key); ``applies`` restricts the
    limit to some requests (a rendered report file).
    """

    scope: str
    per_caller: str | None = None  # setting: the limit per caller (person or ingest key)
    per_client: str | None = None  # setting: the limit per client address
    caller: Callable[[], str | None] | None = None
    applies: Callable[[], bool] | None = None


class RateLimited(DomainError):
    status, code = 429, "rate_limited"


def init_app(app: Flask, settings) -> None:
    """Give ``app`` its own limiter over the store the settings name."""
    storage = storage_from_string(settings.RATELIMIT_STORAGE_URI, wrap_exceptions=True,
                                  **_storage_options(settings))
    app.extensions[EXTENSION] = MovingWindowRateLimiter(storage)


def _storage_options(settings) -> dict[str, Any]:
    if settings.RATELIMIT_STORAGE_URI.startswith(("redis://", "rediss://", "redis+")):
        return {"key_prefix": settings.RATELIMIT_KEY_PREFIX, "socket_timeout": 1.0,
                "socket_connect_timeout": 1.0}
    return {}


def check_clients(limits: tuple[RateLimit, ...]) -> None:
    """Count this request against each limit's per-client count; 429 past one."""
    if not _enabled():
        return
    for limit in limits:
        if limit.per_client and _applies(limit):
            _hit(limit.scope, limit.per_client, "client", request.remote_addr or "unknown",
                 "Too many requests from this address; wait and try again.")


def check_callers(limits: tuple[RateLimit, ...]) -> None:
    """Count this request against each limit's per-caller count; 429 past one."""
    if not _enabled():
        return
    for limit in limits:
        if not limit.per_caller or not _applies(limit):
            continue
        caller = _caller(limit)
        if caller is not None:
            _hit(limit.scope, limit.per_caller, "caller", caller,
                 "Too many requests from this caller; wait and try again.")


def _enabled() -> bool:
    return current_app.config["SETTINGS"].RATELIMIT_ENABLED  # off: not even the caller's key is worked out


def _applies(limit: RateLimit) -> bool:
    return limit.applies is None or limit.applies()


def _caller(limit: RateLimit) -> str | None:
    if limit.caller is not None:
        secret = limit.caller()
        # an ingest key is a password: only a digest of it may name a counter in a shared store
        return None if not secret else "key:" + hashlib.sha256(secret.encode()).hexdigest()[:32]
    principal = g.get("principal")
    return None if principal is None else f"{principal.kind}:{principal.id}"


def _hit(scope: str, setting: str, kind: str, who: str, message: str) -> None:
    settings = current_app.config["SETTINGS"]
    item = parse(getattr(settings, setting))
    limiter: MovingWindowRateLimiter = current_app.extensions[EXTENSION]
    try:
        if limiter.hit(item, scope, kind, who):
            return
        reset_at = limiter.get_window_stats(item, scope, kind, who).reset_time
    except StorageError:
        # The store is down: serve without limits rather than refuse every phone's reports (a lost
        # fix is a supervisee out of sight); the log says so, and the health of Redis is watched.
        log.exception("rate-limit store unavailable; %s %s not counted", scope, kind)
        return
    retry = max(1, math.ceil(reset_at - time.time()))
    raise RateLimited(message, details={"retry_after_seconds": retry, "limit": kind},
                      headers={"Retry-After": str(retry)})


def store_for_run(environ: Mapping[str, str], redis_url: str = RUN_REDIS_URL) -> str:
    """Return the store `make run` uses: the configured one, else Redis if it answers, else memory."""
    configured = environ.get("CORRECTION_RATELIMIT_STORAGE_URI")
    if configured:
        return configured
    try:
        storage = storage_from_string(redis_url, wrap_exceptions=True, socket_timeout=1.0,
                                      socket_connect_timeout=1.0)
        if storage.check():
            return redis_url
    except Exception:  # no redis client, no server: the single-worker fallback
        pass
    return "memory://"


def refuse_shared_workers_on_memory(workers: int, storage_uri: str) -> None:
    """Refuse to serve with several worker processes on a per-process store (limits would multiply)."""
    if workers > 1 and storage_uri.startswith("memory://"):
        raise SystemExit(
            f"refusing to start {workers} workers with CORRECTION_RATELIMIT_STORAGE_URI={storage_uri}: "
            "each worker would count on its own, so every rate limit would be "
            f"{workers} times the configured one. Set a shared store "
            f"(CORRECTION_RATELIMIT_STORAGE_URI={RUN_REDIS_URL}) or run one worker.")


if __name__ == "__main__":  # `python -m correction.ratelimit`: the store for `make run`
    import os
    print(store_for_run(os.environ, *(sys.argv[1:2] or [RUN_REDIS_URL])))
