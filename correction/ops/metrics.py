"""GET /metrics for Prometheus, and the per-request count, latency and log line.

Only operators scrape: the request must carry ``Authorization: Bearer <METRICS_TOKEN>``;
without the setting, or with another token, /metrics answers 404 like any missing path (and
nginx does not pass it on: docs/operations.md). Under gunicorn each worker counts into its own
file in ``PROMETHEUS_MULTIPROC_DIR`` (gunicorn.conf.py empties it at start and marks dead
workers) and a scrape adds them up; elsewhere the process's own registry answers.

What the database knows is read at scrape time, by :class:`DatabaseCollector`, with a few
small queries: open alerts by severity, each sweep's lag behind its watermark, each job's last
run, the scheduler's heartbeat. The scheduler process exports nothing itself.
"""
from __future__ import annotations

import hmac
import logging
import os
import time
from datetime import datetime

import sqlalchemy as sa
from flask import Blueprint, Flask, Response, current_app, g, request
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector

from jobs.schedule import schedule

from ..alerts.models import SEVERITIES, Alert
from ..database import db
from ..errors import NotFound
from ..metrics import HTTP_LATENCY, HTTP_REQUESTS
from ..scheduler_state import JobRun, Watermark, last_beat
from ..time import now

bp = Blueprint("ops", __name__)
request_log = logging.getLogger("correction.request")
UNMATCHED = "(unmatched)"  # the endpoint label of a path no rule matched: never the raw path


@bp.get("/metrics")
def metrics() -> Response:
    if not _is_operator(current_app.config["SETTINGS"].METRICS_TOKEN):
        raise NotFound()
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())
    registry.register(DatabaseCollector(current_app.config["SETTINGS"], now()))
    return Response(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


def _is_operator(token: str) -> bool:
    """Return whether the request carries the metrics token (never, when none is set)."""
    scheme, _, sent = request.headers.get("Authorization", "").partition(" ")
    return bool(token) and scheme.lower() == "bearer" and hmac.compare_digest(sent.strip().encode(), token.encode())


class _ThisProcess:
    """The default registry's metrics (one process: no multiprocess files to add up)."""

    def collect(self):
        return REGISTRY.collect()


class DatabaseCollector:
    """Gauges computed from the database when Prometheus scrapes."""

    def __init__(self, settings, at: datetime):
        self.settings, self.at = settings, at

    def collect(self):
        up = GaugeMetricFamily("correction_metrics_database_up",
                               "Whether the database answered this scrape's queries (1) or not (0).")
        try:
            families = list(self._from_database(db.session))
        except sa.exc.SQLAlchemyError:
            db.session.rollback()
            logging.getLogger(__name__).warning("metrics: the database did not answer")
            families = []
        up.add_metric([], 1 if families else 0)
        yield up
        yield from families

    def _from_database(self, session):
        alerts = GaugeMetricFamily("correction_alerts_unresolved", "Alerts not yet resolved, by severity and status.",
                                   labels=["severity", "status"])
        counts = {(severity, status): n for severity, status, n in session.execute(
            sa.select(Alert.severity, Alert.status, sa.func.count())
            .where(Alert.status != "resolved").group_by(Alert.severity, Alert.status))}
        for severity in SEVERITIES:
            for status in ("open", "acknowledged"):
                alerts.add_metric([severity, status], counts.get((severity, status), 0))

        lag = GaugeMetricFamily("correction_sweep_lag_seconds",
                                "How far each catching-up sweep's watermark is behind now.", labels=["job"])
        for job_id, reached in session.execute(sa.select(Watermark.job_id, Watermark.reached)):
            lag.add_metric([job_id], self._age(reached))

        age = GaugeMetricFamily("correction_job_last_run_age_seconds", "Time since each job's last run started.",
                                labels=["job"])
        ok = GaugeMetricFamily("correction_job_last_run_ok", "Whether each job's last run succeeded (1) or not (0).",
                               labels=["job"])
        for job_id, (started_at, succeeded) in self._last_runs(session).items():
            age.add_metric([job_id], self._age(started_at))
            ok.add_metric([job_id], 1 if succeeded else 0)

        heartbeat = GaugeMetricFamily("correction_scheduler_heartbeat_age_seconds",
                                      "Time since the scheduler leader's last heartbeat (absent: never led).")
        beat = last_beat(session)
        if beat is not None:
            heartbeat.add_metric([], self._age(beat.beat_at))
        return [alerts, lag, age, ok, heartbeat]

    def _last_runs(self, session) -> dict[str, tuple[datetime, bool]]:
        """Each scheduled job's latest run: one index probe per job (job_runs only grows)."""
        latest = [sa.select(JobRun.job_id, JobRun.started_at, JobRun.ok).where(JobRun.job_id == spec.id)
                  .order_by(JobRun.id.desc()).limit(1).subquery().select()
                  for spec in schedule(self.settings)]
        rows = session.execute(sa.union_all(*latest)).all() if latest else []
        return {job_id: (started_at, succeeded) for job_id, started_at, succeeded in rows}

    def _age(self, then: datetime) -> float:
        return max((self.at - then).total_seconds(), 0.0)


def install_request_hooks(app: Flask) -> None:
    """Time, count and log every request by its URL rule and status."""

    @app.before_request
    def _start_timer() -> None:
        g.request_started = time.perf_counter()

    @app.after_request
    def _count_and_log(response: Response) -> Response:
        started = g.pop("request_started", None)
        if started is None:
            return response
        elapsed = time.perf_counter() - started
        endpoint = request.url_rule.rule if request.url_rule is not None else UNMATCHED
        HTTP_REQUESTS.labels(endpoint, request.method, str(response.status_code)).inc()
        HTTP_LATENCY.labels(endpoint, request.method).observe(elapsed)
        if request_log.isEnabledFor(logging.INFO):
            request_log.info("%s %s %s", request.method, request.full_path.rstrip("?"), response.status_code,
                             extra={"endpoint": endpoint, "method": request.method,
                                    "status": response.status_code, "duration_ms": round(elapsed * 1000, 1)})
        return response
