"""The weekly report on screen, with its charts, and its files (PDF, XLSX, CSV) for the cookie session.

The same scope, builder, generators, rate limits and audit action (``report.read``) as
``GET /api/v1/reports/weekly``; only the edge differs.
"""
from __future__ import annotations

from typing import Literal

from flask import current_app, render_template, url_for

from ..database import db
from ..people.access import current_principal
from ..reports.api import REPORT_LIMITS, ReportQuery, respond, scoped_report
from . import charts, queries
from .blueprint import bp
from .forms import query_of

FILE_FORMATS = ("pdf", "xlsx", "csv")


class ReportFileQuery(ReportQuery):
    format: Literal["pdf", "xlsx", "csv"]


@bp.page("GET", "/reports", audit="report.read", rate_limit=REPORT_LIMITS)
def reports():
    """One week's report of the officer's office (a supervisor's choice of office, or the bureau)."""
    query = query_of(ReportQuery)
    principal = current_principal()
    report = scoped_report(principal, current_app.config["SETTINGS"], office_id=query.office_id, week=query.week,
                           fmt="html")
    chosen = {"week": report["week"], **({"office_id": query.office_id} if query.office_id else {})}
    files = {fmt: url_for("console.report_file", **chosen, format=fmt) for fmt in FILE_FORMATS}
    return render_template("reports.html", report=report, query=query, files=files,
                           offices=queries.office_choices(db.session, principal),
                           daily=charts.daily_bars(report["daily"]), trend=charts.trend_line(report["trend"]))


@bp.page("GET", "/reports/file", audit="report.read", rate_limit=REPORT_LIMITS)
def report_file():
    """The report as a file to download: PDF, XLSX or CSV."""
    query = query_of(ReportFileQuery)
    settings = current_app.config["SETTINGS"]
    report = scoped_report(current_principal(), settings, office_id=query.office_id, week=query.week,
                           fmt=query.format)
    return respond(report, query.format, settings)
