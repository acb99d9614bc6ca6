"""Leave approvals: the requests in scope, the tier rule each falls under, approve or reject.

The same service as ``/api/v1/leave-requests/<id>/approve|reject`` (``leave.service.decide``), with
the same scope, audit actions and refusals; the page says beforehand which rule applies and whether
the reader may decide, and the service still decides.
"""
from __future__ import annotations

from flask import current_app, g, render_template, request, url_for
from pydantic import BaseModel, ConfigDict, Field

from ..database import db
from ..errors import ValidationFailed
from ..leave import service
from ..leave.models import LEAVE_STATUSES
from ..leave.schemas import LeaveDecisionIn, LeaveStatus
from ..locations import zones
from ..people.access import current_principal
from ..people.service import get_supervisee
from ..schemas import Id
from ..time import now
from . import queries
from .blueprint import bp
from .forms import form_of, query_of
from .map_pages import geometry_field, map_data
from .web import see_other

PAGE_SIZE = 50
TARGET = ("leave_request", "leave_id")


class LeaveFilters(BaseModel):
    """The list's filters, from the query string."""

    model_config = ConfigDict(extra="forbid")
    status: LeaveStatus | None = None
    supervisee_id: Id | None = None
    office_id: Id | None = None
    page: int = Field(default=1, ge=1, le=10_000)


@bp.page("GET", "/leave", audit="leave.list")
def leave_requests():
    """The leave requests in scope: pending first, oldest first, each with the rule that decides it."""
    query = query_of(LeaveFilters)
    g.audit.details = query.model_dump(exclude_none=True, exclude={"page"})
    principal = current_principal()
    rows = service.for_review(db.session, principal, **query.model_dump(exclude={"page"}),
                              limit=PAGE_SIZE + 1, offset=(query.page - 1) * PAGE_SIZE)
    chosen = {name: value for name, value in request.args.items() if value and name != "page"}
    more_url = url_for("console.leave_requests", **chosen, page=query.page + 1) if len(rows) > PAGE_SIZE else None
    rows = rows[:PAGE_SIZE]
    return render_template(
        "leave.html", requests=rows, query=query, states=LEAVE_STATUSES, more_url=more_url,
        may_decide={leave.id: service.may_decide(principal, leave) for leave in rows},
        names=queries.supervisee_names(db.session, principal, {leave.supervisee_id for leave in rows}),
        supervisees=queries.supervisee_choices(db.session, principal),
        offices=queries.office_choices(db.session, principal), settings=current_app.config["SETTINGS"])


def _decide(leave_id: int, approve: bool):
    note = request.form.get("note", "").strip()
    if not approve and not note:  # the supervisee is told why; the API leaves it to the caller
        raise ValidationFailed(details={"fields": [{"path": "note", "code": "missing", "message": "a reason"}]})
    fields = {"note": note} if note else {}
    if approve and "geometry" in request.form:  # the area drawn on the approve page
        fields["destination_geometry"] = geometry_field(request.form["geometry"])
    body = form_of(LeaveDecisionIn, fields)
    service.decide(db.session, current_app.config["SETTINGS"], current_principal(), leave_id, approve=approve,
                   note=body.note, now=now(), area=body.destination_geometry)
    if body.destination_geometry is not None:
        g.audit.details = service.AREA_SET_AT_APPROVAL
    return see_other(url_for("console.leave_requests"))


@bp.page("GET", "/leave/<id:leave_id>/approve", audit="leave.read", audit_target=TARGET)
def approve_leave_page(leave_id: int):
    """Approve a request asked without a destination area: the officer draws the area on the map."""
    leave = service.leave_in_scope(db.session, current_principal(), leave_id)
    person = get_supervisee(db.session, current_principal(), leave.supervisee_id)
    return render_template(
        "leave_approve.html", leave=leave, supervisee=person,
        may_decide=leave.status == "pending" and service.may_decide(current_principal(), leave),
        map_data=map_data(tile_url=current_app.config["SETTINGS"].MAP_TILE_URL,
                          zone_rows=zones.active_for(db.session, person.id),
                          stations=queries.office_stations(db.session, person.office_id)))


@bp.page("POST", "/leave/<id:leave_id>/approve", audit="leave.approve", audit_target=TARGET)
def approve_leave(leave_id: int):
    """Approve a pending request (its destination, or the area drawn for it, becomes a permitted area while it runs)."""
    return _decide(leave_id, approve=True)


@bp.page("POST", "/leave/<id:leave_id>/reject", audit="leave.reject", audit_target=TARGET)
def reject_leave(leave_id: int):
    """Reject a pending request, with the reason the supervisee is told."""
    return _decide(leave_id, approve=False)
