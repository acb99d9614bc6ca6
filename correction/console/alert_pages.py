"""The alert queue: the officer's working list, one alert with its evidence, acknowledge and resolve.

The same services as ``/api/v1/alerts`` (``alerts.workflow``), with the same scope, audit actions
and unit of work. The open queue asks for its rows again every ``CONSOLE_POLL_SECONDS``; those
polls neither count as the officer's activity (the idle lock still comes) nor fill the audit
trail (the page they refresh was audited when it was opened).
"""
from __future__ import annotations

from flask import current_app, g, render_template, request, url_for

from ..alerts import workflow
from ..alerts.models import ALERT_TYPES, OUTCOMES, SEVERITIES, STATUSES
from ..alerts.schemas import AlertQuery, ResolveIn
from ..api import audit_filters
from ..database import db
from ..people.access import current_principal
from ..time import local_zone, now
from . import queries
from .blueprint import bp
from .forms import form_of, query_of
from .web import see_other

PAGE_SIZE = 50


def _queue(query: AlertQuery) -> dict:
    """The page of alerts ``query`` asks for; without a state, the unresolved ones (the working list)."""
    principal = current_principal()
    filters = query.model_dump(exclude={"limit", "cursor"})
    filters["unresolved"] = query.status is None
    page = workflow.queue(db.session, principal, filters, PAGE_SIZE, query.cursor)
    names = queries.supervisee_names(db.session, principal, {a.supervisee_id for a in page["items"]})
    return {"alerts": page["items"], "next_cursor": page["next_cursor"], "names": names}


def _filters() -> AlertQuery:
    """The queue's filters from the query string (an empty choice is no filter)."""
    return query_of(AlertQuery)


@bp.page("GET", "/alerts", audit="alert.list")
def alerts():
    """The alert queue: unresolved first, oldest first; new alerts appear by themselves."""
    query = _filters()
    audit_filters(query)
    principal = current_principal()
    settings = current_app.config["SETTINGS"]
    chosen = {name: value for name, value in request.args.items() if value and name != "cursor"}
    page = _queue(query)
    more_url = url_for("console.alerts", **chosen, cursor=page["next_cursor"]) if page["next_cursor"] else None
    return render_template(
        "alerts.html", **page, more_url=more_url, query=query, types=ALERT_TYPES, severities=SEVERITIES, states=STATUSES,
        supervisees=queries.supervisee_choices(db.session, principal),
        offices=queries.office_choices(db.session, principal), poll_seconds=settings.CONSOLE_POLL_SECONDS,
        rows_url=url_for("console.alert_rows", **chosen))


@bp.page("GET", "/alerts/rows", touch=False)
def alert_rows():
    """The queue's rows again, for the open page's poll."""
    return render_template("_alert_rows.html", **_queue(_filters()))


@bp.page("GET", "/alerts/<id:alert_id>", audit="alert.read", audit_target=("alert", "alert_id"))
def alert(alert_id: int):
    """One alert: what happened, the evidence on a map, the explanation, the ladder's suggestion."""
    settings = current_app.config["SETTINGS"]
    principal = current_principal()
    found = workflow.alert_in_scope(db.session, principal, alert_id)
    return render_template(
        "alert.html", alert=found, name=queries.supervisee_names(db.session, principal, {found.supervisee_id}).get(
            found.supervisee_id, ""), office=queries.office_name(db.session, found.office_id),
        points=queries.evidence_points(found), facts=queries.evidence_facts(found),
        contact=workflow.out_of_contact(settings, found, now()), outcomes=OUTCOMES,
        articles=settings.SANCTION_ARTICLES, tile_url=settings.MAP_TILE_URL,
        alert_day=found.raised_at.astimezone(local_zone()).date().isoformat())


@bp.page("POST", "/alerts/<id:alert_id>/acknowledge", audit="alert.acknowledge", audit_target=("alert", "alert_id"))
def acknowledge(alert_id: int):
    """Take an open alert."""
    workflow.acknowledge(db.session, current_principal(), alert_id, now())
    return see_other(url_for("console.alert", alert_id=alert_id))


@bp.page("POST", "/alerts/<id:alert_id>/resolve", audit="alert.resolve", audit_target=("alert", "alert_id"))
def resolve(alert_id: int):
    """Close an alert with the outcome the officer chose and a note; back to the queue."""
    body = form_of(ResolveIn, {"outcome": request.form.get("outcome", ""), "note": request.form.get("note", "")})
    g.audit.details = {"outcome": body.outcome}
    workflow.resolve(db.session, current_app.config["SETTINGS"], current_principal(), alert_id,
                     outcome=body.outcome, note=body.note, now=now())
    return see_other(url_for("console.alerts"))
