"""Leave (请假外出): request, approve by length, permit the destination, close on return (销假)."""
from __future__ import annotations

import math
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from ..people.access import Principal, get_in_scope, office_scope
from ..errors import DomainError, NotFound, ValidationFailed
from ..locations.geometry import GeometryError, route_area, validate
from ..locations.models import Zone
from ..locations.zones import create_zone, end_leave_zones
from ..notifications.service import notify
from ..people.models import Supervisee
from .models import LeaveRequest


def request_leave(session, settings, person: Supervisee, data: dict[str, Any],
                  now: datetime) -> tuple[LeaveRequest, bool]:
    """File a leave request, or find the same one filed before; over LEAVE_BUREAU_MAX_DAYS days is refused.

    Returns the request and whether it was filed now.
    """
    start, end = data["start_at"], data["end_at"]
    if end <= start:
        raise _field("end_at", "before_start", "end_at must be after start_at")
    if end <= now:
        raise _field("end_at", "in_past", "the leave must end in the future")
    days = math.ceil((end - start).total_seconds() / 86400)
    if days > settings.LEAVE_BUREAU_MAX_DAYS:
        raise DomainError(f"Leave longer than {settings.LEAVE_BUREAU_MAX_DAYS} days is not allowed.",
                          status=422, code="leave_too_long", details={"days": days})
    if data.get("destination_geometry") is not None:
        _valid_area(data["destination_geometry"])
    # A retried request (the phone lost the answer) finds the first: same person, dates and place.
    session.execute(sa.select(Supervisee.id).where(Supervisee.id == person.id).with_for_update(key_share=True))
    first = session.execute(sa.select(LeaveRequest).where(
        LeaveRequest.supervisee_id == person.id, LeaveRequest.start_at == start, LeaveRequest.end_at == end,
        LeaveRequest.destination_name == data["destination_name"], LeaveRequest.reason == data["reason"],
        LeaveRequest.status.in_(("pending", "approved")))).scalars().first()
    if first is not None and first.destination_geometry == data.get("destination_geometry"):
        return first, False
    leave = LeaveRequest(supervisee_id=person.id, office_id=person.office_id,
                         destination_name=data["destination_name"],
                         destination_geometry=data.get("destination_geometry"), reason=data["reason"],
                         start_at=start, end_at=end, days=days,
                         approver_role="officer" if days <= settings.LEAVE_OFFICE_MAX_DAYS else "supervisor",
                         status="pending", created_at=now)
    session.add(leave)
    session.flush()
    return leave, True


def leave_in_scope(session, principal: Principal, leave_id: int) -> LeaveRequest:
    return get_in_scope(session, principal, LeaveRequest, leave_id,
                        not_found=NotFound("No such leave request.", code="leave_not_found"))


def may_decide(principal: Principal, leave: LeaveRequest) -> bool:
    """Whether the caller's role may decide ``leave``: the office's length, or a bureau supervisor."""
    return leave.approver_role == "officer" or principal.bureau_wide


def for_review(session, principal: Principal, *, status: str | None = None, supervisee_id: int | None = None,
               office_id: int | None = None, limit: int, offset: int = 0) -> list[LeaveRequest]:
    """The requests in the caller's scope an officer works through: pending first, oldest first."""
    stmt = sa.select(LeaveRequest).where(office_scope(principal, LeaveRequest.office_id))
    for column, value in ((LeaveRequest.status, status), (LeaveRequest.supervisee_id, supervisee_id),
                          (LeaveRequest.office_id, office_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    stmt = stmt.order_by(sa.case((LeaveRequest.status == "pending", 0), else_=1), LeaveRequest.created_at,
                         LeaveRequest.id)
    return list(session.execute(stmt.offset(offset).limit(limit)).scalars())


def decide(session, settings, principal: Principal, leave_id: int, *, approve: bool, note: str | None,
           now: datetime, area: dict[str, Any] | None = None) -> LeaveRequest:
    """Approve or reject a pending request; 8–30 days needs a bureau supervisor.

    ``area`` is the destination area the approving officer sets for a request filed without one; it is
    refused for a request that has one, so an approval that took one set it (``AREA_SET_AT_APPROVAL``).
    """
    leave = leave_in_scope(session, principal, leave_id)
    if not may_decide(principal, leave):
        raise DomainError("Leave of this length is approved by a bureau supervisor.", status=403,
                          code="bureau_approval_required")
    values = dict(status="approved" if approve else "rejected", decided_by=principal.id, decided_at=now,
                  decision_note=note)
    if approve and area is not None:
        _valid_area(area)
        if leave.destination_geometry is not None:
            raise _field("destination_geometry", "already_set", "this request already has a destination area")
    if approve and leave.destination_geometry is None:
        if _destination_purged(session, settings, leave, now):
            raise DomainError("This request's destination was deleted with old location data.", status=409,
                              code="leave_destination_purged")
        if area is None:
            raise DomainError("Set the destination area to approve this request.", status=422,
                              code="destination_area_required")
        values["destination_geometry"] = area
    claimed = session.execute(sa.update(LeaveRequest).where(LeaveRequest.id == leave.id,
                                                            LeaveRequest.status == "pending")
                              .values(**values)).rowcount
    if claimed != 1:
        raise DomainError("This request has already been decided.", status=409, code="leave_already_decided")
    session.refresh(leave)
    if approve:
        person = session.get(Supervisee, leave.supervisee_id)
        period = dict(leave_request_id=leave.id, applies_from=leave.start_at, applies_until=leave.end_at)
        create_zone(session, principal, person, kind="permitted", name=f"请假目的地 {leave.destination_name}",
                    geometry=leave.destination_geometry, now=now, **period)
        home = session.execute(sa.select(Zone.geometry).where(
            Zone.supervisee_id == person.id, Zone.kind == "permitted", Zone.active,
            Zone.leave_request_id.is_(None))).scalars().first()
        if home is not None:  # the journey there and back is permitted too
            create_zone(session, principal, person, kind="permitted", name=f"请假路线 route to {leave.destination_name}",
                        geometry=route_area(home, leave.destination_geometry), now=now, **period)
    notify(session, supervisee_id=leave.supervisee_id, kind="leave_decision",
           title="请假审批 Leave " + ("approved" if approve else "rejected"),
           body=note or ("Your leave is approved." if approve else "Your leave is rejected."), now=now,
           data={"leave_request_id": leave.id, "status": leave.status}, dedupe_key=f"leave:{leave.id}:decision")
    return leave


def close_on_return(session, person_id: int, now: datetime) -> int:
    """Close (销假) the person's approved leave that has begun, and its zones; return how many closed."""
    closed = session.execute(sa.update(LeaveRequest).where(
        LeaveRequest.supervisee_id == person_id, LeaveRequest.status == "approved",
        LeaveRequest.start_at <= now).values(status="closed", returned_at=now).returning(LeaveRequest.id)).scalars().all()
    end_leave_zones(session, list(closed), now)
    return len(closed)


# What the audit entry of an approval that set the destination area says (never the coordinates).
AREA_SET_AT_APPROVAL = {"destination_area_set_at_approval": True}


def _valid_area(area: Any) -> None:
    try:
        validate(area)
    except GeometryError as error:
        raise _field("destination_geometry", "invalid_geometry", str(error)) from None


def _destination_purged(session, settings, leave: LeaveRequest, now: datetime) -> bool:
    """Whether a request without an area lost it to retention, rather than being filed without one.

    Retention (``forget_destinations``) only ever reaches a pending request whose end is past the
    retention line, or one of a supervision that has ended; one filed without an area and still
    within both is waiting for the approving officer to draw it.
    """
    if leave.end_at < now - timedelta(days=settings.LOCATION_RETENTION_DAYS):
        return True
    return session.get(Supervisee, leave.supervisee_id).status == "ended"


def _field(path: str, code: str, message: str) -> ValidationFailed:
    return ValidationFailed(message, details={"fields": [{"path": path, "code": code, "message": message}]})


def forget_destinations(session, *, before: datetime, people: sa.Select) -> int:
    """Drop the destination area and the zones of leave over before ``before``, or of ``people``.

    The leave itself (where to by name, why, when, who decided, the return) is a supervision record
    and stays; the area drawn on the map is location data. Return the rows changed or deleted.
    """
    over = sa.or_(sa.func.coalesce(LeaveRequest.returned_at, LeaveRequest.end_at) < before,
                  LeaveRequest.supervisee_id.in_(people))
    old = sa.select(LeaveRequest.id).where(over)
    gone = session.execute(sa.delete(Zone).where(Zone.leave_request_id.in_(old))).rowcount
    gone += session.execute(sa.update(LeaveRequest).where(over, LeaveRequest.destination_geometry.is_not(None))
                            .values(destination_geometry=sa.null())).rowcount
    return gone
