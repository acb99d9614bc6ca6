"""The alert queue for officers, and the supervisee's answers to their own alerts."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g

from ..api import ApiBlueprint, audit_filters
from ..people.access import current_principal
from ..database import db
from ..time import now
from . import workflow
from .models import Alert
from .schemas import (AlertOut, AlertPage, AlertQuery, ExplainIn, MyAlertList, MyAlertOut, OutOfContact,
                      ResolveIn)

bp = ApiBlueprint("alerts", __name__)
TARGET = ("alert", "alert_id")


def _shaped(alert: Alert) -> AlertOut:
    contact = workflow.out_of_contact(current_app.config["SETTINGS"], alert, now())
    return AlertOut.model_validate(alert).model_copy(
        update={"out_of_contact": OutOfContact(**contact) if contact else None})


@bp.operation("GET", "/alerts", summary="The alert queue: open first, oldest first", query=AlertQuery,
              response=AlertPage, auth="officer", audit="alert.list")
def list_alerts(query: AlertQuery):
    filters = query.model_dump(exclude={"limit", "cursor"})
    audit_filters(query)
    page = workflow.queue(db.session, current_principal(), filters, query.limit, query.cursor)
    return {"items": [_shaped(a) for a in page["items"]], "next_cursor": page["next_cursor"]}


@bp.operation("GET", "/alerts/<id:alert_id>", summary="One alert", response=AlertOut, auth="officer",
              audit="alert.read", audit_target=TARGET)
def get_alert(alert_id: int):
    return _shaped(workflow.alert_in_scope(db.session, current_principal(), alert_id))


@bp.operation("POST", "/alerts/<id:alert_id>/acknowledge", summary="Acknowledge an open alert",
              response=AlertOut, auth="officer", audit="alert.acknowledge", audit_target=TARGET, errors=(409,))
def acknowledge_alert(alert_id: int):
    return _shaped(workflow.acknowledge(db.session, current_principal(), alert_id, now()))


@bp.operation("POST", "/alerts/<id:alert_id>/resolve", summary="Resolve an alert with an outcome and a note",
              body=ResolveIn, response=AlertOut, auth="officer", audit="alert.resolve", audit_target=TARGET,
              errors=(409,))
def resolve_alert(alert_id: int, body: ResolveIn):
    g.audit.details = {"outcome": body.outcome}
    return _shaped(workflow.resolve(db.session, current_app.config["SETTINGS"], current_principal(), alert_id,
                                    outcome=body.outcome, note=body.note, now=now()))


@bp.operation("GET", "/me/alerts", summary="Your unresolved alerts that you can explain",
              response=MyAlertList, auth="supervisee")
def my_alerts():
    rows = db.session.execute(sa.select(Alert).where(
        Alert.supervisee_id == current_principal().id, Alert.status != "resolved",
        Alert.type.in_(workflow.ASKS_SUPERVISEE)).order_by(Alert.raised_at.desc())).scalars()
    return {"items": list(rows)}


@bp.operation("POST", "/me/alerts/<id:alert_id>/explanation", summary="Explain an alert (e.g. the phone broke)",
              body=ExplainIn, response=MyAlertOut, auth="supervisee", errors=(409,))
def explain_alert(alert_id: int, body: ExplainIn):
    return workflow.explain(db.session, current_principal().id, alert_id, body.explanation, now())
