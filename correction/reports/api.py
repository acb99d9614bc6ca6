"""GET /reports/weekly: the week's report as JSON, CSV, XLSX or PDF, within the caller's scope."""
from __future__ import annotations

from typing import Literal
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import current_app, g, request
from pydantic import Field

from ..api import ApiBlueprint
from ..people.access import Principal, current_principal
from ..database import db
from ..errors import NotFound, ValidationFailed
from ..people.models import Office
from ..ratelimit import RateLimit
from ..schemas import Query
from ..time import now
from . import pdf, render, service
from .weeks import Week, last_complete_week, parse_week

bp = ApiBlueprint("reports", __name__)
MEDIA = {"json": "application/json", "csv": "text/csv; charset=utf-8",
         "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "pdf": "application/pdf"}


def _rendered_file() -> bool:
    return request.args.get("format") in ("pdf", "xlsx")


REPORT_LIMITS = (
    RateLimit("report", per_caller="REPORT_RATE_LIMIT", per_client="REPORT_CLIENT_RATE_LIMIT"),
    # drawing a PDF or a workbook costs a worker far more than JSON: a tighter limit of its own
    RateLimit("report_file", per_caller="REPORT_FILE_RATE_LIMIT", per_client="REPORT_FILE_CLIENT_RATE_LIMIT",
              applies=_rendered_file),
)


class ReportQuery(Query):
    office_id: int | None = Field(default=None, ge=1, le=2**63 - 1,
                                  description="An office; supervisors may omit it for the whole bureau.")
    week: str | None = Field(default=None, pattern=r"^\d{4}-W\d{2}$", description="ISO week; default the last one.")
    format: Literal["json", "csv", "xlsx", "pdf"] = "json"


@bp.operation("GET", "/reports/weekly", summary="Weekly compliance report (JSON, CSV, XLSX or PDF)",
              query=ReportQuery, auth="officer", audit="report.read", rate_limit=REPORT_LIMITS,
              media_type=", ".join(m.split(";")[0] for m in MEDIA.values()))
def weekly_report(query: ReportQuery):
    settings = current_app.config["SETTINGS"]
    report = scoped_report(current_principal(), settings, office_id=query.office_id, week=query.week,
                           fmt=query.format)
    return respond(report, query.format, settings)


def scoped_report(principal: Principal, settings, *, office_id: int | None, week: str | None, fmt: str) -> dict:
    """The report of ``week`` (default: the last complete one) for an office of the caller's scope, or
    their whole bureau (supervisors); the request's audit entry names what was read."""
    office_id = _office_in_scope(principal, office_id)
    chosen = _week(week, settings)
    g.audit.details = {"week": chosen.label, "office_id": office_id, "format": fmt}
    return report_for(db.session, settings, bureau_id=principal.bureau_id, office_id=office_id, week=chosen)


def report_for(session, settings, *, bureau_id: int, office_id: int | None, week: Week) -> dict:
    """The stored report of an ended week, or one built now (and kept, once the week has ended)."""
    report = service.stored(session, bureau_id=bureau_id, office_id=office_id, week=week.label)
    if report is None:
        at = now()
        report = service.build_report(session, settings, bureau_id=bureau_id, office_id=office_id, week=week, now=at)
        if not report["provisional"]:
            service.store(session, report, bureau_id=bureau_id, office_id=office_id, now=at)
    return report


def respond(report: dict, fmt: str, settings):
    if fmt == "json":
        return current_app.response_class(current_app.json.dumps(report), mimetype=MEDIA["json"])
    body = {"csv": render.to_csv, "xlsx": render.to_xlsx}.get(fmt)
    data = body(report) if body else pdf.to_pdf(report, settings.REPORT_FONT_PATH)
    response = current_app.response_class(data, content_type=MEDIA[fmt])
    scope = f"office-{report['office']['id']}" if report["office"] else f"bureau-{report['bureau']['id']}"
    response.headers["Content-Disposition"] = f'attachment; filename="weekly-{report["week"]}-{scope}.{fmt}"'
    return response


def _office_in_scope(principal: Principal, office_id: int | None) -> int | None:
    if not principal.bureau_wide:
        if office_id not in (None, principal.office_id):
            raise NotFound("No such office.", code="office_not_found")
        return principal.office_id
    if office_id is not None and db.session.execute(sa.select(Office.id).where(
            Office.id == office_id, Office.bureau_id == principal.bureau_id)).scalar_one_or_none() is None:
        raise NotFound("No such office.", code="office_not_found")
    return office_id


def _week(label: str | None, settings) -> Week:
    zone = ZoneInfo(settings.LOCAL_TIMEZONE)
    if label is None:
        return last_complete_week(now(), zone)
    try:
        return parse_week(label, zone)
    except ValueError as error:
        raise ValidationFailed(str(error), details={"fields": [{"path": "query.week", "code": "invalid_week",
                                                                "message": str(error)}]}) from None
