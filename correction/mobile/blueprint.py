"""The app's files: the shell, the service worker (scope /app/) and the web manifest; assets under /app/static."""
from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

from flask import Blueprint, current_app, redirect, render_template, request, url_for

from ..headers import app_csp

bp = Blueprint("mobile", __name__, template_folder="templates", static_folder="static",
               static_url_path="/app/static")
STATIC = Path(__file__).resolve().parent / "static"


@lru_cache(maxsize=1)
def shell_files() -> tuple[tuple[str, ...], str]:
    """The static files the service worker keeps for offline use, and a version that changes with them."""
    files = sorted(str(p.relative_to(STATIC)) for p in STATIC.rglob("*")
                   if p.is_file() and p.suffix in {".js", ".css", ".json", ".png"} and p.name != "manifest.json")
    digest = hashlib.sha256()
    for name in files:
        digest.update(name.encode() + (STATIC / name).read_bytes())
    return tuple(files), digest.hexdigest()[:16]


@bp.after_request
def _app_headers(response):
    response.headers["Content-Security-Policy"] = app_csp()
    if request.endpoint != "mobile.static":
        # the shell, the worker and the manifest are checked on every load (the worker serves them offline)
        response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/app", strict_slashes=True)
def to_shell():
    """/app without its slash: the shell lives at /app/, inside the service worker's scope."""
    return redirect(url_for("mobile.shell"), 308)


@bp.get("/app/", strict_slashes=True)
def shell():
    """The app's one page; its screens are drawn by static/app/main.js."""
    settings = current_app.config["SETTINGS"]
    # refresh the status code a minute before its token expires (a fifth of its life when that is short)
    ttl = settings.STATUS_CODE_TTL_SECONDS
    return render_template("mobile/shell.html", code_refresh_seconds=max(1, ttl - 60, ttl * 4 // 5),
                           version=shell_files()[1])


@bp.get("/app/sw.js")
def service_worker():
    """The service worker, at the app's root so that its scope is /app/."""
    files, version = shell_files()
    body = render_template("mobile/sw.js", version=version, shell=url_for("mobile.shell"),
                           assets=[url_for("mobile.static", filename=name) for name in files])
    response = current_app.response_class(body, mimetype="text/javascript")
    response.headers["Service-Worker-Allowed"] = "/app/"
    return response


@bp.get("/app/manifest.webmanifest")
def web_manifest():
    """The web manifest: installable, standalone, Chinese name first."""
    icon = lambda name, size, purpose="any": {  # noqa: E731
        "src": url_for("mobile.static", filename=f"icons/{name}"), "sizes": f"{size}x{size}",
        "type": "image/png", "purpose": purpose}
    manifest = {
        "name": "社区矫正", "short_name": "矫正", "description": "社区矫正对象签到与服务 Community correction check-in",
        "lang": "zh-CN", "id": url_for("mobile.shell"), "start_url": url_for("mobile.shell"),
        "scope": url_for("mobile.shell"), "display": "standalone", "orientation": "portrait",
        "background_color": "#ffffff", "theme_color": "#155ea0",
        "icons": [icon("icon-192.png", 192), icon("icon-512.png", 512), icon("maskable-512.png", 512, "maskable")],
    }
    response = current_app.json.response(manifest)
    response.mimetype = "application/manifest+json"
    return response
