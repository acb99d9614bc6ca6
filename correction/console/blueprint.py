"""The console's blueprint: pages at the site root, assets under /console/static, its own CSP and CSRF."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import current_app, request
from flask_babel import get_locale

from ..headers import console_csp
from ..time import iso_z, local_zone
from .labels import label
from .web import ConsoleBlueprint, register_error_pages

bp = ConsoleBlueprint("console", __name__, template_folder="templates", static_folder="static",
                      static_url_path="/console/static")
register_error_pages(bp)


# The station screen's pairing carries its own secret (a forged pairing could only make a browser show
# a station's code) and must work in a signage system's frame, where the CSRF cookie is not sent.
_NO_CSRF = frozenset({"console.pair_screen"})
# Pages a signage system may frame (STATION_SCREEN_FRAME_ANCESTORS); every other page none.
_FRAMEABLE = frozenset({"console.station_screen"})


@bp.before_request
def _check_csrf() -> None:
    """Every form post and htmx request of the console carries its CSRF token (Flask-WTF)."""
    from . import csrf

    if request.endpoint not in _NO_CSRF:
        csrf.protect()  # GET, HEAD and OPTIONS pass; anything else without a valid token is a CSRFError


@bp.after_request
def _console_headers(response):
    settings = current_app.config["SETTINGS"]
    tiles = settings.MAP_TILE_URL
    origin = None
    if tiles:
        parts = urlsplit(tiles.replace("{s}", "a"))
        origin = f"{parts.scheme}://{parts.netloc}"
    frame = " ".join(settings.STATION_SCREEN_FRAME_ANCESTORS.split()) if request.endpoint in _FRAMEABLE else "'none'"
    response.headers["Content-Security-Policy"] = console_csp(origin, frame)
    if request.endpoint not in ("console.static", "console.favicon"):
        response.headers["Cache-Control"] = "no-store"
    return response


bp.add_app_template_global(label, "label")


@bp.app_template_filter("iso")
def _iso(value) -> str:
    return iso_z(value) if value else ""


@bp.app_template_filter("local")
def _local(value) -> str:
    """A moment as the office's wall clock shows it."""
    return value.astimezone(local_zone()).strftime("%Y-%m-%d %H:%M") if value else ""


@bp.app_template_filter("pct")
def _pct(value) -> str:
    """A rate (0–1) as a percentage; a dash when there was nothing to count."""
    return "–" if value is None else f"{value * 100:.1f}%"


@bp.app_template_filter("minutes")
def _minutes(seconds) -> str:
    return "–" if seconds is None else f"{seconds / 60:.0f}"


@bp.app_template_global("html_lang")
def _html_lang() -> str:
    """The page's language, as the ``lang`` attribute names it."""
    return "zh-CN" if get_locale().language == "zh" else "en"
