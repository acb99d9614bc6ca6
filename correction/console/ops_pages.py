"""Supervisors' pages: the scheduler's jobs and the audit trail (404 to an office's officers).

The same readers as ``GET /api/v1/jobs`` (``jobs.api.job_statuses``) and ``GET /api/v1/audit``
(``audit.service.search`` with keyset paging), within the supervisor's bureau.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app, render_template, request, url_for

from ..audit import service as audit_service
from ..audit.api import AuditQuery
from ..audit.models import AuditEntry
from ..database import db
from ..people.access import current_principal
from ..schemas import paginate
from ..time import local_zone, now
from . import queries
from .blueprint import bp
from .forms import query_of
from jobs.api import job_statuses

AUDIT_FILTERS = ("actor_type", "actor_id", "action", "target_type", "target_id", "outcome", "since", "until")


@bp.page("GET", "/jobs", bureau_wide=True)
def jobs():
    """Each job's last run, its outcome and next run; the dispatcher's backlog and lag."""
    return render_template("jobs.html", jobs=job_statuses(db.session, current_app.config["SETTINGS"], now()))


@bp.page("GET", "/audit", bureau_wide=True)
def audit():
    """The bureau's audit trail, newest first, filtered by actor, action, target, outcome and time."""
    query = query_of(AuditQuery, _as_utc)
    principal = current_principal()
    stmt = audit_service.search(db.session, bureau_id=principal.bureau_id,
                                filters=query.model_dump(exclude={"limit", "cursor"}),
                                unattributed=principal.role == "admin")
    page = paginate(db.session, stmt, AuditEntry.id, query, descending=True)
    chosen = {name: request.args[name] for name in AUDIT_FILTERS if request.args.get(name)}
    more_url = url_for("console.audit", **chosen, limit=query.limit,
                       cursor=page["next_cursor"]) if page["next_cursor"] else None
    entries = [queries.shown_entry(entry) for entry in page["items"]]
    return render_template("audit.html", entries=entries, more_url=more_url, chosen=chosen)


def _as_utc(name: str, value: str) -> str:
    """A time picked on the page is the office's wall clock; the query takes an instant."""
    if name in ("since", "until"):
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return value  # the schema names the field
        if moment.tzinfo is None:
            return moment.replace(tzinfo=local_zone()).isoformat()
    return value
