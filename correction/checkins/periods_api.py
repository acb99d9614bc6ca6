"""Periods of stepped-up supervision (临时加强监管): declare, read, cancel."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g

from ..api import ApiBlueprint
from ..database import db
from ..people.access import current_principal
from ..schemas import Page, PageQuery, paginate
from ..time import now
from . import periods
from .models import SupervisionPeriod
from .schemas import PeriodCancelIn, PeriodIn, PeriodOut

bp = ApiBlueprint("supervision_periods", __name__)


def _settings():
    return current_app.config["SETTINGS"]


@bp.operation("POST", "/supervision-periods", summary="Declare a period of stepped-up supervision (supervisors)",
              body=PeriodIn, response=PeriodOut, status=201, auth="officer", audit="supervision_period.declare",
              errors=(403,))
def declare_period(body: PeriodIn):
    draft = periods.PeriodDraft(**body.model_dump(exclude={"windows"}), windows=[w.model_dump() for w in body.windows])
    period = periods.declare(db.session, _settings(), current_principal(), draft, now())
    (shown,) = periods.describe(db.session, _settings(), [period], now(), count=True)
    g.audit.target_type, g.audit.target_id = "supervision_period", period.id
    g.audit.details = {"before": None, "after": periods.audit_view(period, shown["office_ids"])}
    return shown


@bp.operation("GET", "/supervision-periods", summary="Periods of stepped-up supervision you are concerned by",
              query=PageQuery, response=Page[PeriodOut], auth="officer")
def list_periods(query: PageQuery):
    stmt = sa.select(SupervisionPeriod).where(periods.visible_to(current_principal()))
    page = paginate(db.session, stmt, SupervisionPeriod.id, query, descending=True)
    return {"items": periods.describe(db.session, _settings(), page["items"], now()),
            "next_cursor": page["next_cursor"]}


@bp.operation("GET", "/supervision-periods/<id:period_id>", summary="One period, with how many people it covers",
              response=PeriodOut, auth="officer")
def get_period(period_id: int):
    period = periods.period_in_scope(db.session, current_principal(), period_id)
    return periods.describe(db.session, _settings(), [period], now(), count=True)[0]


@bp.operation("POST", "/supervision-periods/<id:period_id>/cancel", summary="End a period early, from now",
              body=PeriodCancelIn, response=PeriodOut, auth="officer", audit="supervision_period.cancel",
              audit_target=("supervision_period", "period_id"), errors=(403, 409))
def cancel_period(period_id: int, body: PeriodCancelIn):
    before = periods.audit_view(periods.period_in_scope(db.session, current_principal(), period_id))
    period = periods.cancel(db.session, _settings(), current_principal(), period_id, body.reason, now())
    g.audit.details = {"before": before, "after": periods.audit_view(period)}
    return periods.describe(db.session, _settings(), [period], now(), count=True)[0]
