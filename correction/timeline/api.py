"""GET /supervisees/{id}/timeline: everything that happened to a supervisee, newest first."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from ..api import ApiBlueprint
from ..people.access import current_principal
from ..database import db
from ..people.service import get_supervisee
from ..schemas import Output, PageQuery, UtcDateTime
from .service import timeline

bp = ApiBlueprint("timeline", __name__)


class TimelineQuery(PageQuery):
    since: UtcDateTime | None = Field(default=None, description="Events at or after this time.")
    until: UtcDateTime | None = Field(default=None, description="Events before this time.")


class TimelineEvent(Output):
    at: UtcDateTime
    type: Literal["checkin", "spot_check", "alert", "zone_event", "leave", "points"]
    id: int
    data: dict[str, Any]


class TimelinePage(Output):
    items: list[TimelineEvent]
    next_cursor: str | None


@bp.operation("GET", "/supervisees/<id:supervisee_id>/timeline", summary="A supervisee's events, newest first",
              query=TimelineQuery, response=TimelinePage, auth="officer", audit="supervisee.timeline",
              audit_target=("supervisee", "supervisee_id"))
def supervisee_timeline(supervisee_id: int, query: TimelineQuery):
    person = get_supervisee(db.session, current_principal(), supervisee_id)
    return timeline(db.session, person.id, query, since=query.since, until=query.until)
