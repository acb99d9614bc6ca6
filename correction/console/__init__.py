"""The officers' console: server-rendered pages over the same services, scope, audit and unit of work as the API.

Jinja templates, htmx for partial updates and Leaflet for maps, all served from this package
(``static/vendor``, see ``vendor.py``); nothing is loaded from outside the service. Pages are in
Chinese (zh-CN) by default and in English by the browser's language or the switch.
"""
from __future__ import annotations

from flask import Flask, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import Babel
from flask_wtf.csrf import CSRFProtect
from werkzeug.datastructures import LanguageAccept

from .web import SESSION_COOKIE

LOCALES = {"zh": "zh_Hans_CN", "en": "en"}  # what a browser or the switch asks for -> Babel's catalog
DEFAULT_LOCALE = "zh_Hans_CN"
LANGUAGE_COOKIE = "console_lang"

csrf = CSRFProtect()
babel = Babel()


def select_locale() -> str:
    """The switch's choice, else the browser's first language we have, else Chinese."""
    chosen = request.cookies.get(LANGUAGE_COOKIE)
    if chosen in LOCALES:
        return LOCALES[chosen]
    accepted = LanguageAccept([(value.split("-")[0].split("_")[0].lower(), quality)
                               for value, quality in request.accept_languages])
    best = accepted.best_match(list(LOCALES))
    return LOCALES[best] if best else DEFAULT_LOCALE


class _SecureOnTls(SecureCookieSessionInterface):
    """Flask's signed cookie session (it holds the CSRF secret), marked Secure when served over TLS.

    The API never reads it (callers send tokens, never cookies): its requests get Flask's null
    session, so a console cookie sent along is not even opened (and ingest, one request a fix, does
    not pay for verifying a signature it would never use).
    """

    def get_cookie_secure(self, app: Flask) -> bool:
        return request.is_secure

    def open_session(self, app: Flask, request):
        if request.path.startswith(_API):
            return self.make_null_session(app)
        return super().open_session(app, request)


_API = "/api/"


def init_app(app: Flask) -> None:
    """Mount the console at the site root, with its CSRF protection and translations."""
    from . import (alert_pages, auth_pages, leave_pages, mall_pages, map_pages,  # noqa: F401 - they register pages
                   ops_pages, report_pages, screen_pages, station_pages, supervisee_pages)
    from .blueprint import bp

    # CSRF is checked on the console's own requests only (bp.before_request): the API and the
    # ingest endpoints authenticate with headers a browser never sends by itself.
    app.config.setdefault("WTF_CSRF_CHECK_DEFAULT", False)
    app.config.setdefault("WTF_CSRF_TIME_LIMIT", None)  # the token lives as long as the session cookie
    # Over https Flask-WTF would also demand a same-origin Referer, which our Referrer-Policy
    # (no-referrer) never lets a browser send; the token and SameSite=Strict cookies carry the check.
    app.config.setdefault("WTF_CSRF_SSL_STRICT", False)
    app.config.update(SESSION_COOKIE_NAME="console_csrf", SESSION_COOKIE_SAMESITE="Strict",
                      SESSION_COOKIE_HTTPONLY=True)
    app.session_interface = _SecureOnTls()
    csrf.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_locale=DEFAULT_LOCALE,
                   default_translation_directories="console/translations")
    app.register_blueprint(bp)


__all__ = ["init_app", "csrf", "babel", "SESSION_COOKIE", "LOCALES"]
