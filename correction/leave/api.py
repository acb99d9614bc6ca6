"""Leave endpoints for supervisees and officers."""
from __future__ import annotations

import sqlalchemy as sa
from flask import current_app, g

from ..api import Answer, ApiBlueprint, audit_filters
from ..people.access import current_principal, office_scope
from ..database import db
from ..people.models import Supervisee
from ..schemas import Page, PageQuery, paginate
from ..time import now
from . import service
from .models import LeaveRequest
from .schemas import LeaveDecisionIn, LeaveIn, LeaveOut, LeaveQuery

bp = ApiBlueprint("leave", __name__)
TARGET = ("leave_request", "leave_id")


@bp.operation("POST", "/me/leave-requests", summary="Ask for leave to travel (请假外出)", body=LeaveIn,
              response=LeaveOut, status=201, also=(200,), auth="supervisee")
def request_leave(body: LeaveIn):
    """201 with the new request; 200 with the first one when the same request is sent again."""
    person = db.session.get(Supervisee, current_principal().id)
    leave, created = service.request_leave(db.session, current_app.config["SETTINGS"], person, body.model_dump(),
                                           now())
    return Answer(leave, 201 if created else 200)


@bp.operation("GET", "/me/leave-requests", summary="Your leave requests, newest first", query=PageQuery,
              response=Page[LeaveOut], auth="supervisee")
def my_leave(query: PageQuery):
    stmt = sa.select(LeaveRequest).where(LeaveRequest.supervisee_id == current_principal().id)
    return paginate(db.session, stmt, LeaveRequest.id, query, descending=True)


@bp.operation("GET", "/leave-requests", summary="Leave requests in your scope, newest first",
              query=LeaveQuery, response=Page[LeaveOut], auth="officer", audit="leave.list")
def list_leave(query: LeaveQuery):
    audit_filters(query)
    stmt = sa.select(LeaveRequest).where(office_scope(current_principal(), LeaveRequest.office_id))
    if query.status:
        stmt = stmt.where(LeaveRequest.status == query.status)
    if query.supervisee_id:
        stmt = stmt.where(LeaveRequest.supervisee_id == query.supervisee_id)
    return paginate(db.session, stmt, LeaveRequest.id, query, descending=True)


@bp.operation("POST", "/leave-requests/<id:leave_id>/approve", summary="Approve a leave request",
              body=LeaveDecisionIn, response=LeaveOut, auth="officer", audit="leave.approve",
              audit_target=TARGET, errors=(409,))
def approve_leave(leave_id: int, body: LeaveDecisionIn):
    leave = service.decide(db.session, current_app.config["SETTINGS"], current_principal(), leave_id, approve=True,
                           note=body.note, now=now(), area=body.destination_geometry)
    if body.destination_geometry is not None:
        g.audit.details = service.AREA_SET_AT_APPROVAL
    return leave


@bp.operation("POST", "/leave-requests/<id:leave_id>/reject", summary="Reject a leave request",
              body=LeaveDecisionIn, response=LeaveOut, auth="officer", audit="leave.reject",
              audit_target=TARGET, errors=(409,))
def reject_leave(leave_id: int, body: LeaveDecisionIn):
    return service.decide(db.session, current_app.config["SETTINGS"], current_principal(), leave_id, approve=False,
                          note=body.note, now=now())
