"""The application factory: the one place that wires the layers together."""
from __future__ import annotations

import re
import uuid

from flask import Flask, g, request
from werkzeug.middleware.proxy_fix import ProxyFix

from . import console, events, mobile, ops, ratelimit
from .api import HOOKS, IdConverter, RequestHooks
from .audit.service import record_draft
from .auth.guard import authenticate
from .config import Settings
from .database import configure_engine
from .errors import register_error_handlers
from .extensions import db, migrate
from .headers import add_security_headers
from .monitoring.handlers import subscriptions
from .security import password_hasher
from .time import Clock, utcnow

API_PREFIX = "/api/v1"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._\-]{1,64}$")


def create_app(settings: Settings | None = None, *, clock: Clock | None = None) -> Flask:
    """Build the application for ``settings`` (the environment's when not given)."""
    settings = settings or Settings.from_env()
    settings.check_secret_key()
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(settings.flask_config())
    app.config["SETTINGS"] = settings
    app.json.sort_keys = False
    app.url_map.converters["id"] = IdConverter
    app.url_map.strict_slashes = False

    ops.configure_logging(settings)
    app.extensions["correction.clock"] = clock or utcnow
    app.extensions["correction.hasher"] = password_hasher(settings)
    app.extensions[HOOKS] = RequestHooks(authenticate=authenticate, record_audit=record_draft)
    app.extensions[events.EXTENSION] = subscriptions()

    if settings.DATABASE_URL.startswith("sqlite:///"):
        from pathlib import Path
        Path(settings.DATABASE_URL[len("sqlite:///"):]).parent.mkdir(parents=True, exist_ok=True)
    db.init_app(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    ratelimit.init_app(app, settings)
    with app.app_context():
        configure_engine(db.engine)

    if settings.TRUSTED_PROXIES:
        # Behind a proxy every request comes from the proxy: rate limits and the audit trail need
        # the client's address, which only the trusted hops may tell (a client's own header is not).
        n = settings.TRUSTED_PROXIES
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=n, x_proto=n, x_host=n, x_port=n, x_prefix=n)

    _register_blueprints(app)
    console.init_app(app)
    mobile.init_app(app)
    ops.init_app(app)
    register_error_handlers(app)
    _register_request_hooks(app)
    _register_cli(app)

    from .openapi import build_openapi
    app.extensions["correction.openapi"] = build_openapi(app, API_PREFIX)
    return app


def _register_blueprints(app: Flask) -> None:
    from jobs.api import bp as jobs_bp

    from .admin.api import bp as admin_bp
    from .alerts.api import bp as alerts_bp
    from .audit.api import bp as audit_bp
    from .auth.api import bp as auth_bp
    from .checkins.api import bp as checkins_bp
    from .checkins.periods_api import bp as periods_bp
    from .health import bp as health_bp
    from .imports.api import bp as imports_bp
    from .leave.api import bp as leave_bp
    from .locations.api import bp as locations_bp
    from .mall.api import bp as mall_bp
    from .monitoring.api import bp as monitoring_bp
    from .notifications.api import bp as notifications_bp
    from .delivery.api import bp as delivery_bp
    from .reports.api import bp as reports_bp
    from .openapi import docs_bp
    from .people.api import bp as people_bp
    from .timeline.api import bp as timeline_bp

    for bp in (health_bp, docs_bp, auth_bp, people_bp, audit_bp, notifications_bp, checkins_bp,
               timeline_bp, locations_bp, leave_bp, alerts_bp, monitoring_bp, jobs_bp, mall_bp,
               reports_bp, admin_bp, periods_bp, imports_bp, delivery_bp):
        app.register_blueprint(bp, url_prefix=API_PREFIX)
    # The probes also answer at the root, where orchestrators and load balancers look for them.
    from .health import PROBES
    for probe in PROBES:
        app.add_url_rule(f"/{probe}", endpoint=probe, view_func=app.view_functions[f"health.{probe}"])


def _register_request_hooks(app: Flask) -> None:
    @app.before_request
    def _assign_request_id() -> None:
        incoming = request.headers.get("X-Request-ID", "")
        g.request_id = incoming if _REQUEST_ID.match(incoming) else uuid.uuid4().hex

    @app.after_request
    def _echo_request_id(response):
        response.headers["X-Request-ID"] = g.get("request_id", "")
        response.headers.setdefault("Cache-Control", "no-store")
        return add_security_headers(response, request, app.config["SETTINGS"].HSTS_MAX_AGE_SECONDS)


def _register_cli(app: Flask) -> None:
    """The commands a deployment runs. Tools (demo seed, simulation) are added by ``wsgi.py``."""
    from jobs.cli import jobs_cli

    from .admin.cli import admin_cli
    from .imports.cli import people_cli
    from .reports.cli import report_cli

    app.cli.add_command(admin_cli)
    app.cli.add_command(report_cli)
    app.cli.add_command(people_cli)
    app.cli.add_command(jobs_cli)


def _migrations_dir():
    from pathlib import Path
    return Path(__file__).resolve().parent.parent / "migrations"


__all__ = ["create_app", "API_PREFIX"]
