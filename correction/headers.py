"""The security headers every answer carries, set in one place (an ``after_request`` hook).

API answers are data: nothing in them may run, load or be framed. HTML pages (the API docs
and the officers' console) may run and style themselves from files we serve, nothing else.
"""
from __future__ import annotations

from flask import Request, Response

API_CSP = "default-src 'none'; frame-ancestors 'none'"
# Swagger UI styles its elements inline ('unsafe-inline' for styles only); scripts run from 'self' only.
PAGE_CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
            "img-src 'self' data:; font-src 'self' data:; connect-src 'self'; "
            "base-uri 'none'; form-action 'self'; frame-ancestors 'none'")



def console_csp(tile_origin: str | None = None, frame_ancestors: str = "'none'") -> str:
    """The officers' console: scripts and styles from our files only (no inline code, no eval).

    Map tiles may come from the deployment's own tile server (``MAP_TILE_URL``), nothing else does.
    No page may be framed, except the station screen by the signage origins a setting names.
    """
    images = "'self' data:" + (f" {tile_origin}" if tile_origin else "")
    return ("default-src 'none'; script-src 'self'; style-src 'self'; "
            f"img-src {images}; font-src 'self'; connect-src 'self'; "
            f"base-uri 'none'; form-action 'self'; frame-ancestors {frame_ancestors}")


def app_csp() -> str:
    """The supervisees' app (/app/): the console's rules, plus its service worker, its web manifest,
    pictures it fetched itself (blob: URLs of the status code) and the camera's stream."""
    return ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
            "media-src 'self' blob: mediastream:; font-src 'self'; connect-src 'self'; worker-src 'self'; "
            "manifest-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")


_ALWAYS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}


def add_security_headers(response: Response, request: Request, hsts_max_age: int) -> Response:
    """Set the security headers on ``response``; a view's own Content-Security-Policy is kept.

    HSTS is sent only over https (the request's scheme, which behind trusted proxies is
    the one they were asked for): over plain http a browser ignores it anyway.
    """
    for name, value in _ALWAYS.items():
        response.headers[name] = value
    if "Content-Security-Policy" not in response.headers:
        response.headers["Content-Security-Policy"] = PAGE_CSP if response.mimetype == "text/html" else API_CSP
    if "frame-ancestors 'none'" not in response.headers["Content-Security-Policy"]:
        # a page its view lets others frame (the station screen): the CSP names who, X-Frame-Options cannot
        del response.headers["X-Frame-Options"]
    if request.is_secure and hsts_max_age > 0:
        response.headers["Strict-Transport-Security"] = f"max-age={hsts_max_age}"
    return response
